"""The artifacts data API (see interface.py) on SQLAlchemy, in Glance's
database.

The engine is Glance's own (glance.db.sqlalchemy.api.get_engine), which
reads ``[database]`` as glance-api does.
"""

import datetime
import re

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_utils import timeutils
import sqlalchemy as sa
from sqlalchemy.ext import compiler
from sqlalchemy.sql import visitors

from glance.artifacts import fields
from glance.db.artifacts import errors
from glance.db.artifacts import interface
from glance.db.artifacts import models

A = models.artifacts
P = models.properties
U = models.blob_uploads
D = models.pending_deletes
C = models.blob_copies

_engine = None


class utcnow(sa.sql.expression.FunctionElement):
    """The database server's clock, in UTC: what upload heartbeats and
    delayed deletes are timed by, so that hosts whose clocks differ agree
    on them."""
    type = sa.DateTime()
    inherit_cache = True


@compiler.compiles(utcnow, 'sqlite')
def _utcnow_sqlite(element, compiler, **kw):
    # As SQLAlchemy stores SQLite datetimes: six digits of microseconds.
    return "strftime('%Y-%m-%d %H:%M:%f000', 'now')"


@compiler.compiles(utcnow, 'mysql')
@compiler.compiles(utcnow, 'mariadb')
def _utcnow_mysql(element, compiler, **kw):
    return 'UTC_TIMESTAMP(6)'


@compiler.compiles(utcnow, 'postgresql')
def _utcnow_postgresql(element, compiler, **kw):
    return "timezone('utc', clock_timestamp())"


class typed_null(sa.sql.expression.ColumnElement):
    """NULL of a given type, for a UNION ALL in which it stands for a
    column that one table of the union lacks. PostgreSQL needs the type
    written out (a bare NULL in the first SELECT is text to it); the
    others take NULL as it is."""
    inherit_cache = True
    _traverse_internals = [('type', visitors.InternalTraversal.dp_type)]

    def __init__(self, type_):
        self.type = type_


@compiler.compiles(typed_null)
def _typed_null(element, compiler, **kw):
    return 'NULL'


@compiler.compiles(typed_null, 'postgresql')
def _typed_null_postgresql(element, compiler, **kw):
    return 'CAST(NULL AS %s)' % compiler.dialect.type_compiler_instance \
        .process(element.type)


def get_engine():
    global _engine
    if _engine is None:
        from glance.db.sqlalchemy import api as glance_db_api
        _engine = glance_db_api.get_engine()
    return _engine


def _locked(error):
    """SQLite's answer to a writer that waited longer than its busy
    timeout; oslo.db maps MySQL's lock wait timeouts and every deadlock
    to DBDeadlock itself."""
    return 'database is locked' in str(error)


# Every write function runs again, from a new transaction, when the
# database chose it as a deadlock victim or it waited too long for a lock.
_retry = oslo_db_api.wrap_db_retry(max_retries=10, retry_on_deadlock=True,
                                   retry_interval=0.05,
                                   inc_retry_interval=True,
                                   max_retry_interval=1, jitter=True,
                                   exception_checker=_locked)


# -- visibility --------------------------------------------------------------

def _shared_with(t, member, statuses=None):
    m = models.members
    cond = [m.c.artifact_id == t.c.id, m.c.member == member]
    if statuses:
        cond.append(m.c.status.in_(statuses))
    return sa.and_(t.c.visibility == 'shared', sa.exists().where(*cond))


def _visible(t, context):
    """What a context may read directly (show)."""
    if context.is_admin:
        return sa.true()
    conds = [t.c.visibility.in_(('public', 'community'))]
    if context.owner:
        conds += [t.c.owner == context.owner,
                  _shared_with(t, context.owner)]
    return sa.or_(*conds)


def _listed(t, context, visibility_filtered, member_status):
    """What a context lists, as images lists: its own, public, and shared
    with it with ``member_status`` (accepted by default; None for any);
    community ones only when the list asks for a visibility."""
    if context.is_admin:
        return sa.true()
    conds = [t.c.visibility == 'public']
    if visibility_filtered:
        conds.append(t.c.visibility == 'community')
    if context.owner:
        conds += [t.c.owner == context.owner,
                  _shared_with(t, context.owner, member_status and
                               (member_status,))]
    return sa.or_(*conds)


# -- reading -----------------------------------------------------------------

def _record(row, children):
    rec = dict(row._mapping)
    rec.pop('version_key', None)
    rec['owner'] = rec['owner'] or None
    rec.update(children.get(rec['id'], _no_children()))
    return rec


def _no_children():
    return {'tags': [], 'metadata': {}, 'properties': [], 'blobs': [],
            'uploads': []}


# What an artifact owns, read in one statement: a UNION ALL of its rows in
# each child table, each row padded with nulls to the columns of them all
# and marked with its table.
_CHILD_TABLES = {'tags': models.tags, 'metadata': models.artifact_metadata,
                 'properties': P, 'blobs': models.blobs, 'uploads': U,
                 'copies': C}


def _child_columns():
    columns = {}
    for table in _CHILD_TABLES.values():
        for c in table.c:
            if c.name != 'id':
                columns.setdefault(c.name, c.type)
    columns['db_now'] = sa.DateTime()
    return columns


_CHILD_COLUMNS = _child_columns()


def _children_query():
    """The rows of every child table of the artifacts in the list
    parameter ``ids``, as one UNION ALL: made once, so that SQLAlchemy
    builds it and computes its cache key once, not per read."""
    ids = sa.bindparam('ids', expanding=True)
    selects = []
    for kind, table in _CHILD_TABLES.items():
        own = {c.name: c for c in table.c}
        if table is U:
            # The database's clock, to tell how long an upload has been
            # idle.
            own['db_now'] = utcnow()
        selects.append(sa.select(
            sa.literal(kind, sa.String).label('kind'),
            *[(own[name] if name in own
               else typed_null(type_)).label(name)
              for name, type_ in _CHILD_COLUMNS.items()])
            .where(table.c.artifact_id.in_(ids)))
    return sa.union_all(*selects)


_CHILDREN = _children_query()


def _load_children(conn, ids):
    children = {i: dict(_no_children(), copies=[]) for i in ids}
    if not ids:
        return children
    for r in conn.execute(_CHILDREN, {'ids': list(ids)}):
        row = {c.name: r._mapping[c.name]
               for c in _CHILD_TABLES[r.kind].c if c.name != 'id'}
        # Upload rows keep their artifact_id (stale uploads are cleaned
        # by it).
        mine = children[row['artifact_id'] if r.kind == 'uploads'
                        else row.pop('artifact_id')]
        if r.kind == 'tags':
            mine['tags'].append(row['value'])
        elif r.kind == 'metadata':
            mine['metadata'][row['key']] = row['value']
        else:
            if r.kind == 'uploads':
                row['idle'] = _idle(r.db_now, row['heartbeat_at'])
            mine[r.kind].append(row)
    for mine in children.values():
        mine['tags'].sort()
        mine['properties'].sort(key=lambda p: (p['name'],
                                               _nulls_first(p['position']),
                                               _nulls_first(p['key'])))
        mine['blobs'].sort(key=lambda b: (b['field'], b['key']))
        # Each blob row lists the copies of its data in other stores,
        # oldest first.
        copies = {}
        for c in sorted(mine.pop('copies'),
                        key=lambda c: (c['created_at'], c['backend'])):
            copies.setdefault((c.pop('field'), c.pop('key')), []).append(c)
        for b in mine['blobs']:
            b['copies'] = copies.get((b['field'], b['key']), [])
    return children


def _nulls_first(value):
    return (value is not None, value)


def _idle(db_now, heartbeat_at):
    """Seconds since an upload's last heartbeat, by the database's clock."""
    return max(0.0, (db_now - heartbeat_at).total_seconds())


def _upload_rows(conn, *where):
    """Upload rows, each with ``idle``: the seconds since its last
    heartbeat by the database's clock."""
    rows = []
    for r in conn.execute(sa.select(U, utcnow().label('db_now'))
                          .where(*where)):
        row = dict(r._mapping)
        row['idle'] = _idle(row.pop('db_now'), row['heartbeat_at'])
        rows.append(row)
    return rows


def _get(conn, context, artifact_id, type_name):
    query = sa.select(A).where(A.c.id == artifact_id, _visible(A, context))
    if type_name is not None:
        query = query.where(A.c.type_name == type_name)
    row = conn.execute(query).first()
    if row is None:
        raise errors.NotFound('no artifact with id %s' % artifact_id)
    return _record(row, _load_children(conn, [artifact_id]))


