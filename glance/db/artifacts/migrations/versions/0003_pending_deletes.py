"""Data of deleted artifacts and replaced blobs, kept for later deletion
when [artifacts] delayed_delete is on.

Revision ID: 0003_pending_deletes
Revises: 0002_revision_nopad
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0003_pending_deletes'
down_revision = '0002_revision_nopad'


MYSQL = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4',
         'mysql_collate': 'utf8mb4_bin'}


def upgrade():
    op.create_table(
        'ga_pending_deletes',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('backend', sa.String(255), nullable=False),
        sa.Column('location', sa.Text, nullable=False),
        sa.Column('delete_after', sa.DateTime().with_variant(
            mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
        **MYSQL)
    op.create_index('ga_pending_deletes_due_idx', 'ga_pending_deletes',
                    ['delete_after'])
