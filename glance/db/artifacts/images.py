"""Glance's images as the records of the read-only artifact type
``images``, and the data API that shows them beside the artifacts.

An image is read by id through Glance's own database API
(``glance.db.get_api()``) with the caller's context. Lists are our own
SQL over Glance's tables (``images``, ``image_properties``,
``image_tags``, ``image_members``) on Glance's engine, never a change to
them: one statement selects a page, with the visibility, member and
``os_hidden`` rules of Glance's ``image_get_all`` (tested against it),
every filter and sort key of the artifact API, and the page's limit; a
second reads the page's properties and tags. Nothing is sorted or
filtered in Python, so a request holds at most a page of images in
memory whatever the order.

An image's artifact version is its ``artifact_version`` property when
that is a Semantic Version, else 0.0.0. Glance's tables have no index
that gives images in version order or by name: ``sort=name`` makes the
database read every visible image, as Glance's own ``sort_key=name``
does. ``sort=version`` and ``version=latest`` walk our own index of
image versions (glance.db.artifacts.image_versions) when it is up to
date; else the database computes each image's sort key
(glance.artifacts.semver.sort_key): an SQL expression on PostgreSQL and
MariaDB/MySQL, a function registered on the connection on SQLite. Python
holds one page whatever the order.

``WithImages`` merges images into the list of every type
(``/v2/artifacts/all``): a page of images and a page of artifacts, merged
in the list's order; and finds images by id for references.
"""

import functools
import operator
import re

from oslo_config import cfg
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql import util as sql_util

from glance.artifacts import config  # noqa: F401  (registers options)
from glance.artifacts import fields
from glance.artifacts import semver
from glance.common import exception as glance_exception
from glance.db.artifacts import errors
from glance.db.artifacts import sqlalchemy_api

CONF = cfg.CONF

TYPE_NAME = 'images'
TYPE_VERSION = '1.0'
#: The image property that holds an image's artifact version (SemVer);
#: an image without it, or with a value that is no SemVer, is 0.0.0.
VERSION_PROPERTY = 'artifact_version'
#: The image property shown as the artifact's description.
DESCRIPTION_PROPERTY = 'description'
DEFAULT_VERSION = '0.0.0'
#: The type fields of an image and the storage column of their values.
FIELDS = {'disk_format': 'str_value', 'container_format': 'str_value',
          'size': 'int_value', 'virtual_size': 'int_value',
          'checksum': 'str_value', 'os_hash_algo': 'str_value',
          'os_hash_value': 'str_value', 'min_disk': 'int_value',
          'min_ram': 'int_value', 'os_hidden': 'bool_value',
          'image_status': 'str_value'}
#: The artifact status of an image status; the others are "drafted"
#: (queued, saving, uploading, importing: no data yet).
STATUSES = {'active': 'active', 'deactivated': 'deactivated'}


def glance_db():
    from glance import db as glance_db_module
    return glance_db_module.get_api()


# -- images -> records -------------------------------------------------------

def _version(properties):
    version = properties.get(VERSION_PROPERTY)
    if version is None:
        return DEFAULT_VERSION
    try:
        semver.sort_key(version)
    except semver.InvalidVersion:
        return DEFAULT_VERSION
    return version


def _record(image, properties, tags):
    """The artifact record of an image (a mapping of its columns), its
    properties {name: value} and tags."""
    values = {name: image.get(name) for name in FIELDS}
    values['image_status'] = image['status']
    version = _version(properties)
    blobs = []
    if image['status'] in STATUSES and image['size'] is not None:
        blobs.append({'field': 'data', 'key': '', 'status': 'active',
                      'size': image['size'], 'checksum': image['checksum'],
                      'os_hash_algo': image['os_hash_algo'],
                      'os_hash_value': image['os_hash_value'],
                      'content_type': 'application/octet-stream',
                      'location': None, 'backend': ''})
    return {
        'id': image['id'], 'type_name': TYPE_NAME,
        'type_version': TYPE_VERSION, 'name': image['name'],
        'version': version, 'version_key': semver.sort_key(version),
        'description': properties.get(DESCRIPTION_PROPERTY),
        'owner': image['owner'], 'visibility': image['visibility'],
        'status': STATUSES.get(image['status'], 'drafted'),
        'protected': bool(image['protected']),
        'created_at': image['created_at'], 'updated_at': image['updated_at'],
        'activated_at': None, 'revision': 0, 'tags': sorted(tags),
        'metadata': properties,
        'properties': [{'name': name, 'position': None, 'key': None,
                        column: values[name]}
                       for name, column in sorted(FIELDS.items())
                       if values[name] is not None],
        'blobs': blobs, 'uploads': []}