def artifact_get(context, artifact_id, type_name=None):
    """The artifact ``artifact_id`` (of ``type_name`` when given), if the
    context can see it; else NotFound."""
    with get_engine().connect() as conn:
        return _get(conn, context, artifact_id, type_name)


# -- writing -----------------------------------------------------------------

def _check_owner(context, record):
    """Only an artifact's own project, or an admin, writes it (Glance's
    _check_mutate_authorization for images): a caller that skipped the
    domain's policy checks still cannot change another project's
    artifact, public or shared ones included."""
    if context.is_admin:
        return
    if not record['owner'] or record['owner'] != context.owner:
        raise errors.Forbidden(
            'Artifact %s belongs to another project: only its owner or an '
            'admin may change it.' % record['id'])


def _lock(conn, context, artifact_id, type_name, expect=None,
          may_write=_check_owner):
    """Begin a write of an artifact: take its row lock, as the first
    statement of the transaction, by moving its revision on.

    Writers of one artifact queue here, and since each takes this lock
    before any other, none waits for another in a cycle (nor does SQLite
    refuse to upgrade a read lock). Returns the visible record as it is
    now; NotFound when it is not visible (or of another type), Forbidden
    when ``may_write`` (by default: its owner or an admin) refuses the
    context, Changed when a column no longer has the value ``expect``
    gives it (such as the revision the caller decided on).
    """
    expect = expect or {}
    where = [A.c.id == artifact_id] + [A.c[k] == v
                                       for k, v in expect.items()]
    if type_name is not None:
        where.append(A.c.type_name == type_name)
    locked = conn.execute(A.update().where(*where).values(
        revision=A.c.revision + 1)).rowcount
    current = _get(conn, context, artifact_id, type_name)
    may_write(context, current)
    if not locked:
        raise errors.Changed(
            'The artifact changed while this request was handled (%s).'
            % ', '.join(_change(k, v, current[k])
                        for k, v in sorted(expect.items())
                        if current[k] != v) or 'meanwhile')
    return current


def _change(column, expected, now):
    if column == 'revision':
        return 'another request changed it'
    return 'its %s is now %s, not %s' % (column, now, expected)


def _property_row(artifact_id, name, row):
    # One executemany needs the same keys in every row.
    full = dict.fromkeys(models.VALUE_COLUMNS + ('position', 'key'))
    full.update(row, artifact_id=artifact_id, name=name)
    return full


def _write_children(conn, artifact_id, values):
    props = values.get('properties') or {}
    for name, rows in props.items():
        conn.execute(P.delete().where(P.c.artifact_id == artifact_id,
                                      P.c.name == name))
        if rows:
            conn.execute(P.insert(), [_property_row(artifact_id, name, row)
                                      for row in rows])
    if values.get('tags') is not None:
        t = models.tags
        conn.execute(t.delete().where(t.c.artifact_id == artifact_id))
        if values['tags']:
            conn.execute(t.insert(), [{'artifact_id': artifact_id,
                                       'value': v}
                                      for v in sorted(set(values['tags']))])
    if values.get('metadata') is not None:
        m = models.artifact_metadata
        conn.execute(m.delete().where(m.c.artifact_id == artifact_id))
        if values['metadata']:
            conn.execute(m.insert(), [{'artifact_id': artifact_id,
                                       'key': k, 'value': v}
                                      for k, v in values['metadata'].items()])


def _columns(values):
    return {k: v for k, v in values.items()
            if k in A.c and k != 'id'}


def _duplicate(values):
    return errors.Duplicate(
        "an artifact of type %s named '%s' with version %s already exists "
        "in this project" % (values.get('type_name'), values.get('name'),
                             values.get('version')))


@_retry
def artifact_create(context, values, limits=None):
    """Insert an artifact; ``values`` holds its columns (with ``id``,
    ``version_key``), ``properties`` {field: [rows]}, ``tags`` and
    ``metadata``. Forbidden unless its owner is the caller's project (or
    the caller an admin); Duplicate when (type, name, version, owner)
    exists; OverLimit when its owner has
    ``limits['artifact_count_total']`` artifacts already."""
    now = timeutils.utcnow()
    cols = _columns(values)
    cols.update(id=values['id'], owner=values.get('owner') or '',
                created_at=now, updated_at=now)
    if not context.is_admin and (not context.owner or
                                 cols['owner'] != context.owner):
        raise errors.Forbidden('An artifact is created in the caller\'s '
                               'own project, not in %s.'
                               % (cols['owner'] or 'no project'))
    quota = _quota_project(cols['owner'], limits)
    try:
        with get_engine().begin() as conn:
            if quota:
                _lock_quota(conn, quota)
                _check_limits(quota, limits, _usage(conn, quota),
                              {COUNT_TOTAL: 1})
            conn.execute(A.insert().values(**cols))
            _write_children(conn, values['id'], values)
            return _get(conn, context, values['id'], None)
    except db_exc.DBDuplicateEntry:
        raise _duplicate(cols)


@_retry
def artifact_update(context, artifact_id, type_name, values, expect=None):
    """Change the given columns and replace the given properties, tags and
    metadata of a visible artifact in one transaction; Changed unless its
    columns have the values in ``expect`` (e.g. {'revision': 7})."""
    cols = _columns(values)
    cols['updated_at'] = timeutils.utcnow()
    with get_engine().begin() as conn:
        current = _lock(conn, context, artifact_id, type_name, expect)
        try:
            conn.execute(A.update().where(A.c.id == artifact_id)
                         .values(**cols))
        except db_exc.DBDuplicateEntry:
            raise _duplicate(dict(current, **cols))
        _write_children(conn, artifact_id, values)
        return _get(conn, context, artifact_id, type_name)


@_retry
def artifact_delete(context, artifact_id, type_name, expect=None,
                    keep_for=None):
    """Remove a visible artifact and everything it owns; returns it as it
    was. Changed unless its columns have the values in ``expect``. With
    ``keep_for`` (seconds), its blobs' data goes to the pending deletes."""
    with get_engine().begin() as conn:
        current = _lock(conn, context, artifact_id, type_name, expect)
        if keep_for is not None:
            _keep(conn, _every_copy(current['blobs']), keep_for)
        for table in models.CHILD_TABLES:
            conn.execute(table.delete()
                         .where(table.c.artifact_id == artifact_id))
        conn.execute(A.delete().where(A.c.id == artifact_id))
        return current


# -- lists -------------------------------------------------------------------

class like(sa.sql.expression.ColumnElement):
    """``column`` matches the like: filter ``pattern`` (SQL LIKE, escaped
    with backslash; see fields.like_parts), with case, on every database:
    SQL LIKE on PostgreSQL and MariaDB (whose columns of ours compare
    bytes); on SQLite, whose LIKE ignores the case of ASCII letters, the
    same pattern as a GLOB, which keeps case (and, for a pattern that
    starts with a literal, walks an index of the column as LIKE does)."""
    inherit_cache = True
    _traverse_internals = [
        ('column', visitors.InternalTraversal.dp_clauseelement),
        ('pattern', visitors.InternalTraversal.dp_clauseelement),
        ('glob', visitors.InternalTraversal.dp_clauseelement)]

    def __init__(self, column, pattern):
        parts = fields.like_parts(pattern)
        self.column = column
        self.pattern = sa.bindparam(None, pattern, type_=sa.String())
        self.glob = sa.bindparam(None, ''.join(
            '*' if p is fields.ANY_CHARS else '?' if p is fields.ONE_CHAR else
            re.sub(r'([*?[])', r'[\1]', p) for p in parts),
            type_=sa.String())


@compiler.compiles(like)
def _like(element, compiler, **kw):
    return compiler.process(element.column.like(element.pattern,
                                                escape='\\'), **kw)


@compiler.compiles(like, 'sqlite')
def _like_sqlite(element, compiler, **kw):
    return compiler.process(element.column.op('GLOB')(element.glob), **kw)


_COMPARE = {
    'eq': lambda c, v: c == v[0],
    'neq': lambda c, v: c != v[0],
    'lt': lambda c, v: c < v[0],
    'lte': lambda c, v: c <= v[0],
    'gt': lambda c, v: c > v[0],
    'gte': lambda c, v: c >= v[0],
    'in': lambda c, v: c.in_(v),
    'like': lambda c, v: like(c, v[0]),
}


def _typed(column, values):
    if isinstance(column.type, sa.DateTime):
        return [timeutils.normalize_time(timeutils.parse_isotime(v))
                if isinstance(v, str) else v for v in values]
    return values


