"""Tables of glance-artifacts, in Glance's database.

Every name starts with ``ga_`` so that nothing here meets Glance's own
tables, nor the ``artifacts*`` tables that Glance created and dropped.
Type fields are stored as rows of ``ga_properties``: one row per scalar
value, per list item (``position``) or per dict entry (``key``), with the
value in the typed column the field declaration names.
"""

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

metadata = sa.MetaData()

# Migration 0002 moves the tables to a binary collation without space
# padding where the server has one (MariaDB utf8mb4_nopad_bin, MySQL 8
# utf8mb4_0900_bin), so that strings compare exactly, as elsewhere.
MYSQL = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4',
         'mysql_collate': 'utf8mb4_bin'}

VERSION_TABLE = 'ga_alembic_version'
# The version table of the index of Glance's images that a glance-api in
# registry mode keeps in Glance's database (index_migrations).
INDEX_VERSION_TABLE = 'ga_image_index_version'
NAME_MAX = 255
VERSION_MAX = 128
VERSION_KEY_MAX = 2 * VERSION_MAX + 16
STR_VALUE_MAX = 512
#: artifact-<uuid>
DATA_NAME_MAX = 45
#: Data names that one blob_data_used call asks about, at most.
DATA_NAMES_MAX = 10000
#: Indexes made on PostgreSQL alone (ddl_if): a like: filter's prefix.
POSTGRESQL_ONLY = frozenset(('ga_artifacts_name_pattern_idx',
                             'ga_properties_str_pattern_idx'))


def _datetime():
    # Microseconds on MySQL/MariaDB too (their DATETIME keeps whole
    # seconds), so that lists order artifacts made in one second.
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql',
                                      'mariadb')


def _fk():
    return sa.ForeignKey('ga_artifacts.id', ondelete='CASCADE')


artifacts = sa.Table(
    'ga_artifacts', metadata,
    sa.Column('id', sa.String(36), primary_key=True),
    sa.Column('type_name', sa.String(64), nullable=False),
    sa.Column('type_version', sa.String(32), nullable=False),
    sa.Column('name', sa.String(NAME_MAX), nullable=False),
    sa.Column('version', sa.String(VERSION_MAX), nullable=False),
    sa.Column('version_key', sa.String(VERSION_KEY_MAX), nullable=False),
    sa.Column('description', sa.Text),
    # '' when the creating context had no project (no-auth deployments),
    # so that the uniqueness constraint holds for them too.
    sa.Column('owner', sa.String(255), nullable=False),
    sa.Column('visibility', sa.String(32), nullable=False),
    sa.Column('status', sa.String(32), nullable=False),
    sa.Column('protected', sa.Boolean, nullable=False),
    sa.Column('created_at', _datetime(), nullable=False),
    sa.Column('updated_at', _datetime(), nullable=False),
    sa.Column('activated_at', _datetime()),
    # Moves on with every write to the artifact or what it owns; see
    # sqlalchemy_api._lock.
    sa.Column('revision', sa.Integer, nullable=False, server_default='0'),
    sa.UniqueConstraint('type_name', 'name', 'version', 'owner',
                        name='ga_artifacts_identity_uc'),
    sa.Index('ga_artifacts_name_version_idx',
             'type_name', 'name', 'version_key'),
    # Lists walk these in their order (id is always the last sort key)
    # and seek in them at a marker; see migration 0005.
    sa.Index('ga_artifacts_type_created_idx',
             'type_name', 'created_at', 'id'),
    sa.Index('ga_artifacts_type_updated_idx',
             'type_name', 'updated_at', 'id'),
    sa.Index('ga_artifacts_created_idx', 'created_at', 'id'),
    # Every type in the order of names; see migration 0009.
    sa.Index('ga_artifacts_name_idx', 'name', 'id'),
    # A project's artifacts, and those of a type in the order of their
    # names; see migration 0006.
    sa.Index('ga_artifacts_owner_name_idx',
             'owner', 'type_name', 'name', 'id'),
    # A like: filter's prefix, on PostgreSQL; see migration 0008.
    sa.Index('ga_artifacts_name_pattern_idx', 'type_name', 'name',
             postgresql_ops={'name': 'varchar_pattern_ops'}).ddl_if(
                 dialect='postgresql'),
    **MYSQL)

