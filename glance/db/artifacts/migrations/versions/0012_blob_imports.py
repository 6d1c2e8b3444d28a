"""Staged blob data and imports (Glance's interoperable import).

An upload row now says what it is (``method``): null for an upload
(``PUT`` of the data) or a copy (``copy_of`` set, migration 0011);
``stage`` while data streams to Glance's staging store; ``staged`` once
it is whole there, waiting for its import; ``glance-direct`` while the
staged data is imported; ``web-download`` while data from a URL is
imported. The staged data is described by ``location`` (in the staging
store), ``size``, ``checksum``, ``os_hash_value`` and ``content_type``,
with the column names and types of ``ga_blobs`` (an artifact's record
reads both in one UNION).

Revision ID: 0012_blob_imports
Revises: 0011_blob_copies
"""

from alembic import op
import sqlalchemy as sa

revision = '0012_blob_imports'
down_revision = '0011_blob_copies'


def upgrade():
    with op.batch_alter_table('ga_blob_uploads') as batch:
        batch.add_column(sa.Column('method', sa.String(32)))
        batch.add_column(sa.Column('location', sa.Text))
        batch.add_column(sa.Column('size', sa.BigInteger))
        batch.add_column(sa.Column('checksum', sa.String(32)))
        batch.add_column(sa.Column('os_hash_value', sa.String(128)))
        batch.add_column(sa.Column('content_type', sa.String(255)))