def image_get(context, image_id):
    """The image ``image_id`` as an artifact record, if Glance lets the
    context see it (an image hidden from lists is still found by id);
    else NotFound."""
    db = glance_db()
    try:
        image = db.image_get(context, image_id)
        tags = db.image_tag_get_all(context, image_id)
    except (glance_exception.NotFound, glance_exception.Forbidden):
        raise errors.NotFound('no image with id %s' % image_id)
    return _record(image, {p['name']: p['value'] for p in image['properties']
                           if not p['deleted']}, tags)


# -- order -------------------------------------------------------------------

def _sort_value(record, sort):
    if sort['where'] == 'column':
        return record[sort['column']]
    values = [row[sort['column']] for row in record['properties']
              if row['name'] == sort['field']]
    return values[0] if values else None


def sort_keys(sorts):
    """[(sort spec, direction)] of a list's order: ``sorts`` and then id,
    as the data API orders."""
    keys = [(s, s['dir']) for s in sorts]
    if not any(s['where'] == 'column' and s['column'] == 'id'
               for s in sorts):
        keys.append(({'where': 'column', 'column': 'id'},
                     sorts[-1]['dir'] if sorts else 'desc'))
    return keys


def key_values(record, keys):
    """The values of a record's sort keys (a marker's, for the data API's
    marker_values)."""
    return [_sort_value(record, s) for s, _dir in keys]


def _compare(keys, a, b):
    """Compare two lists of key values in the order of ``keys``: nulls
    last in either direction, as the data API orders."""
    for (_s, direction), x, y in zip(keys, a, b):
        if x == y:
            continue
        if x is None or y is None:
            return 1 if x is None else -1
        less = x < y
        return (-1 if less else 1) * (1 if direction == 'asc' else -1)
    return 0


def ordered(records, keys):
    return sorted(records, key=functools.cmp_to_key(
        lambda a, b: _compare(keys, key_values(a, keys),
                              key_values(b, keys))))


# -- Glance's tables ---------------------------------------------------------

def _glance_tables():
    from glance.db.sqlalchemy import models
    return (models.Image.__table__, models.ImageProperty.__table__,
            models.ImageTag.__table__, models.ImageMember.__table__)


I, IP, IT, IM = _glance_tables()
#: The row of an image's version property, joined when a list needs it.
VP = IP.alias('vp')


def get_engine():
    from glance.db.sqlalchemy import api as glance_sa_api
    return glance_sa_api.get_engine()


def _usually(cond):
    """``cond``, which most rows meet (not deleted, not hidden, a listed
    status), marked as such on SQLite (its likely()). SQLite knows
    nothing of Glance's tables (they have no statistics) and would
    otherwise take the index of such a column, which nearly every row
    shares, over that of an id or of the list's order, and read every
    row."""
    if get_engine().dialect.name == 'sqlite':
        return sa.func.likely(cond, type_=sa.Boolean)
    return cond


def _listed_statuses():
    """The statuses of images that Glance lists (all but killed ones, as
    image_get_all with deleted=False)."""
    from glance.db.sqlalchemy import api as glance_sa_api
    return [s for s in glance_sa_api.STATUSES if s != 'killed']


