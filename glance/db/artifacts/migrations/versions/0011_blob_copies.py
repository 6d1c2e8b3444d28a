"""Several stores per blob: copies of a blob's data in other backends,
and uploads that copy a blob's data instead of replacing it.

``ga_blob_copies`` holds the copies of a blob's data beyond the one its
``ga_blobs`` row records (the blob's first store), one per backend; an
upload with ``copy_of`` (the data name of the blob's data it copies)
writes a copy to its backend and then to each of ``pending_stores``
(comma-separated); ``ga_blobs.failed_stores`` names the backends where
the blob's last copy failed, as an image's ``os_glance_failed_import``.

Revision ID: 0011_blob_copies
Revises: 0010_image_versions
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0011_blob_copies'
down_revision = '0010_image_versions'

MYSQL = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4',
         'mysql_collate': 'utf8mb4_bin'}
# As 0002 moved the tables whose rows an artifact's record reads (in one
# UNION, whose columns must share a collation) to them.
NOPAD_COLLATIONS = ('utf8mb4_nopad_bin', 'utf8mb4_0900_bin')


def _mysql_options(bind):
    options = dict(MYSQL)
    if bind.dialect.name in ('mysql', 'mariadb'):
        for name in NOPAD_COLLATIONS:
            if bind.execute(sa.text('SHOW COLLATION LIKE :n'),
                            {'n': name}).first() is not None:
                options['mysql_collate'] = name
                break
    return options


def upgrade():
    op.create_table(
        'ga_blob_copies',
        # The artifact ids of every table keep utf8mb4_bin (0002), which
        # the foreign key needs.
        sa.Column('artifact_id', sa.String(36).with_variant(
            mysql.VARCHAR(36, collation='utf8mb4_bin'), 'mysql', 'mariadb'),
                  sa.ForeignKey('ga_artifacts.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('field', sa.String(64), primary_key=True),
        sa.Column('key', sa.String(255), primary_key=True),
        sa.Column('backend', sa.String(255), primary_key=True),
        sa.Column('location', sa.Text, nullable=False),
        sa.Column('data_name', sa.String(45), nullable=False),
        sa.Column('created_at', sa.DateTime().with_variant(
            mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
        **_mysql_options(op.get_bind()))
    op.create_index('ga_blob_copies_data_name_idx', 'ga_blob_copies',
                    ['data_name'])
    with op.batch_alter_table('ga_blob_uploads') as batch:
        batch.add_column(sa.Column('copy_of', sa.String(45)))
        batch.add_column(sa.Column('pending_stores', sa.Text))
    with op.batch_alter_table('ga_blobs') as batch:
        batch.add_column(sa.Column('failed_stores', sa.Text))