def _held(spec, compare):
    """Where a filter on values held in rows of their own (tags,
    metadata, type fields) looks: the artifact_id column of those rows
    and the conditions on them."""
    where, values = spec['where'], spec['values']
    if where == 'tag':
        tg = models.tags
        return tg.c.artifact_id, [compare(tg.c.value, values)]
    if where == 'metadata':
        m = models.artifact_metadata
        return m.c.artifact_id, [m.c.key == spec['key'],
                                 compare(m.c.value, values)]
    cond = [P.c.name == spec['field'], compare(P.c[spec['column']], values)]
    if spec.get('key') is not None:
        cond.append(P.c.key == spec['key'])
    return P.c.artifact_id, cond


def _filter(t, spec, probe=False):
    """The condition of one filter on the artifacts ``t``. ``probe``:
    look for the held value artifact by artifact (see _common)."""
    where, op, values = spec['where'], spec['op'], spec['values']
    if where == 'column':
        column = t.c[spec['column']]
        return _COMPARE[op](column, _typed(column, values))
    # For values held in rows (tags, metadata, type fields, list items),
    # neq means that no value equals; the other ops, that one matches.
    artifact_id, cond = _held(spec, _COMPARE['eq' if op == 'neq' else op])
    if op == 'neq':
        return ~sa.exists().where(artifact_id == t.c.id, *cond)
    if probe:
        return (sa.select(sa.literal(1))
                .where(artifact_id == t.c.id, *cond).limit(1)
                .scalar_subquery().is_not(None))
    return sa.exists().where(artifact_id == t.c.id, *cond)


# A value held by this many rows is common (see _common).
COMMON_ROWS = 2000


def _common(conn, filters):
    """The filters (by position) on held values that many rows hold, on
    MariaDB and MySQL. Those make an EXISTS a semi-join that starts from
    the rows holding the value, reads every artifact they name and sorts
    them all for one page: a tag on a tenth of a million artifacts costs
    seconds. Asked artifact by artifact instead (a subquery that is not
    turned into a join), the page walks the order index and stops after
    it. A rare value is better where it is: the artifacts holding it are
    few, and a walk could read a whole type to find them. Which it is
    is counted, up to COMMON_ROWS, in the value's index. PostgreSQL
    knows the frequent values from its statistics and chooses by itself;
    SQLite has the fixed statistics of migration.LARGE_CATALOG."""
    if conn.dialect.name not in ('mysql', 'mariadb'):
        return set()
    common = set()
    for i, spec in enumerate(filters):
        if spec['where'] == 'column' or spec['op'] == 'neq':
            continue
        _artifact_id, cond = _held(spec, _COMPARE[spec['op']])
        rows = sa.select(sa.literal(1)).where(*cond).limit(COMMON_ROWS)
        if conn.execute(sa.select(sa.func.count()).select_from(
                rows.subquery())).scalar() >= COMMON_ROWS:
            common.add(i)
    return common


def _conditions(t, context, type_name, filters, member_status,
                common=frozenset()):
    visibility_filtered = any(f['where'] == 'column' and
                              f['column'] == 'visibility' for f in filters)
    conds = [_listed(t, context, visibility_filtered, member_status)]
    if type_name is not None:
        conds.append(t.c.type_name == type_name)
    conds += [_filter(t, f, i in common) for i, f in enumerate(filters)]
    return conds


def _sort_expression(t, sort):
    if sort['where'] == 'column':
        return t.c[sort['column']]
    return (sa.select(P.c[sort['column']])
            .where(P.c.artifact_id == t.c.id, P.c.name == sort['field'],
                   P.c.position.is_(None), P.c.key.is_(None))
            .limit(1).scalar_subquery())


def _nullable(expr):
    return not isinstance(expr, sa.Column) or expr.nullable


def _after(keys, marker_values):
    """Rows that come after the marker in the order of ``keys``
    [(expression, direction)], where nulls come last in either
    direction."""
    clauses = []
    for i, ((expr, direction), value) in enumerate(zip(keys,
                                                       marker_values)):
        equal_before = [expr_j.is_(None) if v is None else expr_j == v
                        for (expr_j, _d), v in zip(keys[:i],
                                                   marker_values[:i])]
        if value is None:
            continue     # nothing sorts after a null but other nulls
        if isinstance(value, bool):
            # SQL cannot order booleans with < and >: false comes first.
            later = (expr == (direction == 'asc')
                     if value != (direction == 'asc') else sa.false())
        else:
            later = expr > value if direction == 'asc' else expr < value
        if _nullable(expr):
            later = sa.or_(later, expr.is_(None))
        clauses.append(sa.and_(*equal_before, later))
    after = sa.or_(*clauses) if clauses else sa.false()
    (first, direction), value = keys[0], marker_values[0]
    if _nullable(first) or isinstance(value, bool):
        return after
    # The same rows, with a range on the first key that lets the database
    # start reading an index at the marker instead of filtering every row
    # before it.
    return sa.and_(first >= value if direction == 'asc' else first <= value,
                   after)


# The index a list walks in its order, by its first sort key and whether
# it is of one type (see migration 0005).
_ORDER_INDEXES = {('created_at', True): 'ga_artifacts_type_created_idx',
                  ('updated_at', True): 'ga_artifacts_type_updated_idx',
                  ('created_at', False): 'ga_artifacts_created_idx'}
# Filters that have indexes of their own, better than any walk.
_SEEKING_FILTERS = ('name', 'owner')


def _seek_at_marker(query, type_name, sorts, filters):
    """A page after a marker on MariaDB (and MySQL): given the choice,
    they read the order index from the start of its type_name prefix
    (a "ref" access) and filter out every row before the marker, rather
    than seek to the marker with the range its condition gives, as both
    read about the same rows by their estimate; page 40 then costs forty
    pages. Told to use the order index, they use the range. Not when a
    name or owner filter has a better index."""
    first = sorts[0] if sorts else {'where': 'column', 'column': 'id'}
    index = _ORDER_INDEXES.get((first.get('column'),
                                type_name is not None))
    if index is None or first['where'] != 'column' or any(
            f['where'] == 'column' and f['column'] in _SEEKING_FILTERS
            for f in filters):
        return query
    hint = 'FORCE INDEX (%s)' % index
    return (query.with_hint(A, hint, dialect_name='mysql')
            .with_hint(A, hint, dialect_name='mariadb'))


def artifact_list(context, type_name, filters=(), sorts=(), limit=25,
                  marker=None, latest=False, member_status='accepted',
                  marker_values=None):
    """Visible artifacts of ``type_name`` (all types when None).

    filters: [{'where': 'column'|'property'|'tag'|'metadata', 'op': ...,
               'values': [...], 'column'/'field'/'key': ...}]
    sorts: [{'where': 'column'|'property', 'column': ..., 'field': ...,
             'dir': 'asc'|'desc'}]; ``id`` is always the last key.
    latest: only the highest version of each name among the matches.
    member_status: of artifacts shared with the caller, list those whose
    membership has this status (None: any).
    marker_values: instead of a marker, the values of the sort keys (and
    id last) of a row that is not an artifact (an image, in the list of
    every type) to list after.
    """
    filters = list(filters)
    keys = [(_sort_expression(A, s), s['dir']) for s in sorts]
    if not any(s['where'] == 'column' and s['column'] == 'id'
               for s in sorts):
        keys.append((A.c.id, sorts[-1]['dir'] if sorts else 'desc'))
    with get_engine().connect() as conn:
        common = _common(conn, filters)
        conds = _conditions(A, context, type_name, filters, member_status,
                            common)
        if latest:
            # No listed artifact of the same type and name has a higher
            # version: an index range (type_name, name, version_key) per
            # row.
            b = A.alias('b')
            conds.append(~sa.exists().where(
                b.c.type_name == A.c.type_name, b.c.name == A.c.name,
                b.c.version_key > A.c.version_key,
                *_conditions(b, context, type_name, filters, member_status,
                             common)))
        if marker is not None:
            marker_row = conn.execute(
                sa.select(*[e.label('k%d' % i)
                            for i, (e, _d) in enumerate(keys)])
                .where(A.c.id == marker, *conds)).first()
            if marker_row is None:
                raise errors.InvalidMarker(
                    'marker %s is not an artifact of this list' % marker)
            conds.append(_after(keys, list(marker_row)))
        elif marker_values is not None:
            conds.append(_after(keys, list(marker_values)))
        order = []
        for expr, direction in keys:
            if _nullable(expr):
                order.append(sa.case((expr.is_(None), 1), else_=0))
            order.append(expr.asc() if direction == 'asc' else expr.desc())
        query = sa.select(A).where(*conds).order_by(*order).limit(limit)
        if marker is not None or marker_values is not None:
            query = _seek_at_marker(query, type_name, sorts, filters)
        rows = conn.execute(query).fetchall()
        children = _load_children(conn, [r.id for r in rows])
        return [_record(r, children) for r in rows]