def _listed(context, visibility_filtered, member_status, seeks=False):
    """The images ``context`` lists, as Glance's image_get_all decides:
    an admin every one; anyone else public and community ones, the
    project's own, and shared ones of which it is a member with
    ``member_status`` (None: any). Community images of other projects
    only when the list asks for a visibility."""
    conds = [_usually(I.c.deleted == sa.false()),
             _usually(I.c.status.in_(_listed_statuses()))]
    owner = context.owner
    if not context.is_admin:
        member = [_usually(IM.c.deleted == sa.false())]
        if owner is not None:
            member.append(IM.c.member == owner)
            if member_status is not None:
                member.append(IM.c.status == member_status)
        # The project's memberships, read once (not per image: SQLite
        # would scan every membership for each shared image).
        shared = sa.select(IM.c.image_id).where(*member)
        if get_engine().dialect.name == 'postgresql':
            # As an array, read before the page (an InitPlan): as a
            # hashed subplan, PostgreSQL's estimate charges its reading
            # to every image that a join looks up by id, and it hashes
            # every image the caller lists rather than walk an order
            # (sort=version as a member: 62 ms instead of 7 at 100,000).
            shared = sa.cast(
                sa.select(sa.func.array_agg(IM.c.image_id)).where(*member)
                .scalar_subquery(), postgresql.ARRAY(IM.c.image_id.type))
            in_shared = I.c.id == sa.any_(shared)
        else:
            in_shared = I.c.id.in_(shared)
        either = [I.c.visibility.in_(('public', 'community')),
                  sa.and_(I.c.visibility == 'shared', in_shared)]
        if owner is not None:
            either.append(I.c.owner == owner)
        either = sa.or_(*either)
        if not seeks:
            # Not where SQLite starts (it would read every image the
            # caller lists by the indexes of visibility and owner, and
            # sort them): a page walks the list's order and stops. With a
            # name, owner or id filter (``seeks``), SQLite chooses.
            either = _usually(either)
        conds.append(either)
    if not visibility_filtered:
        if owner is None:
            conds.append(I.c.visibility != 'community')
        else:
            conds.append(sa.or_(I.c.owner == owner,
                                I.c.visibility != 'community'))
    return conds


# -- the version key in SQL --------------------------------------------------

_KEY0 = semver.sort_key(DEFAULT_VERSION)
_DIGITS = "'%s'" % semver._BASE36
_SEMVER = semver._SEMVER.pattern
# A release (no pre-release, no build): most versions, whose key needs no
# splitting of identifiers.
_NUMBER = '(0|[1-9][0-9]{0,%d})' % (semver.MAX_NUMBER_DIGITS - 1)
_RELEASE = '^%s$' % '\\.'.join([_NUMBER] * 3)


def _python_key(value):
    try:
        return semver.sort_key(value)
    except semver.InvalidVersion:
        return _KEY0


def _postgresql_key(v, release, regex):
    def number(d):
        return 'substr(%s, length(%s) + 1, 1) || %s' % (_DIGITS, d, d)
    core = "substring(%s from '^[0-9]+\\.[0-9]+\\.[0-9]+')" % v
    pre = ("substring(%s from '^[0-9]+\\.[0-9]+\\.[0-9]+-([0-9A-Za-z.-]+)')"
           % v)
    parts = ["split_part(%s, '.', %d)" % (core, n) for n in (1, 2, 3)]
    identifier = (
        "CASE WHEN x ~ '^[0-9]+$' THEN 'a' || %s ELSE 'b' || "
        "translate(encode(convert_to(x, 'UTF8'), 'hex'), "
        "'0123456789abcdef', 'ghijklmnopqrstuv') || 'f' END" % number('x'))
    plain = ["split_part(%s, '.', %d)" % (v, n) for n in (1, 2, 3)]
    return (
        "(CASE WHEN %s IS NULL THEN '%s' "
        "WHEN %s ~ %s THEN %s || %s || %s || 'z' "
        "WHEN length(%s) <= %d AND %s ~ %s THEN %s || %s || %s || "
        "COALESCE((SELECT string_agg(%s, '' ORDER BY o) FROM unnest("
        "string_to_array(%s, '.')) WITH ORDINALITY AS t(x, o)), 'z') "
        "ELSE '%s' END) COLLATE \"C\""
        % (v, _KEY0, v, release, number(plain[0]), number(plain[1]),
           number(plain[2]), v, semver.MAX_LENGTH, v, regex,
           number(parts[0]), number(parts[1]), number(parts[2]),
           identifier, pre, _KEY0))