properties = sa.Table(
    'ga_properties', metadata,
    sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
    sa.Column('artifact_id', sa.String(36), _fk(), nullable=False),
    sa.Column('name', sa.String(64), nullable=False),
    sa.Column('position', sa.Integer),
    sa.Column('key', sa.String(255)),
    sa.Column('int_value', sa.BigInteger),
    sa.Column('num_value', sa.Float),
    sa.Column('str_value', sa.String(STR_VALUE_MAX)),
    sa.Column('text_value', sa.Text),
    sa.Column('bool_value', sa.Boolean),
    sa.Index('ga_properties_artifact_idx', 'artifact_id', 'name'),
    sa.Index('ga_properties_str_value_idx',
             'name', 'str_value', 'artifact_id'),
    sa.Index('ga_properties_int_value_idx',
             'name', 'int_value', 'artifact_id'),
    sa.Index('ga_properties_num_value_idx',
             'name', 'num_value', 'artifact_id'),
    sa.Index('ga_properties_str_pattern_idx', 'name', 'str_value',
             'artifact_id',
             postgresql_ops={'str_value': 'varchar_pattern_ops'}).ddl_if(
                 dialect='postgresql'),
    **MYSQL)

VALUE_COLUMNS = ('int_value', 'num_value', 'str_value', 'text_value',
                 'bool_value')

tags = sa.Table(
    'ga_tags', metadata,
    sa.Column('artifact_id', sa.String(36), _fk(), primary_key=True),
    sa.Column('value', sa.String(255), primary_key=True),
    sa.Index('ga_tags_value_idx', 'value'),
    **MYSQL)

artifact_metadata = sa.Table(
    'ga_metadata', metadata,
    sa.Column('artifact_id', sa.String(36), _fk(), primary_key=True),
    sa.Column('key', sa.String(255), primary_key=True),
    sa.Column('value', sa.String(255), nullable=False),
    sa.Index('ga_metadata_key_value_idx', 'key', 'value'),
    **MYSQL)

members = sa.Table(
    'ga_members', metadata,
    sa.Column('artifact_id', sa.String(36), _fk(), primary_key=True),
    sa.Column('member', sa.String(255), primary_key=True),
    sa.Column('status', sa.String(20), nullable=False),
    sa.Column('created_at', _datetime(), nullable=False),
    sa.Column('updated_at', _datetime(), nullable=False),
    sa.Index('ga_members_member_idx', 'member', 'status'),
    **MYSQL)

blobs = sa.Table(
    'ga_blobs', metadata,
    sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
    sa.Column('artifact_id', sa.String(36), _fk(), nullable=False),
    sa.Column('field', sa.String(64), nullable=False),
    # '' for a single blob, the entry name in a blob dict
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
    # The name of the data in its store, artifact-<upload id> (see
    # migration 0007), by which garbage collection finds it.
    sa.Column('data_name', sa.String(DATA_NAME_MAX)),
    # The backends (comma-separated) where the last copy of the data to
    # other stores failed, until the next copy (migration 0011).
    sa.Column('failed_stores', sa.Text),
    sa.UniqueConstraint('artifact_id', 'field', 'key',
                        name='ga_blobs_entry_uc'),
    sa.Index('ga_blobs_data_name_idx', 'data_name'),
    **MYSQL)

# An upload in progress, one per blob entry at a time (the primary key is
# what makes a second concurrent upload a 409). The data goes to the store
# under ``upload_id``; ``process`` (host:pid:start time) and
# ``heartbeat_at`` tell whether the uploader is still alive.
blob_uploads = sa.Table(
    'ga_blob_uploads', metadata,
    sa.Column('artifact_id', sa.String(36), _fk(), primary_key=True),
    sa.Column('field', sa.String(64), primary_key=True),
    sa.Column('key', sa.String(255), primary_key=True),
    sa.Column('upload_id', sa.String(36), nullable=False),
    sa.Column('backend', sa.String(255), nullable=False),
    sa.Column('process', sa.String(255), nullable=False),
    sa.Column('started_at', _datetime(), nullable=False),
    sa.Column('heartbeat_at', _datetime(), nullable=False),
    # Bytes this upload holds against its project's artifact_size_total:
    # the declared size, or what has streamed so far and a step more.
    sa.Column('reserved', sa.BigInteger, nullable=False, server_default='0'),
    # An upload that copies the blob's data to other stores instead of
    # replacing it: the data name of the data it copies, and the backends
    # it copies to after ``backend`` (comma-separated).
    sa.Column('copy_of', sa.String(DATA_NAME_MAX)),
    sa.Column('pending_stores', sa.Text),
    # What the row is (migration 0012): null for an upload or a copy;
    # 'stage' while data streams to the staging store, 'staged' once it
    # is whole there (then its location, size, digests and content type
    # are recorded), and 'glance-direct' or 'web-download' while an import
    # writes to ``backend`` and then ``pending_stores``.
    sa.Column('method', sa.String(32)),
    sa.Column('location', sa.Text),
    sa.Column('size', sa.BigInteger),
    sa.Column('checksum', sa.String(32)),
    sa.Column('os_hash_value', sa.String(128)),
    sa.Column('content_type', sa.String(255)),
    sa.Index('ga_blob_uploads_upload_idx', 'upload_id'),
    **MYSQL)

