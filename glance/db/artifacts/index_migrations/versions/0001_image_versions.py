"""The index of Glance's images by name and version in Glance's own
database, for a glance-api in registry mode.

In registry mode the artifacts' tables are in the registry's database,
which glance-api cannot read, while Glance's images are in Glance's, which
the registry cannot read. The index of images by version
(glance.db.artifacts.image_versions) is joined to Glance's ``images``, so
it lives beside them: these are the same two tables as the artifacts'
migration 0010 makes (in direct mode both databases are one, and 0010 has
made them already: they are left as they are). Nothing of an artifact is
kept here.

Revision ID: 0001_image_versions
Revises:
"""

from alembic import op
import sqlalchemy as sa

revision = '0001_image_versions'
down_revision = None

MYSQL = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4',
         'mysql_collate': 'utf8mb4_bin'}
# As the artifacts' migration 0002: names compare exactly, without space
# padding.
NOPAD_COLLATIONS = ('utf8mb4_nopad_bin', 'utf8mb4_0900_bin')


def _datetime():
    return sa.DateTime().with_variant(sa.dialects.mysql.DATETIME(fsp=6),
                                      'mysql', 'mariadb')


def upgrade():
    bind = op.get_bind()
    if sa.inspect(bind).has_table('ga_image_versions'):
        return      # made by the artifacts' migration 0010 (direct mode)
    op.create_table(
        'ga_image_versions',
        sa.Column('image_id', sa.String(36), primary_key=True),
        sa.Column('name', sa.String(255)),
        sa.Column('version_key', sa.String(272), nullable=False),
        **MYSQL)
    op.create_index('ga_image_versions_name_idx', 'ga_image_versions',
                    ['name', 'version_key', 'image_id'])
    op.create_index('ga_image_versions_key_idx', 'ga_image_versions',
                    ['version_key', 'image_id'])
    state = op.create_table(
        'ga_image_versions_state',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=False),
        sa.Column('filled', sa.Boolean, nullable=False),
        sa.Column('fill_started_at', _datetime()),
        sa.Column('cursor_at', _datetime()),
        sa.Column('cursor_id', sa.String(36), nullable=False,
                  server_default=''),
        **MYSQL)
    op.bulk_insert(state, [{'id': 1, 'filled': False, 'cursor_id': ''}])
    if bind.dialect.name in ('mysql', 'mariadb'):
        # Image ids in Glance's character set and collation, so that a
        # join to images.id is a lookup of its primary key.
        glance_id = bind.execute(sa.text(
            "SELECT character_set_name, collation_name FROM "
            "information_schema.columns WHERE table_schema = DATABASE() "
            "AND table_name = 'images' AND column_name = 'id'")).first()
        charset, collation = glance_id or ('utf8', 'utf8_general_ci')
        op.execute('ALTER TABLE ga_image_versions MODIFY image_id '
                   'VARCHAR(36) CHARACTER SET %s COLLATE %s NOT NULL'
                   % (charset, collation))
        for collation in NOPAD_COLLATIONS:
            if bind.execute(sa.text('SHOW COLLATION LIKE :n'),
                            {'n': collation}).first() is not None:
                op.execute(
                    'ALTER TABLE ga_image_versions MODIFY name VARCHAR(255) '
                    'CHARACTER SET utf8mb4 COLLATE {c} NULL, MODIFY '
                    'version_key VARCHAR(272) CHARACTER SET utf8mb4 '
                    'COLLATE {c} NOT NULL'.format(c=collation))
                break