# -- blob uploads ------------------------------------------------------------


def _check_drafted(record):
    if record['status'] != 'drafted':
        raise errors.Conflict('The artifact is %s: its blobs are frozen.'
                              % record['status'])


def _upload_key(artifact_id, field, key):
    return [U.c.artifact_id == artifact_id, U.c.field == field,
            U.c.key == key]


def _upload_caller(conn, context, artifact_id):
    """Uploads are their artifact's: only its owner or an admin beats,
    reserves for, aborts or lists them. False when the artifact is gone
    (its uploads went with it); NotFound when the caller cannot see it,
    Forbidden when it may see but not write it."""
    if context.is_admin:
        return True
    row = conn.execute(sa.select(A.c.owner, _visible(A, context)
                                 .label('visible'))
                       .where(A.c.id == artifact_id)).first()
    if row is None:
        return False
    if not row.visible:
        raise errors.NotFound('no artifact with id %s' % artifact_id)
    _check_owner(context, {'id': artifact_id, 'owner': row.owner})
    return True


# The names of upload ids (and so of data: glance.artifacts.store names
# the data of upload U "artifact-U").
UPLOAD_ID = re.compile(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-'
                       r'[0-9a-f]{12}')
DATA_PREFIX = 'artifact-'
# The process that records an upload (glance.artifacts.catalog
# .this_process): host name, pid and start time.
_PROCESS = re.compile(r'[^\s:]+:[0-9]{1,10}:[0-9]{1,12}(\.[0-9]{1,6})?')
BLOB_VALUES = frozenset(('status', 'size', 'checksum', 'os_hash_algo',
                         'os_hash_value', 'content_type', 'location',
                         'backend'))


def _check_upload(upload):
    """An upload record as blob_upload_begin takes it."""
    if not isinstance(upload, dict) or set(upload) - {
            'upload_id', 'backend', 'process', 'reserved', 'method'}:
        raise errors.Invalid('An upload is {"upload_id", "backend", '
                             '"process", "reserved", "method"}.')
    if upload.get('method') not in (None, 'stage'):
        raise errors.Invalid('An upload\'s method is null (the data of '
                             'the blob) or "stage" (data for an import).')
    if not (isinstance(upload.get('upload_id'), str) and
            UPLOAD_ID.fullmatch(upload['upload_id'])):
        raise errors.Invalid('An upload id is a UUID in its canonical '
                             'form.')
    if not (isinstance(upload.get('backend'), str) and
            len(upload['backend']) <= 255):
        raise errors.Invalid("An upload's backend is a string of at most "
                             "255 characters.")
    if not (isinstance(upload.get('process'), str) and
            len(upload['process']) <= 255 and
            _PROCESS.fullmatch(upload['process'])):
        raise errors.Invalid("An upload's process is HOST:PID:START.")
    reserved = upload.get('reserved') or 0
    if not isinstance(reserved, int) or isinstance(reserved, bool) or \
            reserved < 0:
        raise errors.Invalid("An upload's reserved bytes are a "
                             "non-negative integer.")


# What no location that a store made holds: dot segments, a query or a
# fragment, escapes, backslashes, spaces and control characters.
_LOCATION_TRICKS = re.compile(r'/\.\.?(/|$)|[?#%\\\s\x00-\x1f\x7f]')


def _check_data(upload_id, backend, values):
    """The data that a finished upload makes the blob's is the data that
    upload wrote: named after it, in the backend it recorded. No caller
    points a blob at other data (another artifact's, or a file of the
    host: OSSA-2014-041)."""
    if not isinstance(values, dict) or set(values) - BLOB_VALUES:
        raise errors.Invalid('Blob values are some of %s.'
                             % ', '.join(sorted(BLOB_VALUES)))
    location = values.get('location')
    # The data's name is the location's last segment (an RBD location
    # ends in the image's snapshot, "/snap", after it).
    if not (isinstance(location, str) and
            DATA_PREFIX + upload_id in location.split('/')[-2:] and
            not _LOCATION_TRICKS.search(location)):
        raise errors.Invalid(
            'The data of upload %s is at a location named %s%s, in the '
            'backend the upload recorded; %r is not.'
            % (upload_id, DATA_PREFIX, upload_id, str(location)[:200]))
    if (values.get('backend') or '') != (backend or ''):
        raise errors.Invalid(
            'Upload %s writes to backend %r, not %r.'
            % (upload_id, backend or '', str(values.get('backend'))[:64]))


@_retry
def blob_upload_begin(context, artifact_id, type_name, field, key, upload,
                      expect=None, limits=None):
    """Record that ``upload`` (upload_id, backend, process, and the bytes
    it reserves) writes the blob ``field``/``key`` ('' for a single blob)
    of a visible artifact; Conflict while another upload of that blob
    runs, Changed unless the artifact's columns have the values in
    ``expect``, OverLimit when the artifact's owner would pass
    ``limits`` (artifact_count_uploading, artifact_size_total in
    bytes)."""
    _check_upload(upload)
    reserved = upload.get('reserved') or 0
    quota = _quota_project(_owner_of(artifact_id), limits)
    try:
        with get_engine().begin() as conn:
            if quota:
                # The project's lock first, and only then the artifact's
                # (as no writer takes them the other way round).
                _lock_quota(conn, quota)
            _check_drafted(_lock(conn, context, artifact_id, type_name,
                                 expect))
            if quota:
                _check_limits(quota, limits, _usage(conn, quota),
                              {COUNT_UPLOADING: 1, SIZE_TOTAL: reserved})
            conn.execute(U.insert().values(
                artifact_id=artifact_id, field=field, key=key,
                upload_id=upload['upload_id'], backend=upload['backend'],
                process=upload['process'], started_at=utcnow(),
                heartbeat_at=utcnow(), reserved=reserved,
                method=upload.get('method')))
    except db_exc.DBDuplicateEntry:
        raise errors.Conflict('Another upload to %s is in progress, or '
                              'data is staged for it; try again when the '
                              'upload or the import ends.'
                              % (field + ('/' + key if key else '')))


@_retry
def blob_upload_heartbeat(context, artifact_id, field, key, upload_id):
    """Mark the upload alive; False when it is no longer recorded (the
    artifact was deleted, or the upload was declared stale)."""
    with get_engine().begin() as conn:
        if not _upload_caller(conn, context, artifact_id):
            return False
        result = conn.execute(
            U.update().where(*_upload_key(artifact_id, field, key),
                             U.c.upload_id == upload_id)
            .values(heartbeat_at=utcnow()))
        return result.rowcount == 1


@_retry
def blob_upload_reserve(context, artifact_id, field, key, upload_id, need,
                        want, limits):
    """Let the upload hold at least ``need`` and up to ``want`` bytes
    against its project's ``limits['artifact_size_total']`` (bytes), as
    far as the limit leaves room; returns the bytes it now holds, or None
    when the upload is no longer recorded. OverLimit when not even
    ``need`` fits. Marks the upload alive, as a heartbeat does."""
    quota = _quota_project(_owner_of(artifact_id), limits)
    with get_engine().begin() as conn:
        if quota:
            _lock_quota(conn, quota)
        if not _upload_caller(conn, context, artifact_id):
            return None
        where = _upload_key(artifact_id, field, key) + [
            U.c.upload_id == upload_id]
        held = conn.execute(sa.select(U.c.reserved).where(*where)).scalar()
        if held is None:
            return None
        grant = want
        if quota and SIZE_TOTAL in limits:
            usage = _usage(conn, quota)
            usage[SIZE_TOTAL] -= held
            _check_limits(quota, limits, usage, {SIZE_TOTAL: need})
            grant = max(need, min(want, limits[SIZE_TOTAL] -
                                  usage[SIZE_TOTAL]))
        conn.execute(U.update().where(*where).values(
            reserved=grant, heartbeat_at=utcnow()))
        return grant


# The methods of the upload rows that blob_upload_finish ends.
FINISHED_METHODS = (None, 'glance-direct', 'web-download')


