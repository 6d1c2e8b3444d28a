"""The artifact catalog: artifacts, type-field values, tags, metadata,
members, blobs and blob uploads in progress.

Revision ID: 0001_initial
Revises:
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0001_initial'
down_revision = None

MYSQL = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4',
         'mysql_collate': 'utf8mb4_bin'}


def _datetime():
    # Microseconds on MySQL/MariaDB too (their DATETIME keeps whole
    # seconds), so that lists order artifacts made in one second.
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql',
                                      'mariadb')


def _fk():
    return sa.ForeignKey('ga_artifacts.id', ondelete='CASCADE')


def upgrade():
    op.create_table(
        'ga_artifacts',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('type_name', sa.String(64), nullable=False),
        sa.Column('type_version', sa.String(32), nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('version', sa.String(128), nullable=False),
        sa.Column('version_key', sa.String(272), nullable=False),
        sa.Column('description', sa.Text),
        sa.Column('owner', sa.String(255), nullable=False),
        sa.Column('visibility', sa.String(32), nullable=False),
        sa.Column('status', sa.String(32), nullable=False),
        sa.Column('protected', sa.Boolean, nullable=False),
        sa.Column('created_at', _datetime(), nullable=False),
        sa.Column('updated_at', _datetime(), nullable=False),
        sa.Column('activated_at', _datetime()),
        sa.UniqueConstraint('type_name', 'name', 'version', 'owner',
                            name='ga_artifacts_identity_uc'),
        **MYSQL)
    op.create_index('ga_artifacts_name_version_idx', 'ga_artifacts',
                    ['type_name', 'name', 'version_key'])
    op.create_index('ga_artifacts_created_idx', 'ga_artifacts',
                    ['type_name', 'created_at'])
    op.create_index('ga_artifacts_updated_idx', 'ga_artifacts',
                    ['type_name', 'updated_at'])
    op.create_index('ga_artifacts_owner_idx', 'ga_artifacts', ['owner'])
    op.create_index('ga_artifacts_visibility_idx', 'ga_artifacts',
                    ['visibility'])
    op.create_index('ga_artifacts_status_idx', 'ga_artifacts', ['status'])

    op.create_table(
        'ga_properties',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('artifact_id', sa.String(36), _fk(), nullable=False),
        sa.Column('name', sa.String(64), nullable=False),
        sa.Column('position', sa.Integer),
        sa.Column('key', sa.String(255)),
        sa.Column('int_value', sa.BigInteger),
        sa.Column('num_value', sa.Float),
        sa.Column('str_value', sa.String(512)),
        sa.Column('text_value', sa.Text),
        sa.Column('bool_value', sa.Boolean),
        **MYSQL)
    op.create_index('ga_properties_artifact_idx', 'ga_properties',
                    ['artifact_id', 'name'])
    op.create_index('ga_properties_str_idx', 'ga_properties',
                    ['name', 'str_value'])
    op.create_index('ga_properties_int_idx', 'ga_properties',
                    ['name', 'int_value'])
    op.create_index('ga_properties_num_idx', 'ga_properties',
                    ['name', 'num_value'])

    op.create_table(
        'ga_tags',
        sa.Column('artifact_id', sa.String(36), _fk(), primary_key=True),
        sa.Column('value', sa.String(255), primary_key=True),
        **MYSQL)
    op.create_index('ga_tags_value_idx', 'ga_tags', ['value'])

    op.create_table(
        'ga_metadata',
        sa.Column('artifact_id', sa.String(36), _fk(), primary_key=True),
        sa.Column('key', sa.String(255), primary_key=True),
        sa.Column('value', sa.String(255), nullable=False),
        **MYSQL)
    op.create_index('ga_metadata_key_value_idx', 'ga_metadata',
                    ['key', 'value'])

    op.create_table(
        'ga_members',
        sa.Column('artifact_id', sa.String(36), _fk(), primary_key=True),
        sa.Column('member', sa.String(255), primary_key=True),
        sa.Column('status', sa.String(20), nullable=False),
        sa.Column('created_at', _datetime(), nullable=False),
        sa.Column('updated_at', _datetime(), nullable=False),
        **MYSQL)
    op.create_index('ga_members_member_idx', 'ga_members',
                    ['member', 'status'])

    op.create_table(
        'ga_blobs',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('artifact_id', sa.String(36), _fk(), nullable=False),
        sa.Column('field', sa.String(64), nullable=False),
        sa.Column('key', sa.String(255), nullable=False),
        sa.Column('status', sa.String(32), nullable=False),
        sa.Column('size', sa.BigInteger),
        sa.Column('checksum', sa.String(32)),
        sa.Column('os_hash_algo', sa.String(64)),
        sa.Column('os_hash_value', sa.String(128)),
        sa.Column('content_type', sa.String(255)),
        sa.Column('location', sa.Text),
        sa.Column('backend', sa.String(255)),
        sa.Column('created_at', _datetime(), nullable=False),
        sa.Column('updated_at', _datetime(), nullable=False),
        sa.UniqueConstraint('artifact_id', 'field', 'key',
                            name='ga_blobs_entry_uc'),
        **MYSQL)

    op.create_table(
        'ga_blob_uploads',
        sa.Column('artifact_id', sa.String(36), _fk(), primary_key=True),
        sa.Column('field', sa.String(64), primary_key=True),
        sa.Column('key', sa.String(255), primary_key=True),
        sa.Column('upload_id', sa.String(36), nullable=False),
        sa.Column('backend', sa.String(255), nullable=False),
        sa.Column('process', sa.String(255), nullable=False),
        sa.Column('started_at', _datetime(), nullable=False),
        sa.Column('heartbeat_at', _datetime(), nullable=False),
        **MYSQL)
