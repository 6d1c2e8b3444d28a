"""Alembic environment: runs on the connection migration.py hands over."""

from alembic import context

from glance.db.artifacts import models

connection = context.config.attributes['connection']
context.configure(connection=connection,
                  target_metadata=models.metadata,
                  version_table=models.VERSION_TABLE,
                  render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