def _mysql_key(v, release, regex):
    def number(d):
        return ('CONCAT(SUBSTRING(%s, CHAR_LENGTH(%s) + 1, 1), %s)'
                % (_DIGITS, d, d))
    core = "REGEXP_SUBSTR(%s, '^[0-9]+\\\\.[0-9]+\\\\.[0-9]+')" % v
    pre = ("NULLIF(SUBSTRING(REGEXP_SUBSTR(%s, '^[0-9]+\\\\.[0-9]+\\\\."
           "[0-9]+-[0-9A-Za-z.-]+'), CHAR_LENGTH(%s) + 2), '')" % (v, core))
    parts = ["SUBSTRING_INDEX(%s, '.', 1)" % core,
             "SUBSTRING_INDEX(SUBSTRING_INDEX(%s, '.', 2), '.', -1)" % core,
             "SUBSTRING_INDEX(%s, '.', -1)" % core]
    spelled = 'HEX(jt.x)'
    for digit, letter in zip('0123456789ABCDEF', 'ghijklmnopqrstuv'):
        spelled = "REPLACE(%s, '%s', '%s')" % (spelled, digit, letter)
    identifier = ("CASE WHEN jt.x REGEXP '^[0-9]+$' THEN CONCAT('a', %s) "
                  "ELSE CONCAT('b', %s, 'f') END" % (number('jt.x'), spelled))
    plain = ["SUBSTRING_INDEX(%s, '.', 1)" % v,
             "SUBSTRING_INDEX(SUBSTRING_INDEX(%s, '.', 2), '.', -1)" % v,
             "SUBSTRING_INDEX(%s, '.', -1)" % v]
    return (
        "(CASE WHEN %s IS NULL THEN '%s' "
        "WHEN %s REGEXP %s THEN CONCAT(%s, %s, %s, 'z') "
        "WHEN CHAR_LENGTH(%s) <= %d AND %s REGEXP %s THEN "
        "CONCAT(%s, %s, %s, COALESCE((SELECT GROUP_CONCAT(%s ORDER BY jt.o "
        "SEPARATOR '') FROM JSON_TABLE(CONCAT('[\"', REPLACE(%s, '.', "
        "'\",\"'), '\"]'), '$[*]' COLUMNS (o FOR ORDINALITY, x VARCHAR(%d) "
        "PATH '$')) AS jt), 'z')) ELSE '%s' END)"
        % (v, _KEY0, v, release, number(plain[0]), number(plain[1]),
           number(plain[2]), v, semver.MAX_LENGTH, v, regex,
           number(parts[0]), number(parts[1]), number(parts[2]), identifier,
           pre, semver.MAX_LENGTH, _KEY0))


def _version_key(conn):
    """The SQL expression of an image's version sort key, on the version
    property row VP (outer-joined: null when the image has none)."""
    dialect = conn.dialect
    value = '%s.%s' % (VP.name, VP.c.value.name)
    if dialect.name == 'sqlite':
        conn.connection.driver_connection.create_function(
            'ga_version_key', 1, _python_key, deterministic=True)
        return sa.func.ga_version_key(VP.c.value, type_=sa.String)
    patterns = [_RELEASE, _SEMVER]
    if dialect.name == 'postgresql':
        build = _postgresql_key
    elif dialect.name in ('mysql', 'mariadb'):
        # PCRE's $ also matches before a final newline; \z does not.
        patterns = [p[:-1] + '\\z' for p in patterns]
        build = _mysql_key
    else:
        raise errors.Unavailable('images cannot be listed in version order '
                                 'on %s' % dialect.name)
    literals = [str(sa.literal(p).compile(
        dialect=dialect, compile_kwargs={'literal_binds': True}))
        for p in patterns]
    return sa.literal_column(build(value, *literals), type_=sa.String)


def _with_version():
    return I.outerjoin(VP, sa.and_(VP.c.image_id == I.c.id,
                                   VP.c.name == VERSION_PROPERTY,
                                   _usually(VP.c.deleted == sa.false())))


# -- columns, filters and sort keys ------------------------------------------

#: The expressions of columns that are the same for every image.
_CONSTANTS = (sa.sql.elements.BindParameter, sa.sql.elements.Null)


def _property_value(name):
    return (sa.select(IP.c.value)
            .where(IP.c.image_id == I.c.id, IP.c.name == name,
                   _usually(IP.c.deleted == sa.false()))
            .scalar_subquery())


