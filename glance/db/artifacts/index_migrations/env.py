"""Alembic environment of the index of Glance's images that glance-api
keeps in Glance's database in registry mode: runs on the connection
migration.py hands over."""

from alembic import context

from glance.db.artifacts import models

connection = context.config.attributes['connection']
context.configure(connection=connection,
                  target_metadata=models.metadata,
                  version_table=models.INDEX_VERSION_TABLE,
                  render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
