"""Applying glance-artifacts' Alembic migrations.

Our revisions live in glance/db/artifacts/migrations and are tracked in a
version table of our own (ga_alembic_version), apart from Glance's.

In registry mode, glance-api's database (Glance's) holds none of the
artifacts' tables, only the index of Glance's images by version that
glance-api keeps beside them: its revisions live in
glance/db/artifacts/index_migrations, tracked in ga_image_index_version.
"""

import os

from alembic import command
from alembic import config as alembic_config
from alembic import migration
from alembic import script

from glance.db.artifacts import models

SCRIPT_LOCATION = os.path.join(os.path.dirname(__file__), 'migrations')
INDEX_SCRIPT_LOCATION = os.path.join(os.path.dirname(__file__),
                                     'index_migrations')


def _config(connection, location=SCRIPT_LOCATION):
    cfg = alembic_config.Config()
    cfg.set_main_option('script_location', location)
    cfg.attributes['connection'] = connection
    return cfg


def upgrade(engine, revision='head'):
    """Bring the schema of ``engine`` to ``revision``; idempotent. On
    SQLite, then give the planner the statistics of a large catalog."""
    with engine.begin() as connection:
        command.upgrade(_config(connection), revision)
        if connection.dialect.name == 'sqlite':
            _sqlite_statistics(connection)


# SQLite's planner knows nothing of a table's contents until ANALYZE
# writes sqlite_stat1, and then what it knows is the size of the catalog
# on that day: on a new catalog it may pick an index that is fine for ten
# artifacts and reads a whole type's rows for a million. So the planner
# is told the shape of a large catalog instead, as SQLite's documentation
# allows ("fixed results of ANALYZE"): the rows of each table, and for
# each index the rows that share a value of its first column, of its
# first two, and so on. The plans it makes then are those that walk an
# order index and stop after a page. MariaDB and PostgreSQL keep real
# statistics of their own.
LARGE_CATALOG = {
    'ga_artifacts': (1000000, {
        ('id',): [1],
        ('type_name', 'name', 'version', 'owner'): [100000, 6, 2, 1],
        ('type_name', 'name', 'version_key'): [100000, 6, 2],
        ('type_name', 'created_at', 'id'): [100000, 1, 1],
        ('type_name', 'updated_at', 'id'): [100000, 1, 1],
        ('created_at', 'id'): [1, 1],
        ('name', 'id'): [10, 1],
        ('owner', 'type_name', 'name', 'id'): [1000, 250, 3, 1]}),
    'ga_properties': (5000000, {
        ('artifact_id', 'name'): [5, 2],
        ('name', 'str_value', 'artifact_id'): [500000, 10, 1],
        ('name', 'int_value', 'artifact_id'): [500000, 10, 1],
        ('name', 'num_value', 'artifact_id'): [500000, 10, 1]}),
    'ga_tags': (3000000, {
        ('artifact_id', 'value'): [3, 1],
        ('value',): [1000]}),
    'ga_metadata': (1000000, {
        ('artifact_id', 'key'): [3, 1],
        ('key', 'value'): [10000, 10]}),
    'ga_members': (100000, {
        ('artifact_id', 'member'): [2, 1],
        ('member', 'status'): [100, 50]}),
    'ga_image_versions': (1000000, {
        ('image_id',): [1],
        ('name', 'version_key', 'image_id'): [10, 2, 1],
        ('version_key', 'image_id'): [1000, 1]}),
    'ga_blobs': (1000000, {
        ('artifact_id', 'field', 'key'): [1, 1, 1],
        ('data_name',): [1]}),
    'ga_blob_copies': (100000, {
        ('artifact_id', 'field', 'key', 'backend'): [1, 1, 1, 1],
        ('data_name',): [1]}),
}


def _sqlite_statistics(connection):
    connection.exec_driver_sql('ANALYZE sqlite_master')    # makes the table
    for table, (rows, indexes) in LARGE_CATALOG.items():
        connection.exec_driver_sql(
            'DELETE FROM sqlite_stat1 WHERE tbl = ?', (table,))
        for index in connection.exec_driver_sql(
                'PRAGMA index_list(%s)' % table).fetchall():
            columns = tuple(r[2] for r in connection.exec_driver_sql(
                'PRAGMA index_info(%s)' % index[1]))
            if columns in indexes:
                connection.exec_driver_sql(
                    'INSERT INTO sqlite_stat1 VALUES (?, ?, ?)',
                    (table, index[1],
                     ' '.join(map(str, [rows] + indexes[columns]))))
    connection.exec_driver_sql('ANALYZE sqlite_master')    # reloads them


def upgrade_image_index(engine):
    """Bring the index of Glance's images in Glance's database (registry
    mode) to its head; idempotent."""
    with engine.begin() as connection:
        command.upgrade(_config(connection, INDEX_SCRIPT_LOCATION), 'head')
        if connection.dialect.name == 'sqlite':
            _sqlite_statistics(connection)


def current(engine, version_table=models.VERSION_TABLE):
    """The applied revision, or None on an empty database."""
    with engine.connect() as connection:
        ctx = migration.MigrationContext.configure(
            connection, opts={'version_table': version_table})
        return ctx.get_current_revision()


def head():
    return script.ScriptDirectory(SCRIPT_LOCATION).get_current_head()
