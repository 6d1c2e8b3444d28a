"""On PostgreSQL, indexes that a like: filter's prefix can walk.

``name=like:web-%`` (and a like: filter on a type's string field) starts
with a prefix, and SQLite and MariaDB seek it in the indexes that
equality uses: their columns of ours compare bytes. PostgreSQL uses a
btree index for LIKE only when its operator class compares bytes, which
the ordinary one does only in a database whose collation is C; so there,
(type_name, name) and (name, str_value, artifact_id) get an index of
their own with varchar_pattern_ops. The other databases get nothing.

Revision ID: 0008_pattern_indexes
Revises: 0007_data_names
"""

from alembic import op

revision = '0008_pattern_indexes'
down_revision = '0007_data_names'


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.create_index('ga_artifacts_name_pattern_idx', 'ga_artifacts',
                    ['type_name', 'name'],
                    postgresql_ops={'name': 'varchar_pattern_ops'})
    op.create_index('ga_properties_str_pattern_idx', 'ga_properties',
                    ['name', 'str_value', 'artifact_id'],
                    postgresql_ops={'str_value': 'varchar_pattern_ops'})