# The copies of a blob's data in stores other than the one its ga_blobs
# row records, one per backend, each named after the upload that wrote
# it (migration 0011).
blob_copies = sa.Table(
    'ga_blob_copies', metadata,
    sa.Column('artifact_id', sa.String(36), _fk(), primary_key=True),
    sa.Column('field', sa.String(64), primary_key=True),
    sa.Column('key', sa.String(255), primary_key=True),
    sa.Column('backend', sa.String(255), primary_key=True),
    sa.Column('location', sa.Text, nullable=False),
    sa.Column('data_name', sa.String(DATA_NAME_MAX), nullable=False),
    sa.Column('created_at', _datetime(), nullable=False),
    sa.Index('ga_blob_copies_data_name_idx', 'data_name'),
    **MYSQL)

# One row per project whose quotas were checked: a writer that checks and
# then uses a project's quota locks its row first, so that writers of one
# project, on any host, check one after another.
quota_locks = sa.Table(
    'ga_quota_locks', metadata,
    sa.Column('project_id', sa.String(255), primary_key=True),
    sa.Column('checks', sa.BigInteger, nullable=False, server_default='0'),
    **MYSQL)

CHILD_TABLES = (properties, tags, artifact_metadata, members, blobs,
                blob_copies, blob_uploads)

# Data of deleted artifacts and replaced blobs kept until ``delete_after``
# ([artifacts] delayed_delete), when the garbage collector deletes it.
pending_deletes = sa.Table(
    'ga_pending_deletes', metadata,
    sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
    sa.Column('backend', sa.String(255), nullable=False),
    sa.Column('location', sa.Text, nullable=False),
    sa.Column('delete_after', _datetime(), nullable=False),
    sa.Column('data_name', sa.String(DATA_NAME_MAX)),
    sa.Index('ga_pending_deletes_due_idx', 'delete_after'),
    sa.Index('ga_pending_deletes_data_name_idx', 'data_name'),
    **MYSQL)

# Glance's images by name and artifact version, which Glance's tables do
# not index: ``version=latest`` and ``sort=version`` over images walk
# these instead of computing every image's version; see
# glance.db.artifacts.image_versions and migration 0010. Nothing of an
# image but its id, name and version key.
image_versions = sa.Table(
    'ga_image_versions', metadata,
    sa.Column('image_id', sa.String(36), primary_key=True),
    sa.Column('name', sa.String(NAME_MAX)),
    sa.Column('version_key', sa.String(VERSION_KEY_MAX), nullable=False),
    sa.Index('ga_image_versions_name_idx', 'name', 'version_key',
             'image_id'),
    sa.Index('ga_image_versions_key_idx', 'version_key', 'image_id'),
    **MYSQL)

# How far ga_image_versions has read Glance's images: a first pass by id
# (``cursor_id``) until ``filled``, then by the time of their last change
# (``cursor_at``, ``cursor_id``). One row, id 1.
image_versions_state = sa.Table(
    'ga_image_versions_state', metadata,
    sa.Column('id', sa.Integer, primary_key=True, autoincrement=False),
    sa.Column('filled', sa.Boolean, nullable=False),
    sa.Column('fill_started_at', _datetime()),
    sa.Column('cursor_at', _datetime()),
    sa.Column('cursor_id', sa.String(36), nullable=False,
              server_default=''),
    **MYSQL)