class _Columns(object):
    """The SQL expressions of the artifact columns and type fields of an
    image; ``version`` tells whether the version key was used (and the
    version property, or the image's entry in ``versions``, must be
    joined). ``versions``: our index of image versions, when it is up to
    date (glance.db.artifacts.image_versions); else the key is computed
    from the version property."""

    def __init__(self, conn, versions=None):
        self.conn = conn
        self.versions = versions
        self.version = False
        self._key = None

    def column(self, name):
        if name in ('id', 'name', 'owner', 'visibility', 'protected',
                    'created_at', 'updated_at'):
            return I.c[name]
        if name == 'status':
            return sa.case(*[(I.c.status == s, a)
                             for s, a in sorted(STATUSES.items())],
                           else_='drafted')
        if name == 'type_name':
            return sa.literal(TYPE_NAME)
        if name == 'type_version':
            return sa.literal(TYPE_VERSION)
        if name == 'description':
            return _property_value(DESCRIPTION_PROPERTY)
        if name == 'version_key':
            if self._key is None:
                self._key = (_version_key(self.conn) if self.versions is None
                             else self.versions.c.version_key)
            self.version = True
            return self._key
        if name == 'activated_at':
            return sa.null()
        if name == 'revision':
            return sa.literal(0)
        raise errors.Invalid('images have no column %s' % name)

    def field(self, name):
        if name not in FIELDS:
            raise errors.Invalid('images have no field %s' % name)
        return I.c['status' if name == 'image_status' else name]

    def sort(self, spec):
        if spec['where'] == 'column':
            return self.column(spec['column'])
        return self.field(spec['field'])

    def filter(self, spec):
        """The condition of one filter, with the semantics of the data
        API: a null never matches; for values held in rows (tags,
        metadata), neq means that none equals."""
        where, op, values = spec['where'], spec['op'], spec['values']
        compare = sqlalchemy_api._COMPARE
        if where == 'column':
            expr = self.column(spec['column'])
            if spec['column'] in ('created_at', 'updated_at'):
                values = sqlalchemy_api._typed(I.c.created_at, values)
            if spec['column'] == 'activated_at':
                return sa.false()
            return compare[op](expr, values)
        if where == 'property':
            if spec.get('key') is not None:
                # Image fields hold no lists or dicts: none equals.
                return sa.true() if op == 'neq' else sa.false()
            expr = self.field(spec['field'])
            if op == 'neq':
                return sa.or_(expr.is_(None), expr != values[0])
            return compare[op](expr, values)
        if where == 'tag':
            cond = [IT.c.image_id == I.c.id,
                    _usually(IT.c.deleted == sa.false())]
            held = IT.c.value
        else:
            cond = [IP.c.image_id == I.c.id,
                    _usually(IP.c.deleted == sa.false()),
                    IP.c.name == spec['key']]
            held = IP.c.value
        if op == 'neq':
            return ~sa.exists().where(*cond, held == values[0])
        return sa.exists().where(*cond, compare[op](held, values))


def _hidden_asked(filters):
    return any(f['where'] == 'property' and f['field'] == 'os_hidden'
               for f in filters)


def _conditions(columns, context, filters, member_status):
    visibility_filtered = any(f['where'] == 'column' and
                              f['column'] == 'visibility' for f in filters)
    conds = _listed(context, visibility_filtered, member_status,
                    _seeks(filters))
    if not _hidden_asked(filters):
        # As GET /v2/images: hidden images are listed only when asked for.
        conds.append(_usually(I.c.os_hidden == sa.false()))
    return conds + [columns.filter(f) for f in filters]


# -- lists -------------------------------------------------------------------

_IMAGE_COLUMNS = ('id', 'name', 'disk_format', 'container_format', 'size',
                  'virtual_size', 'status', 'visibility', 'checksum',
                  'os_hash_algo', 'os_hash_value', 'min_disk', 'min_ram',
                  'owner', 'protected', 'os_hidden', 'created_at',
                  'updated_at')


