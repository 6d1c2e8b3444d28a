"""Blob data is found by its name: ``data_name`` on blobs and pending
deletes, and an index on the upload ids of uploads in progress.

Garbage collection lists a store in batches and asks which names of each
batch are in use; with the name of each row's data (``artifact-<upload
id>``, the last or, for RBD, next-to-last segment of its location) in an
indexed column, that is an index lookup per name instead of reading every
location of every blob for each batch. Existing rows get the name their
location holds; a row whose location holds none keeps a null name, and
garbage collection then matches it by its location (it never misses it).

Revision ID: 0007_data_names
Revises: 0006_owner_name_index
"""

import re

from alembic import op
import sqlalchemy as sa

revision = '0007_data_names'
down_revision = '0006_owner_name_index'

_NAME = re.compile('artifact-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-'
                   '[0-9a-f]{4}-[0-9a-f]{12}')
_BATCH = 1000


def data_name(location):
    """The data name of a location: its last segment, or the one before
    an RBD snapshot; None when neither is a data name."""
    for segment in reversed(location.rstrip('/').split('/')[-2:]):
        if _NAME.fullmatch(segment):
            return segment
    return None


def _backfill(table):
    t = sa.table(table, sa.column('id', sa.Integer),
                 sa.column('location', sa.Text),
                 sa.column('data_name', sa.String(45)))
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(
            sa.select(t.c.id, t.c.location)
            .where(t.c.id > last, t.c.location.is_not(None))
            .order_by(t.c.id).limit(_BATCH)).fetchall()
        if not rows:
            return
        for row in rows:
            name = data_name(row.location)
            if name is not None:
                conn.execute(t.update().where(t.c.id == row.id)
                             .values(data_name=name))
        last = rows[-1].id


def upgrade():
    for table in ('ga_blobs', 'ga_pending_deletes'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('data_name', sa.String(45)))
        _backfill(table)
        op.create_index('%s_data_name_idx' % table, table, ['data_name'])
    op.create_index('ga_blob_uploads_upload_idx', 'ga_blob_uploads',
                    ['upload_id'])
