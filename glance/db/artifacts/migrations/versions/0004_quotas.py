"""Quotas: the bytes each upload in progress reserves, and one row per
project that writers checking its quotas lock.

Revision ID: 0004_quotas
Revises: 0003_pending_deletes
"""

from alembic import op
import sqlalchemy as sa

revision = '0004_quotas'
down_revision = '0003_pending_deletes'


MYSQL = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4',
         'mysql_collate': 'utf8mb4_bin'}


def upgrade():
    op.add_column('ga_blob_uploads',
                  sa.Column('reserved', sa.BigInteger, nullable=False,
                            server_default='0'))
    op.create_table(
        'ga_quota_locks',
        sa.Column('project_id', sa.String(255), primary_key=True),
        sa.Column('checks', sa.BigInteger, nullable=False,
                  server_default='0'),
        **MYSQL)