def _children(conn, ids):
    """{image id: (properties {name: value}, [tags])} in one statement."""
    found = {i: ({}, []) for i in ids}
    if not ids:
        return found
    props = sa.select(IP.c.image_id, sa.literal('p').label('kind'),
                      IP.c.name, IP.c.value).where(
        IP.c.image_id.in_(ids), _usually(IP.c.deleted == sa.false()))
    tags = sa.select(IT.c.image_id, sa.literal('t').label('kind'),
                     IT.c.value.label('name'),
                     sa.null().label('value')).where(
        IT.c.image_id.in_(ids), _usually(IT.c.deleted == sa.false()))
    for row in conn.execute(sa.union_all(props, tags)):
        properties, tag_list = found[row.image_id]
        if row.kind == 'p':
            properties[row.name] = row.value
        else:
            tag_list.append(row.name)
    return found


# Glance's indexes that give images in the order of their column (with
# the id after it: InnoDB keeps the primary key in every index).
_ORDER_INDEXES = {'created_at': 'created_at_image_idx',
                  'updated_at': 'updated_at_image_idx'}
# Filters that find few images: those of the owner or the id have
# indexes of their own; a name has none, and a walk of the order index
# would read every image to find the few of that name (a scan of the
# table, and a sort of what it finds, costs less).
_SEEKING_FILTERS = ('owner', 'id', 'name')


def _says_nulls_last(dialect):
    """Whether the database takes NULLS LAST (nulls come last in either
    direction), which PostgreSQL sorts by faster than by a CASE on the
    null first (the page of /v2/artifacts/images?sort=name at 100,000
    images: 27 ms instead of 32-40). MariaDB has no such syntax."""
    return dialect.name == 'postgresql' or (
        dialect.name == 'sqlite' and
        dialect.server_version_info >= (3, 30))


def _seeks(filters):
    """Whether a list has one of _SEEKING_FILTERS."""
    return any(f['where'] == 'column' and f['column'] in _SEEKING_FILTERS
               for f in filters)


def _not_indexed(expr):
    """``expr`` as SQLite's unary +, which keeps its planner from
    walking an index of that column (for the order of a page with a
    seeking filter, which reads fewer rows from its own index or from
    the table)."""
    return sa.sql.expression.UnaryExpression(
        expr, operator=sa.sql.operators.custom_op('+'), type_=expr.type)


# Glance's indexes of columns that nearly every listed image shares
# (deleted and os_hidden false), which MariaDB would intersect to read
# most of the table (4 times the time of a scan for a name).
_COMMON_INDEXES = ('ix_images_deleted', 'os_hidden_image_idx')


def _index_hints(query, sorts, filters, seeks):
    """On MariaDB (and MySQL), a page in the order of creation or update
    walks that index and stops after the page (left to choose, they read
    and sort every image for the first page, as for Glance's own list,
    and walk only from a marker's range); with a filter of
    _SEEKING_FILTERS (``seeks``) or another order, the indexes of
    _COMMON_INDEXES (but that of os_hidden for a list of hidden images,
    which are few) and of the order are not used, so that the filter's
    own index, or a scan of the table, finds the page's images."""
    first = sorts[0] if sorts else {'where': 'column', 'column': 'id'}
    order = (_ORDER_INDEXES.get(first['column'])
             if first['where'] == 'column' else None)
    if order is not None and not seeks:
        hint = 'FORCE INDEX (%s)' % order
    else:
        common = _COMMON_INDEXES if not _hidden_asked(filters) else (
            'ix_images_deleted',)
        hint = 'IGNORE INDEX (%s)' % ', '.join(
            common + ((order,) if order else ()))
    return (query.with_hint(I, hint, dialect_name='mysql')
            .with_hint(I, hint, dialect_name='mariadb'))


def _highest_computed(columns, conds):
    """No image that meets ``conds`` and has the same name has a higher
    version: every such image's version computed, and the highest of
    each name taken. An image without a name is the latest of its own
    (it shares no name with another)."""
    key = columns.column('version_key')
    ranked = (sa.select(I.c.id, key.label('vk'),
                        sa.func.max(key).over(
                            partition_by=_exact(columns.conn, I.c.name))
                        .label('top'))
              .select_from(_with_version()).where(*conds)
              .subquery('ranked'))
    return sa.or_(I.c.name.is_(None), I.c.id.in_(
        sa.select(ranked.c.id).where(ranked.c.vk == ranked.c.top)))