def _locked_upload(conn, context, artifact_id, type_name, field, key,
                   upload_id, copy=False, methods=FINISHED_METHODS):
    """(record, upload row) once the artifact's lock is taken, when the
    blob's upload (a copy, with ``copy``; else one of ``methods``)
    ``upload_id`` is still recorded; else Conflict (the artifact was
    deleted, or the upload was taken for dead)."""
    try:
        record = _lock(conn, context, artifact_id, type_name)
    except errors.NotFound:
        record = None
    current = conn.execute(
        sa.select(U).where(*_upload_key(artifact_id, field, key))).first()
    if record is None or current is None or \
            current.upload_id != upload_id or \
            (current.copy_of is not None) != copy or \
            (not copy and current.method not in methods):
        what = 'copy' if copy else 'upload'
        raise errors.Conflict(
            'The %s %s %s was cancelled while it ran (the artifact was '
            'deleted, or the %s was taken for dead).'
            % (what, 'of' if copy else 'to', field, what))
    return record, current


@_retry
def blob_upload_finish(context, artifact_id, type_name, field, key,
                       upload_id, values, keep_for=None, changes=None,
                       copies=None, failed_stores=None):
    """Make the uploaded data the blob's, in one transaction.

    Returns (artifact record, the blob row it replaced or None); Conflict
    when the upload is no longer recorded. With ``keep_for`` (seconds),
    the replaced data goes to the pending deletes instead, and None is
    returned for it. ``changes`` (values as artifact_update takes them:
    the fields an inspection of the data filled) are written in the same
    transaction. An import ends with the data in one of its backends
    (``values``), the ``copies`` it wrote to others ([{backend,
    location}]) and the backends that failed (``failed_stores``)."""
    b = models.blobs
    now = timeutils.utcnow()
    with get_engine().begin() as conn:
        record, current = _locked_upload(conn, context, artifact_id,
                                         type_name, field, key, upload_id)
        copies = _check_import(current, values, copies or [],
                               failed_stores or [])
        _check_data(upload_id, values.get('backend') if current.method
                    else current.backend, values)
        _check_drafted(record)
        where = [b.c.artifact_id == artifact_id, b.c.field == field,
                 b.c.key == key]
        previous = _blob_row(record, field, key)
        values = dict(values, data_name=DATA_PREFIX + upload_id,
                      failed_stores=','.join(failed_stores or ()) or None)
        if previous is None:
            conn.execute(b.insert().values(
                artifact_id=artifact_id, field=field, key=key,
                created_at=now, updated_at=now, **values))
        else:
            # The old data's copies go with it (the new data's copies are
            # an import's, below).
            conn.execute(b.update().where(*where)
                         .values(updated_at=now, **values))
            conn.execute(C.delete().where(*_copy_key(artifact_id, field,
                                                     key)))
            if keep_for is not None:
                _keep(conn, _every_copy([previous]), keep_for)
                previous = None
        for copy in copies:
            conn.execute(C.insert().values(
                artifact_id=artifact_id, field=field, key=key,
                backend=copy['backend'], location=copy['location'],
                data_name=DATA_PREFIX + upload_id, created_at=utcnow()))
        conn.execute(U.delete().where(*_upload_key(artifact_id, field, key)))
        cols = _columns(changes or {})
        try:
            conn.execute(A.update().where(A.c.id == artifact_id)
                         .values(updated_at=now, **cols))
        except db_exc.DBDuplicateEntry:
            raise _duplicate(dict(record, **cols))
        if changes:
            _write_children(conn, artifact_id, changes)
        record = _get(conn, context, artifact_id, type_name)
    return record, previous


def _check_import(current, values, copies, failed_stores):
    """The copies an upload row's finish records, once checked: an
    import's, in backends of its own but the one its data is in, named
    after it; none for an upload."""
    if not isinstance(values, dict):
        raise errors.Invalid('Blob values are an object.')
    targets = [current.backend] + [
        s for s in (current.pending_stores or '').split(',') if s]
    if not current.method:
        if copies or failed_stores:
            raise errors.Invalid('Only an import writes copies or fails '
                                 'in stores.')
        return []
    if not (isinstance(copies, list) and all(
            isinstance(c, dict) and set(c) == {'backend', 'location'}
            for c in copies) and isinstance(failed_stores, list)):
        raise errors.Invalid('copies are [{"backend", "location"}]; '
                             'failed_stores a list of backends.')
    used = [values.get('backend')] + [c['backend'] for c in copies]
    if len(set(used)) != len(used) or \
            not set(used + failed_stores) <= set(targets):
        raise errors.Invalid('The import of %s writes to %s, each once.'
                             % (current.field, ', '.join(targets)))
    for copy in copies:
        _check_data(current.upload_id, copy['backend'], copy)
    return copies


@_retry
def blob_upload_abort(context, artifact_id, field, key, upload_id,
                      failed_stores=None, restage=False):
    """Forget the upload (its data is the caller's to delete); True when it
    was still recorded. ``failed_stores`` (backends where an import
    failed) become the blob's failed stores. With ``restage``, an import
    of staged data (glance-direct) becomes staged data again, for another
    import, rather than being forgotten with it."""
    b = models.blobs
    with get_engine().begin() as conn:
        if not _upload_caller(conn, context, artifact_id):
            return False
        where = _upload_key(artifact_id, field, key) + [
            U.c.upload_id == upload_id]
        if restage:
            forgotten = conn.execute(U.update().where(
                *where, U.c.method == 'glance-direct').values(
                method='staged', reserved=0, pending_stores=None,
                heartbeat_at=utcnow())).rowcount
        else:
            forgotten = conn.execute(U.delete().where(*where)).rowcount
        if forgotten and failed_stores:
            conn.execute(b.update().where(
                b.c.artifact_id == artifact_id, b.c.field == field,
                b.c.key == key).values(
                failed_stores=','.join(failed_stores)))
        return forgotten == 1


_STAGED_VALUES = frozenset(('location', 'size', 'checksum', 'os_hash_value',
                            'content_type'))


@_retry
def blob_stage_finish(context, artifact_id, type_name, field, key,
                      upload_id, values, limits=None):
    """The stage ``upload_id`` wrote its data, ``values`` (location,
    size, checksum, os_hash_value, content_type), to the staging store;
    it is staged data now, which waits for an import (glance-direct).
    Returns the record; Conflict when the stage is no longer recorded,
    OverLimit when the data would pass the project's
    artifact_stage_total."""
    if not (isinstance(values, dict) and set(values) == _STAGED_VALUES):
        raise errors.Invalid('Staged values are %s.'
                             % ', '.join(sorted(_STAGED_VALUES)))
    size = values['size']
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise errors.Invalid('The size of staged data is a non-negative '
                             'integer.')
    quota = _quota_project(_owner_of(artifact_id), limits)
    with get_engine().begin() as conn:
        if quota:
            _lock_quota(conn, quota)
        record, current = _locked_upload(conn, context, artifact_id,
                                         type_name, field, key, upload_id,
                                         methods=('stage',))
        _check_data(upload_id, current.backend,
                    {'location': values['location'],
                     'backend': current.backend})
        _check_drafted(record)
        if quota:
            _check_limits(quota, limits, _usage(conn, quota),
                          {STAGE_TOTAL: size})
        conn.execute(U.update().where(
            *_upload_key(artifact_id, field, key),
            U.c.upload_id == upload_id).values(
            method='staged', reserved=0, heartbeat_at=utcnow(), **values))
        conn.execute(A.update().where(A.c.id == artifact_id)
                     .values(updated_at=timeutils.utcnow()))
        return _get(conn, context, artifact_id, type_name)


IMPORT_METHODS = ('glance-direct', 'web-download')


