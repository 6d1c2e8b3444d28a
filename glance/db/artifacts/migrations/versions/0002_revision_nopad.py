"""A revision number on each artifact, and exact comparison of strings
on MySQL and MariaDB.

``revision`` moves on with every write to an artifact or what it owns:
the data API takes the artifact's row lock by moving it on, and a writer
that decided on what it read at one revision writes only if the
artifact is still at it.

MySQL's and MariaDB's utf8mb4_bin pads with spaces when it compares
(PAD SPACE), so tags "a" and "a " collided and "name=a" matched "a ";
the tables move to the server's binary collation without padding
(MariaDB utf8mb4_nopad_bin, MySQL 8 utf8mb4_0900_bin), as every other
database compares.

DateTime field values of years before 1000 were stored without their
leading zeros ("212-02-14T..."), out of time order; they get them.

Revision ID: 0002_revision_nopad
Revises: 0001_initial
"""

import re

from alembic import op
import sqlalchemy as sa

revision = '0002_revision_nopad'
down_revision = '0001_initial'

# The string columns as 0001 made them, but for the artifact ids (UUIDs,
# which compare alike either way, and which foreign keys tie together).
STRING_COLUMNS = {
    'ga_artifacts': [('type_name', 'VARCHAR(64)', False),
                     ('type_version', 'VARCHAR(32)', False),
                     ('name', 'VARCHAR(255)', False),
                     ('version', 'VARCHAR(128)', False),
                     ('version_key', 'VARCHAR(272)', False),
                     ('description', 'TEXT', True),
                     ('owner', 'VARCHAR(255)', False),
                     ('visibility', 'VARCHAR(32)', False),
                     ('status', 'VARCHAR(32)', False)],
    'ga_properties': [('name', 'VARCHAR(64)', False),
                      ('`key`', 'VARCHAR(255)', True),
                      ('str_value', 'VARCHAR(512)', True),
                      ('text_value', 'TEXT', True)],
    'ga_tags': [('value', 'VARCHAR(255)', False)],
    'ga_metadata': [('`key`', 'VARCHAR(255)', False),
                    ('value', 'VARCHAR(255)', False)],
    'ga_members': [('member', 'VARCHAR(255)', False),
                   ('status', 'VARCHAR(20)', False)],
    'ga_blobs': [('field', 'VARCHAR(64)', False),
                 ('`key`', 'VARCHAR(255)', False),
                 ('status', 'VARCHAR(32)', False),
                 ('checksum', 'VARCHAR(32)', True),
                 ('os_hash_algo', 'VARCHAR(64)', True),
                 ('os_hash_value', 'VARCHAR(128)', True),
                 ('content_type', 'VARCHAR(255)', True),
                 ('location', 'TEXT', True),
                 ('backend', 'VARCHAR(255)', True)],
    'ga_blob_uploads': [('field', 'VARCHAR(64)', False),
                        ('`key`', 'VARCHAR(255)', False),
                        ('upload_id', 'VARCHAR(36)', False),
                        ('backend', 'VARCHAR(255)', False),
                        ('process', 'VARCHAR(255)', False)],
}
# A DateTime value as fields.format_datetime wrote it before years were
# zero-padded.
UNPADDED = re.compile(r'([0-9]{1,3})(-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:'
                      r'[0-9]{2}\.[0-9]{6}Z)')
NOPAD_COLLATIONS = ('utf8mb4_nopad_bin', 'utf8mb4_0900_bin')


def _nopad_collation(bind):
    for name in NOPAD_COLLATIONS:
        if bind.execute(sa.text('SHOW COLLATION LIKE :n'),
                        {'n': name}).first() is not None:
            return name
    return None


def upgrade():
    with op.batch_alter_table('ga_artifacts') as batch:
        batch.add_column(sa.Column('revision', sa.Integer, nullable=False,
                                   server_default='0'))
    bind = op.get_bind()
    if bind.dialect.name in ('mysql', 'mariadb'):
        collation = _nopad_collation(bind)
        if collation is not None:
            for table, columns in sorted(STRING_COLUMNS.items()):
                op.execute('ALTER TABLE %s DEFAULT CHARACTER SET utf8mb4 '
                           'COLLATE %s, %s' % (table, collation, ', '.join(
                               'MODIFY %s %s CHARACTER SET utf8mb4 COLLATE '
                               '%s %s' % (name, kind, collation,
                                          'NULL' if null else 'NOT NULL')
                               for name, kind, null in columns)))
    properties = sa.table('ga_properties', sa.column('id', sa.Integer),
                          sa.column('str_value', sa.String))
    rows = bind.execute(sa.select(properties.c.id, properties.c.str_value)
                        .where(properties.c.str_value.like('%-%-%T%Z'),
                               sa.func.length(properties.c.str_value) < 27))
    for row_id, value in rows.fetchall():
        match = UNPADDED.fullmatch(value)
        if match is not None:
            bind.execute(properties.update()
                         .where(properties.c.id == row_id)
                         .values(str_value='%04d%s' % (int(match.group(1)),
                                                       match.group(2))))