def _exact(conn, name):
    """``name`` as its bytes on MariaDB and MySQL, whose collation of
    Glance's names (utf8_general_ci) takes "Web" and "web " for one:
    names are one name when they are equal, as on the other databases
    and in our index."""
    if conn.dialect.name in ('mysql', 'mariadb'):
        return sa.cast(name, sa.LargeBinary)
    return name


def _highest_indexed(columns, conds):
    """No image that meets ``conds`` and has the same name has a higher
    version, asked of our index per image: a range of its (name,
    version_key) index, each image in it checked against ``conds``. An
    image without a name is the latest of its own."""
    from glance.db.artifacts import image_versions
    G = image_versions.G
    columns.column('version_key')    # the image's own entry is joined
    g2, i2 = G.alias('g2'), I.alias('i2')
    adapt = sql_util.ClauseAdapter(i2).chain(sql_util.ClauseAdapter(g2))
    higher = sa.select(g2.c.image_id).where(
        g2.c.image_id == i2.c.id, g2.c.name == G.c.name,
        g2.c.version_key > G.c.version_key,
        *[adapt.traverse(c) for c in conds])
    if columns.conn.dialect.name == 'postgresql':
        # Asked per image of the page (OFFSET keeps PostgreSQL from
        # making it a join, which hashes every image the caller lists
        # to answer for 25: 100 ms as a member at 100,000 images).
        higher = higher.offset(0)
    return ~sa.exists(_in_order(higher))


def _in_order(query):
    """``query`` joining its tables in the order of its FROM list on
    MariaDB and MySQL: our index first, then each image by id (left to
    choose, MariaDB intersects Glance's indexes of deleted and os_hidden,
    most of the table, for each image of a page)."""
    return (query.prefix_with('STRAIGHT_JOIN', dialect='mysql')
            .prefix_with('STRAIGHT_JOIN', dialect='mariadb'))


def image_list(context, filters=(), sorts=(), limit=25, marker=None,
               latest=False, member_status='accepted', after=None):
    """Images as the data API's artifact_list lists artifacts; ``after``
    (the key values of a record that is not an image, in the order of
    sort_keys(sorts)) starts the list after it instead of a marker."""
    filters = [f for f in filters
               if not (f['where'] == 'column' and
                       f['column'] == 'type_name')]
    from glance.db.artifacts import image_versions
    by_version = latest or any(s['where'] == 'column' and
                               s['column'] == 'version_key' for s in sorts)
    # Without the index (in registry mode before db sync made it in
    # Glance's database), versions are computed.
    indexed = (by_version and image_versions.available(get_engine()) and
               image_versions.refresh(get_engine()))
    with get_engine().connect() as conn:
        columns = _Columns(conn, image_versions.G if indexed else None)
        conds = _conditions(columns, context, filters, member_status)
        keys = [(columns.sort(s), d) for s, d in sort_keys(sorts)]
        G = image_versions.G
        walks_index = indexed and keys[0][0] is G.c.version_key
        if walks_index:
            # The same ids, of the version index: its order has them after
            # each version (else a version that most images share, 0.0.0,
            # would be sorted in full for the first page).
            keys = [(G.c.image_id if e is I.c.id else e, d)
                    for e, d in keys]
        if latest and indexed:
            conds.append(_highest_indexed(columns, conds))
        elif latest:
            conds.append(_highest_computed(columns, conds))
        source = I
        if walks_index:
            source = G.join(I, G.c.image_id == I.c.id)
        elif columns.version:
            source = (_with_version() if not indexed else
                      I.join(G, G.c.image_id == I.c.id))
        if marker is not None:
            row = conn.execute(
                sa.select(*[e.label('k%d' % i)
                            for i, (e, _d) in enumerate(keys)])
                .select_from(source).where(I.c.id == marker, *conds)).first()
            if row is None:
                raise errors.InvalidMarker('marker %s is not an image of '
                                           'this list' % marker)
            after = list(row)
        if after is not None:
            conds.append(sqlalchemy_api._after(keys, list(after)))
        seeks = _seeks(filters)
        order = []
        for expr, direction in keys:
            if isinstance(expr, _CONSTANTS):
                # The same for every image (type_name, activated_at...):
                # no order, and PostgreSQL refuses a constant in ORDER BY.
                continue
            nullable = sqlalchemy_api._nullable(expr)
            if (seeks and not order and conn.dialect.name == 'sqlite' and
                    isinstance(expr, sa.Column)):
                expr = _not_indexed(expr)
            ordered = expr.asc() if direction == 'asc' else expr.desc()
            if nullable and _says_nulls_last(conn.dialect):
                ordered = ordered.nulls_last()
            elif nullable:
                order.append(sa.case((expr.is_(None), 1), else_=0))
            order.append(ordered)
        query = (sa.select(*[I.c[c] for c in _IMAGE_COLUMNS])
                 .select_from(source).where(*conds).order_by(*order)
                 .limit(limit))
        if walks_index:
            query = _in_order(query)
        else:
            query = _index_hints(query, sorts, filters, seeks)
        rows = conn.execute(query).fetchall() if limit else []
        children = _children(conn, [r.id for r in rows])
    return [_record(r._mapping, *children[r.id]) for r in rows]