@_retry
def blob_import_begin(context, artifact_id, type_name, field, key, imp,
                      limits=None):
    """Record the import ``imp`` (upload_id, method, process, and the
    backends it writes to, in order) into the blob ``field``/``key``: of
    its staged data (glance-direct, under the upload id of the stage;
    Conflict when none is staged or it is being imported), or of data
    from a URL (web-download; Conflict
    while an upload, stage or import of the blob runs). It holds the
    staged size per backend against artifact_size_total (data from a URL
    reserves as it streams, as an upload of unknown size) and counts as
    an upload in progress. Returns the record."""
    if not (isinstance(imp, dict) and
            set(imp) == {'upload_id', 'method', 'backends', 'process'} and
            imp['method'] in IMPORT_METHODS):
        raise errors.Invalid('An import is {"upload_id", "method" (%s), '
                             '"backends", "process"}.'
                             % ', '.join(IMPORT_METHODS))
    _check_copy({'upload_id': imp['upload_id'], 'backends': imp['backends'],
                 'process': imp['process']})
    quota = _quota_project(_owner_of(artifact_id), limits)
    name = field + ('/' + key if key else '')
    try:
        with get_engine().begin() as conn:
            if quota:
                _lock_quota(conn, quota)
            record = _lock(conn, context, artifact_id, type_name)
            _check_drafted(record)
            current = conn.execute(sa.select(U).where(
                *_upload_key(artifact_id, field, key))).first()
            usage = _usage(conn, quota) if quota else None
            row = dict(upload_id=imp['upload_id'], method=imp['method'],
                       backend=imp['backends'][0],
                       pending_stores=','.join(imp['backends'][1:]) or None,
                       process=imp['process'], started_at=utcnow(),
                       heartbeat_at=utcnow())
            if imp['method'] == 'glance-direct':
                if current is None or current.method not in (
                        'staged', 'glance-direct', 'stage'):
                    raise errors.Conflict(
                        'No data is staged for %s: stage it first (PUT '
                        '.../stage), then import it with glance-direct.'
                        % name if current is None else
                        'An upload or import of %s is in progress.' % name)
                if current.method != 'staged':
                    raise errors.Conflict(
                        'The data of %s is being %s.' % (name, (
                            'staged' if current.method == 'stage'
                            else 'imported')))
                # The import goes on under the stage's upload id: what it
                # writes and the staged data share their name, by which
                # garbage collection sees both in use.
                if imp['upload_id'] != current.upload_id:
                    raise errors.Conflict('Other data was staged for %s '
                                          'meanwhile.' % name)
                row['reserved'] = (current.size or 0) * len(imp['backends'])
                if quota:
                    _check_limits(quota, limits, usage,
                                  {SIZE_TOTAL: row['reserved']})
                conn.execute(U.update().where(
                    *_upload_key(artifact_id, field, key),
                    U.c.upload_id == current.upload_id).values(**row))
            else:
                if quota:
                    _check_limits(quota, limits, usage, {COUNT_UPLOADING: 1})
                conn.execute(U.insert().values(
                    artifact_id=artifact_id, field=field, key=key,
                    reserved=0, **row))
            conn.execute(A.update().where(A.c.id == artifact_id)
                         .values(updated_at=timeutils.utcnow()))
            return _get(conn, context, artifact_id, type_name)
    except db_exc.DBDuplicateEntry:
        raise errors.Conflict('Another upload or import of %s is in '
                              'progress, or data is staged for it.' % name)


# -- copies of a blob's data in other stores ---------------------------------

def _blob_row(record, field, key):
    return next((b for b in record['blobs']
                 if b['field'] == field and b['key'] == key), None)


def _copy_key(artifact_id, field, key):
    return [C.c.artifact_id == artifact_id, C.c.field == field,
            C.c.key == key]


def _every_copy(blob_rows):
    """The blob rows and the copies of their data: every (backend,
    location, data_name) that holds it."""
    return [r for b in blob_rows for r in [b] + list(b.get('copies', ()))]


def _stores(blob):
    return [blob['backend'] or ''] + [c['backend'] for c in blob['copies']]


def _check_copy(copy):
    """A copy as blob_copy_begin takes it."""
    if not isinstance(copy, dict) or set(copy) != {
            'upload_id', 'backends', 'process'}:
        raise errors.Invalid('A copy is {"upload_id", "backends", '
                             '"process"}.')
    backends = copy['backends']
    if not (isinstance(backends, list) and backends and
            len(backends) == len(set(backends)) and
            all(isinstance(b, str) and 0 < len(b) <= 255 and ',' not in b
                for b in backends)):
        raise errors.Invalid("A copy's backends are a list of distinct "
                             "names of at most 255 characters, without "
                             "commas.")
    _check_upload({'upload_id': copy['upload_id'],
                   'backend': backends[0], 'process': copy['process']})


@_retry
def blob_copy_begin(context, artifact_id, type_name, field, key, copy,
                    limits=None):
    """Record that ``copy`` (upload_id, process, and the backends it
    copies to, in order) copies the data of the blob ``field``/``key`` of
    a visible artifact to other stores; returns the artifact's record.
    The copy holds the blob's size per backend against its project's
    artifact_size_total (each copy of the data counts, as each location
    of an image does) and counts as an upload in progress. Conflict while
    another upload or copy of that blob runs, when the blob has no active
    data, or when a backend already holds it; the backends it failed in
    the last time are forgotten."""
    _check_copy(copy)
    quota = _quota_project(_owner_of(artifact_id), limits)
    b = models.blobs
    try:
        with get_engine().begin() as conn:
            if quota:
                _lock_quota(conn, quota)
            record = _lock(conn, context, artifact_id, type_name)
            blob = _blob_row(record, field, key)
            if blob is None or blob['status'] != 'active' or \
                    not blob['data_name']:
                raise errors.Conflict('%s has no data to copy.'
                                      % (field + ('/' + key if key
                                                  else '')))
            held = sorted(set(copy['backends']) & set(_stores(blob)))
            if held:
                raise errors.Conflict('%s already has its data in %s.'
                                      % (field + ('/' + key if key
                                                  else ''),
                                         ', '.join(held)))
            reserved = (blob['size'] or 0) * len(copy['backends'])
            if quota:
                _check_limits(quota, limits, _usage(conn, quota),
                              {COUNT_UPLOADING: 1, SIZE_TOTAL: reserved})
            conn.execute(U.insert().values(
                artifact_id=artifact_id, field=field, key=key,
                upload_id=copy['upload_id'], backend=copy['backends'][0],
                process=copy['process'], started_at=utcnow(),
                heartbeat_at=utcnow(), reserved=reserved,
                copy_of=blob['data_name'],
                pending_stores=','.join(copy['backends'][1:]) or None))
            conn.execute(b.update().where(
                b.c.artifact_id == artifact_id, b.c.field == field,
                b.c.key == key).values(failed_stores=None))
            return _get(conn, context, artifact_id, type_name)
    except db_exc.DBDuplicateEntry:
        raise errors.Conflict('Another upload or copy of %s is in '
                              'progress; try again when it ends.'
                              % (field + ('/' + key if key else '')))


@_retry
def blob_copy_step(context, artifact_id, type_name, field, key, upload_id,
                   values=None, stop=False):
    """End the copy's write to its current backend: with ``values``
    (location, backend) the data written there becomes a copy of the
    blob's; without, that backend failed, and is added to the blob's
    failed stores. Then the copy goes on to its next backend, or ends
    (``stop``, or none left; the backends not reached are not failed).
    ``stop`` ends it because all stores had to succeed: the copies it
    made are removed with it, in the same transaction (their data is the
    caller's to delete).
    Returns (record, the backend to write to next or None). Conflict when
    the copy is no longer recorded or the blob's data changed meanwhile
    (a copy written then is the caller's to delete); Invalid unless
    ``values['location']`` names the copy's own data in its backend."""
    b = models.blobs
    with get_engine().begin() as conn:
        record, current = _locked_upload(conn, context, artifact_id,
                                         type_name, field, key, upload_id,
                                         copy=True)
        blob = _blob_row(record, field, key)
        if blob is None or blob['data_name'] != current.copy_of:
            raise errors.Conflict('The data of %s was replaced while it '
                                  'was copied.' % field)
        where = [b.c.artifact_id == artifact_id, b.c.field == field,
                 b.c.key == key]
        failed = [s for s in (blob['failed_stores'] or '').split(',') if s]
        if values is not None:
            if not isinstance(values, dict) or \
                    set(values) != {'location', 'backend'}:
                raise errors.Invalid('A copy\'s values are {"location", '
                                     '"backend"}.')
            _check_data(upload_id, current.backend, values)
            conn.execute(C.insert().values(
                artifact_id=artifact_id, field=field, key=key,
                backend=current.backend, location=values['location'],
                data_name=DATA_PREFIX + upload_id, created_at=utcnow()))
        else:
            failed.append(current.backend)
        conn.execute(b.update().where(*where).values(
            failed_stores=','.join(failed) or None))
        pending = [s for s in (current.pending_stores or '').split(',')
                   if s]
        following = None
        if pending and not stop:
            following = pending[0]
            conn.execute(U.update().where(
                *_upload_key(artifact_id, field, key)).values(
                backend=following,
                pending_stores=','.join(pending[1:]) or None,
                reserved=(blob['size'] or 0) * len(pending),
                heartbeat_at=utcnow()))
        else:
            conn.execute(U.delete().where(*_upload_key(artifact_id, field,
                                                       key)))
            if stop:
                conn.execute(C.delete().where(
                    *_copy_key(artifact_id, field, key),
                    C.c.data_name == DATA_PREFIX + upload_id))
        conn.execute(A.update().where(A.c.id == artifact_id)
                     .values(updated_at=timeutils.utcnow()))
        return _get(conn, context, artifact_id, type_name), following


