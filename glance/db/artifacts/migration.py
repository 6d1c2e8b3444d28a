"""Applying glance-artifacts' Alembic migrations.

Our revisions live in glance/db/artifacts/migrations and are tracked in a
version table of our own (ga_alembic_version), apart from Glance's.
"""

import os

from alembic import command
from alembic import config as alembic_config
from alembic import migration
from alembic import script

from glance.db.artifacts import models

SCRIPT_LOCATION = os.path.join(os.path.dirname(__file__), 'migrations')


def _config(connection):
    cfg = alembic_config.Config()
    cfg.set_main_option('script_location', SCRIPT_LOCATION)
    cfg.attributes['connection'] = connection
    return cfg


def upgrade(engine, revision='head'):
    """Bring the schema of ``engine`` to ``revision``; idempotent."""
    with engine.begin() as connection:
        command.upgrade(_config(connection), revision)


def current(engine):
    """The applied revision, or None on an empty database."""
    with engine.connect() as connection:
        ctx = migration.MigrationContext.configure(
            connection, opts={'version_table': models.VERSION_TABLE})
        return ctx.get_current_revision()


def head():
    return script.ScriptDirectory(SCRIPT_LOCATION).get_current_head()