# -- the data API with images ------------------------------------------------

def _like(value, pattern):
    """Whether ``value`` matches the like: filter ``pattern``, as the
    database's like does."""
    return re.fullmatch(''.join(
        '.*' if p is fields.ANY_CHARS else '.' if p is fields.ONE_CHAR
        else re.escape(p) for p in fields.like_parts(pattern)),
        value, re.DOTALL) is not None


_OPS = {'eq': operator.eq, 'neq': operator.ne, 'lt': operator.lt,
        'lte': operator.le, 'gt': operator.gt, 'gte': operator.ge,
        'in': lambda v, vs: v in vs, 'like': _like}


def _includes_images(filters):
    """Whether the type_name filters of a list let images in."""
    return all(_OPS[f['op']](TYPE_NAME, f['values'] if f['op'] == 'in'
                             else f['values'][0])
               for f in filters
               if f['where'] == 'column' and f['column'] == 'type_name')


class WithImages(object):
    """A data API (``api``) that also finds images: by id when no type is
    asked for (references), as the type ``images``, and among the
    artifacts of every type. Everything else is ``api``'s."""

    def __init__(self, api):
        self.api = api

    def __getattr__(self, name):
        return getattr(self.api, name)

    def artifact_get(self, context, artifact_id, type_name=None):
        if type_name == TYPE_NAME:
            return image_get(context, artifact_id)
        try:
            return self.api.artifact_get(context, artifact_id, type_name)
        except errors.NotFound:
            if type_name is not None:
                raise
        return image_get(context, artifact_id)

    def artifact_list(self, context, type_name, filters=(), sorts=(),
                      limit=25, marker=None, latest=False,
                      member_status='accepted'):
        if type_name == TYPE_NAME:
            return image_list(context, filters, sorts, limit, marker,
                              latest, member_status)
        if type_name is not None or not _includes_images(filters):
            return self.api.artifact_list(
                context, type_name, filters, sorts, limit, marker, latest,
                member_status)
        keys = sort_keys(sorts)
        after = None
        own_marker = marker
        if marker is not None:
            try:
                marked = self.api.artifact_get(context, marker)
                marked['version_key'] = semver.sort_key(marked['version'])
            except errors.NotFound:
                marked = None
            if marked is None:
                # An image: the artifacts start after its key values.
                marked = image_get(context, marker)
                own_marker = None
                images = image_list(context, filters, sorts, limit, marker,
                                    latest, member_status)
            after = key_values(marked, keys)
        if own_marker is not None or marker is None:
            images = image_list(context, filters, sorts, limit, None,
                                latest, member_status, after=after)
        artifacts = self.api.artifact_list(
            context, None, filters, sorts, limit, own_marker, latest,
            member_status, **({'marker_values': after}
                              if marker is not None and own_marker is None
                              else {}))
        for record in artifacts:
            record['version_key'] = semver.sort_key(record['version'])
        merged = ordered(artifacts + images, keys)[:limit]
        for record in merged:
            record.pop('version_key', None)
        return merged