@_retry
def blob_copy_drop(context, artifact_id, type_name, field, key, backend,
                   keep_for=None):
    """Remove the data of the blob ``field``/``key`` from ``backend``,
    never its last copy. Returns (record, the dropped data as {backend,
    location, data_name}, or None when it went to the pending deletes,
    with ``keep_for`` seconds). When the dropped data is the one the
    blob's row records, its oldest copy takes its place. NotFound when
    the blob has no data in ``backend``, Forbidden for its only copy,
    Conflict while an upload or a copy of the blob runs."""
    b = models.blobs
    with get_engine().begin() as conn:
        record = _lock(conn, context, artifact_id, type_name)
        name = field + ('/' + key if key else '')
        blob = _blob_row(record, field, key)
        if blob is None or (backend or '') not in _stores(blob):
            raise errors.NotFound('%s has no data in store %s.'
                                  % (name, str(backend)[:64]))
        if any(u['field'] == field and u['key'] == key
               for u in record['uploads']):
            raise errors.Conflict('An upload or a copy of %s is in '
                                  'progress; try again when it ends.'
                                  % name)
        if len(_stores(blob)) == 1:
            raise errors.Forbidden(
                'Store %s holds the only copy of the data of %s; delete '
                'the artifact or replace the data instead.'
                % (str(backend)[:64], name))
        where = [b.c.artifact_id == artifact_id, b.c.field == field,
                 b.c.key == key]
        if (blob['backend'] or '') == (backend or ''):
            dropped = blob
            heir = blob['copies'][0]
            conn.execute(b.update().where(*where).values(
                backend=heir['backend'], location=heir['location'],
                data_name=heir['data_name']))
            gone = heir['backend']
        else:
            dropped = next(c for c in blob['copies']
                           if c['backend'] == backend)
            gone = backend
        conn.execute(C.delete().where(*_copy_key(artifact_id, field, key),
                                      C.c.backend == gone))
        conn.execute(A.update().where(A.c.id == artifact_id)
                     .values(updated_at=timeutils.utcnow()))
        dropped = {k: dropped[k] for k in ('backend', 'location',
                                           'data_name')}
        if keep_for is not None:
            _keep(conn, [dropped], keep_for)
            dropped = None
        return _get(conn, context, artifact_id, type_name), dropped


def _admin_only(context, what):
    """What belongs to glance-api's housekeeping is refused, never
    answered empty, to other callers: an empty answer would tell the
    garbage collector that nothing is in use."""
    if not context.is_admin:
        raise errors.Forbidden('Only an admin (glance-api\'s own '
                               'housekeeping) reads %s.' % what)


def blob_upload_list(context, artifact_id=None):
    """Uploads in progress: of one artifact (its owner's or an admin's),
    or all of them (admin only)."""
    where = []
    with get_engine().connect() as conn:
        if artifact_id is not None:
            if not _upload_caller(conn, context, artifact_id):
                return []
            where.append(U.c.artifact_id == artifact_id)
        else:
            _admin_only(context, 'the uploads of every artifact')
        return _upload_rows(conn, *where)


# -- store data --------------------------------------------------------------

def _keep(conn, blob_rows, seconds):
    """Queue the data of ``blob_rows`` for deletion ``seconds`` from now by
    the database's clock."""
    rows = [{'backend': r['backend'], 'location': r['location'],
             'data_name': r.get('data_name')}
            for r in blob_rows if r['location']]
    if rows:
        now = conn.execute(sa.select(utcnow())).scalar()
        conn.execute(D.insert().values(
            delete_after=now + datetime.timedelta(seconds=seconds)), rows)


def blob_data_used(context, names):
    """Which of the store data ``names`` (artifact-<upload id>) may not be
    collected as garbage (admin only): the data of an upload or copy in
    progress, of a copy of a blob's data, of a blob or of a pending
    delete. Data moves from an upload to a copy or a blob, from a copy to
    a blob (blob_copy_drop) and from either to a pending delete, never
    back, and they are read in that order, so that data moving meanwhile
    is seen at least once. Each is an index lookup by name; a row whose
    location held no name when it was migrated (data name null) is
    matched by every segment of its location."""
    _admin_only(context, 'what blob data is in use')
    if len(names) > models.DATA_NAMES_MAX:
        raise errors.Invalid('At most %d data names per call.'
                             % models.DATA_NAMES_MAX)
    asked = set(names)
    upload_ids = [n[len(DATA_PREFIX):] for n in asked
                  if n.startswith(DATA_PREFIX)]
    used = set()
    with get_engine().connect() as conn:
        if upload_ids:
            used.update(DATA_PREFIX + r[0] for r in conn.execute(
                sa.select(U.c.upload_id).where(U.c.upload_id.in_(
                    upload_ids))))
        if asked:
            used.update(r[0] for r in conn.execute(
                sa.select(C.c.data_name).where(C.c.data_name.in_(asked))))
        for table in (models.blobs, D):
            if asked:
                used.update(r[0] for r in conn.execute(
                    sa.select(table.c.data_name).where(
                        table.c.data_name.in_(asked))))
            for r in conn.execute(sa.select(table.c.location).where(
                    table.c.data_name.is_(None),
                    table.c.location.is_not(None))):
                used.update(asked.intersection(r[0].split('/')))
    return sorted(used & asked)


def pending_delete_list(context, limit=1000):
    """Pending deletes whose time has come (admin only), oldest first."""
    _admin_only(context, 'the pending deletes')
    with get_engine().connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            sa.select(D).where(D.c.delete_after <= utcnow())
            .order_by(D.c.delete_after, D.c.id).limit(limit))]


@_retry
def pending_delete_remove(context, ids):
    """Forget pending deletes that were carried out (admin only)."""
    _admin_only(context, 'the pending deletes')
    if not ids:
        return 0
    with get_engine().begin() as conn:
        return conn.execute(D.delete().where(D.c.id.in_(ids))).rowcount


# -- quotas ------------------------------------------------------------------

Q = models.quota_locks
COUNT_TOTAL, SIZE_TOTAL, COUNT_UPLOADING, STAGE_TOTAL = \
    interface.QUOTA_RESOURCES
MiB = 1024 * 1024


def _quota_project(project, limits):
    """The project whose quotas a write checks (None: no check), after
    making sure it has its row in ga_quota_locks."""
    if not limits or not project:
        return None
    with get_engine().connect() as conn:
        known = conn.execute(sa.select(Q.c.project_id).where(
            Q.c.project_id == project)).first()
    if known is None:
        try:
            with get_engine().begin() as conn:
                conn.execute(Q.insert().values(project_id=project,
                                               checks=0))
        except db_exc.DBDuplicateEntry:
            pass
    return project


def _owner_of(artifact_id):
    with get_engine().connect() as conn:
        return conn.execute(sa.select(A.c.owner).where(
            A.c.id == artifact_id)).scalar()


def _lock_quota(conn, project):
    """Take the project's quota lock, as the first statement of the
    transaction: the usage read after it includes every write of another
    checker of this project (on any host), which committed before it let
    go of the lock."""
    conn.execute(Q.update().where(Q.c.project_id == project)
                 .values(checks=Q.c.checks + 1))


def _usage(conn, project):
    """{resource: usage} of a project: artifacts, bytes of blob data (each
    copy of it in another store counted) with what uploads and copies in
    progress reserve, and uploads in progress."""
    b = models.blobs
    count = conn.execute(sa.select(sa.func.count()).select_from(A)
                         .where(A.c.owner == project)).scalar()
    stored = conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(b.c.size), 0))
        .select_from(b.join(A, A.c.id == b.c.artifact_id))
        .where(A.c.owner == project)).scalar()
    stored += conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(b.c.size), 0))
        .select_from(C.join(A, A.c.id == C.c.artifact_id).join(
            b, sa.and_(b.c.artifact_id == C.c.artifact_id,
                       b.c.field == C.c.field, b.c.key == C.c.key)))
        .where(A.c.owner == project)).scalar()
    uploading, reserved, staged = conn.execute(
        sa.select(sa.func.count(),
                  sa.func.coalesce(sa.func.sum(U.c.reserved), 0),
                  sa.func.coalesce(sa.func.sum(U.c.size), 0))
        .select_from(U.join(A, A.c.id == U.c.artifact_id))
        .where(A.c.owner == project)).first()
    # Only staged data has a size in ga_blob_uploads (staged, or being
    # imported by glance-direct).
    return {COUNT_TOTAL: int(count),
            SIZE_TOTAL: int(stored) + int(reserved),
            COUNT_UPLOADING: int(uploading),
            STAGE_TOTAL: int(staged)}


def _check_limits(project, limits, usage, deltas):
    """OverLimit, naming the limit, the usage and the value, when a delta
    would take a usage past its limit."""
    for name in interface.QUOTA_RESOURCES:
        if name not in deltas or name not in limits:
            continue
        used, more, limit = usage[name], deltas[name], limits[name]
        if used + more <= limit:
            continue
        if name in (SIZE_TOTAL, STAGE_TOTAL):
            raise errors.OverLimit(
                'Over quota: project %s holds %d bytes of %s; %d bytes '
                'more would pass its %s limit of %s MiB (%d bytes).'
                % (project, used, 'blob data (uploads in progress '
                   'included)' if name == SIZE_TOTAL else 'staged data',
                   more, name, _mib(limit), limit))
        what = ('artifacts' if name == COUNT_TOTAL
                else 'uploads in progress')
        raise errors.OverLimit(
            'Over quota: project %s has %d %s; its %s limit is %d.'
            % (project, used, what, name, limit))


def _mib(size):
    return ('%d' % (size // MiB) if size % MiB == 0
            else '%.6f' % (size / MiB))


def project_usage(context):
    """{resource: usage} of the caller's project (sizes in bytes)."""
    if not context.owner:
        return dict.fromkeys(interface.QUOTA_RESOURCES, 0)
    with get_engine().connect() as conn:
        return _usage(conn, context.owner)


# -- tags --------------------------------------------------------------------

@_retry
def artifact_tag_add(context, artifact_id, type_name, tag, expect=None):
    """Add a tag (adding it twice is harmless); returns the tag count.
    Changed unless the artifact's columns have the values in ``expect``."""
    tg = models.tags
    with get_engine().begin() as conn:
        record = _lock(conn, context, artifact_id, type_name, expect)
        if tag not in record['tags']:
            conn.execute(tg.insert().values(artifact_id=artifact_id,
                                            value=tag))
            conn.execute(A.update().where(A.c.id == artifact_id)
                         .values(updated_at=timeutils.utcnow()))
        return len(set(record['tags']) | {tag})


@_retry
def artifact_tag_delete(context, artifact_id, type_name, tag):
    """Remove a tag; NotFound when the artifact does not have it."""
    tg = models.tags
    with get_engine().begin() as conn:
        _lock(conn, context, artifact_id, type_name)
        if not conn.execute(tg.delete().where(
                tg.c.artifact_id == artifact_id,
                tg.c.value == tag)).rowcount:
            raise errors.NotFound("The artifact has no tag '%s'." % tag)
        conn.execute(A.update().where(A.c.id == artifact_id)
                     .values(updated_at=timeutils.utcnow()))


# -- references --------------------------------------------------------------

def artifact_referrers(context, artifact_id, fields):
    """Artifacts (any visibility) whose reference fields, given as
    [(type_name, field_name)], hold the visible ``artifact_id``: [{'id',
    'type_name', 'name', 'version', 'visible': True}] for those the
    caller can see, and a bare {'visible': False} for each of the others,
    whose names are not the caller's to know."""
    with get_engine().connect() as conn:
        _get(conn, context, artifact_id, None)
    if not fields:
        return []
    match = sa.or_(*[sa.and_(A.c.type_name == t, P.c.name == n)
                     for t, n in fields])
    query = (sa.select(A.c.id, A.c.type_name, A.c.name, A.c.version,
                       _visible(A, context).label('visible'))
             .select_from(A.join(P, P.c.artifact_id == A.c.id))
             .where(P.c.str_value == artifact_id, match)
             .distinct().order_by(A.c.id))
    with get_engine().connect() as conn:
        return [dict(r._mapping, visible=True) if r.visible
                else {'visible': False} for r in conn.execute(query)]


def artifact_reaches(context, start, goal, fields):
    """Whether ``goal`` is reachable from ``start`` along the reference
    fields [(type_name, field_name)] of the artifacts on the way, whoever
    owns them (admin only): one recursive query, which ends at any depth
    (UNION keeps each artifact once, so a cycle is walked once)."""
    _admin_only(context, 'the references of every project')
    if not fields or start == goal:
        return start == goal
    match = sa.or_(*[sa.and_(A.c.type_name == t, P.c.name == n)
                     for t, n in fields])
    # The start has the type of the values it is joined with (PostgreSQL
    # wants both terms of the recursion alike).
    reached = (sa.select(sa.cast(sa.literal(start), P.c.str_value.type)
                         .label('id'))
               .cte('reached', recursive=True))
    step = (sa.select(P.c.str_value)
            .select_from(P.join(A, A.c.id == P.c.artifact_id)
                         .join(reached, reached.c.id == P.c.artifact_id))
            .where(match, P.c.str_value.is_not(None)))
    reached = reached.union(step)
    query = sa.select(sa.literal(1)).where(reached.c.id == goal).limit(1)
    with get_engine().connect() as conn:
        if conn.dialect.name in ('mysql', 'mariadb'):
            # MariaDB stops a recursion after max_recursive_iterations
            # (1000) without a word, and MySQL fails past
            # cte_max_recursion_depth (1000): a deeper cycle would go
            # unseen. UNION ends it after the longest path anyway.
            variable = ('max_recursive_iterations'
                        if getattr(conn.dialect, 'is_mariadb', False)
                        else 'cte_max_recursion_depth')
            conn.exec_driver_sql('SET SESSION %s = 4294967295' % variable)
        return conn.execute(query).first() is not None


# -- members -----------------------------------------------------------------

M = models.members


def _member_row(row):
    return dict(row._mapping)


@_retry
def member_create(context, artifact_id, type_name, member, expect=None):
    """Share a visible artifact with project ``member`` (status pending);
    Duplicate when it is a member already, Changed unless the artifact's
    columns have the values in ``expect``."""
    now = timeutils.utcnow()
    try:
        with get_engine().begin() as conn:
            _lock(conn, context, artifact_id, type_name, expect)
            conn.execute(M.insert().values(
                artifact_id=artifact_id, member=member, status='pending',
                created_at=now, updated_at=now))
            return _member_row(conn.execute(sa.select(M).where(
                M.c.artifact_id == artifact_id,
                M.c.member == member)).one())
    except db_exc.DBDuplicateEntry:
        raise errors.Duplicate('%s is a member of the artifact already.'
                               % member)


def member_list(context, artifact_id, type_name, member=None):
    """Members of a visible artifact (only ``member`` when given). Only
    its owner and admins see every member; another project sees its own
    membership, and asking for another's is NotFound."""
    with get_engine().connect() as conn:
        record = _get(conn, context, artifact_id, type_name)
        if not context.is_admin and record['owner'] != context.owner:
            if member is not None and member != context.owner:
                raise errors.NotFound('%s is not a member of the artifact.'
                                      % member[:255])
            member = context.owner or ''
        query = sa.select(M).where(M.c.artifact_id == artifact_id)
        if member is not None:
            query = query.where(M.c.member == member)
        return [_member_row(r) for r in conn.execute(
            query.order_by(M.c.created_at, M.c.member))]


def _check_member(member):
    def may_write(context, record):
        if context.is_admin or context.owner == member:
            return
        if record['owner'] != context.owner:
            # Another project's membership is not the caller's to know of.
            raise errors.NotFound('%s is not a member of the artifact.'
                                  % member[:255])
        raise errors.Forbidden('Only project %s itself (or an admin) '
                               'accepts or rejects its membership.'
                               % member)
    return may_write


@_retry
def member_update(context, artifact_id, type_name, member, status):
    """The member itself (or an admin) sets its status."""
    with get_engine().begin() as conn:
        _lock(conn, context, artifact_id, type_name,
              may_write=_check_member(member))
        where = [M.c.artifact_id == artifact_id, M.c.member == member]
        if not conn.execute(M.update().where(*where).values(
                status=status, updated_at=timeutils.utcnow())).rowcount:
            raise errors.NotFound('%s is not a member of the artifact.'
                                  % member)
        return _member_row(conn.execute(sa.select(M).where(*where)).one())


@_retry
def member_delete(context, artifact_id, type_name, member):
    with get_engine().begin() as conn:
        _lock(conn, context, artifact_id, type_name)
        if not conn.execute(M.delete().where(
                M.c.artifact_id == artifact_id,
                M.c.member == member)).rowcount:
            raise errors.NotFound('%s is not a member of the artifact.'
                                  % member)
