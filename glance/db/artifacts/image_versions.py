"""Our own index of Glance's images by name and artifact version
(``ga_image_versions``), and how it keeps up with Glance's tables.

Glance's tables index neither an image's name nor its properties by
value, and they are Glance's to change: a list of images by version
(``sort=version``) or of the latest version of each name
(``version=latest``) made the database compute the version of every
visible image, 0.3-0.6 s a page at 100,000 images and 5 s at a million.
So we keep each image's id, name and version key in a table of our own;
such a list walks its indexes, joined to Glance's ``images`` for
everything else (visibility, members, status, filters), and reads about a
page of rows. Nothing else of an image is kept: its record is always
read from Glance's tables.

``refresh`` brings the index up to date before each such list, reading
only what changed. Glance sets an image's ``updated_at`` with every
change (of its row, its properties, its status or its deletion), so after
a first pass over every image by id, a pass reads images in the order of
(``updated_at``, id) from where the last complete pass started. A change
is seen only once its transaction commits, a moment after the
``updated_at`` its writer took (from its own host's clock; MariaDB keeps
whole seconds), so each pass starts ``LAG`` before that: it reads again
what changed in the last minute, and writes only the entries that
differ.

A refresh reads at most ``BATCH`` images. When more remain (the first
pass over a large cloud, or more changes within ``LAG`` than that), it
says so, the list is computed from Glance's tables as before (the same
answer, slower), and the next refresh goes on where this one stopped.
``glance-artifacts-manage db sync`` reads every image again, in full:
images written into Glance's tables by other means than Glance, with an
``updated_at`` older than the last pass (restored from a backup, copied
from another cloud), are read by nothing else, and lists by version
leave them out until then.

Entries of images that Glance purged from its tables stay: lists join
``images``, so no list shows them.
"""

import datetime
import logging
import time

from oslo_config import cfg
from oslo_db import exception as db_exc
from oslo_utils import timeutils
import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite

from glance.db.artifacts import images
from glance.db.artifacts import models
from glance.db.artifacts import sqlalchemy_api

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

#: How long after the ``updated_at`` of a change it may become visible
#: (its transaction's time and the clock skew between hosts).
LAG = datetime.timedelta(seconds=60)
#: Images read by one refresh, at most.
BATCH = 2000
#: A pass that found nothing new records its new start only when that is
#: this much later than the last one (not a write per list).
STEP = datetime.timedelta(seconds=10)

G = models.image_versions
S = models.image_versions_state


def _read(conn, state, batch):
    """The next ``batch`` + 1 images after the state's cursor: (id, name,
    updated_at, version property)."""
    I, VP = images.I, images.VP
    query = sa.select(I.c.id, I.c.name, I.c.updated_at,
                      VP.c.value).select_from(
        I.outerjoin(VP, sa.and_(VP.c.image_id == I.c.id,
                                VP.c.name == images.VERSION_PROPERTY,
                                VP.c.deleted == sa.false())))
    if state.filled:
        at = state.cursor_at
        query = query.where(
            I.c.updated_at >= at,
            sa.or_(I.c.updated_at > at, I.c.id > state.cursor_id)
        ).order_by(I.c.updated_at, I.c.id)
    else:
        query = query.where(I.c.id > state.cursor_id).order_by(I.c.id)
    return conn.execute(query.limit(batch + 1)).fetchall()


def _upsert(conn, rows):
    dialect = conn.dialect.name
    if dialect in ('mysql', 'mariadb'):
        stmt = mysql.insert(G).values(rows)
        conn.execute(stmt.on_duplicate_key_update(
            name=stmt.inserted.name, version_key=stmt.inserted.version_key))
        return
    insert = postgresql.insert if dialect == 'postgresql' else sqlite.insert
    stmt = insert(G).values(rows)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=[G.c.image_id],
        set_={'name': stmt.excluded.name,
              'version_key': stmt.excluded.version_key}))


def _write(conn, rows):
    """Write the entries of ``rows`` that differ from the index; in the
    order of ids, so that two refreshes at once lock rows in one order."""
    wanted = {r.id: (r.name, images._python_key(r.value)) for r in rows}
    if not wanted:
        return 0
    have = {r.image_id: (r.name, r.version_key) for r in conn.execute(
        sa.select(G).where(G.c.image_id.in_(sorted(wanted))))}
    changed = [{'image_id': i, 'name': n, 'version_key': k}
               for i, (n, k) in sorted(wanted.items())
               if have.get(i) != (n, k)]
    if changed:
        _upsert(conn, changed)
    return len(changed)


def _moved(state, started, rows, done):
    """The state's new values after a pass that started at ``started``
    and read ``rows`` (to the end when ``done``); {} when nothing needs
    writing."""
    if not state.filled:
        began = state.fill_started_at or started
        values = {'fill_started_at': began}
        if done:
            values.update(filled=True, cursor_at=began - LAG, cursor_id='')
        elif rows:
            values['cursor_id'] = rows[-1].id
        return values
    # Never past what a pass that starts now must read again.
    cursor = (started - LAG, '')
    if not done:
        cursor = min(cursor, (rows[-1].updated_at, rows[-1].id))
    if done and cursor[0] - state.cursor_at < STEP:
        return {}
    return {'cursor_at': cursor[0], 'cursor_id': cursor[1]}


def _state(conn):
    """The state row; made anew when it is not there (a database whose
    rows of ours were deleted: everything is read again)."""
    state = conn.execute(sa.select(S).where(S.c.id == 1)).first()
    if state is None:
        conn.execute(S.insert().values(id=1, filled=False, cursor_id=''))
        state = conn.execute(sa.select(S).where(S.c.id == 1)).one()
    return state


def _pass(engine, batch):
    """One refresh: (whether the index is now up to date, whether the
    first pass is done, whether it was done before, images read)."""
    started = timeutils.utcnow()
    with engine.begin() as conn:
        state = _state(conn)
        rows = _read(conn, state, batch)
        done = len(rows) <= batch
        rows = rows[:batch]
        _write(conn, rows)
        values = _moved(state, started, rows, done)
        if values:
            # Only if no one changed the pass meanwhile (db sync starts a
            # first pass again: a cursor of the pass by time would make
            # it skip images by id).
            conn.execute(S.update().where(
                S.c.id == 1, S.c.filled == state.filled).values(**values))
    return (done and state.filled, values.get('filled', state.filled),
            state.filled, len(rows))


#: Seconds before a glance-api in registry mode looks again for an index
#: it did not find.
LOOK_AGAIN = 60
_found = {}


def available(engine):
    """Whether Glance's database has the index: always in direct mode
    (the artifacts' migrations make it); in registry mode once
    ``glance-artifacts-manage db sync`` ran with glance-api's
    configuration (index_migrations), which is looked for again every
    LOOK_AGAIN seconds until it is there."""
    if CONF.artifacts.data_api == 'sqlalchemy':
        return True
    now = time.monotonic()
    if now < _found.get(engine.url, (False, 0))[1]:
        return _found[engine.url][0]
    there = sa.inspect(engine).has_table(S.name)
    _found[engine.url] = (there, float('inf') if there
                          else now + LOOK_AGAIN)
    return there


def refresh(engine):
    """Read what changed in Glance's images since the last pass (at most
    ``BATCH`` images) into the index. True when the index now holds
    every image as Glance's tables have it (but for changes of the last
    moment, as any read); False when more remain to be read, or when the
    database chose this refresh as a deadlock victim or it waited too
    long for a lock: then the caller lists without the index."""
    try:
        current, filled, was_filled, _n = _pass(engine, BATCH)
        if filled and not was_filled:
            # The first pass ended: read what changed while it ran.
            current = _pass(engine, BATCH)[0]
        return current
    except db_exc.DBError as error:
        if not isinstance(error, (db_exc.DBDeadlock,
                                  db_exc.DBDuplicateEntry)) and not \
                sqlalchemy_api._locked(error):
            raise
        LOG.warning('The index of image versions was not brought up to '
                    'date (%s); this list reads Glance\'s images instead.',
                    error)
        return False


def fill(engine):
    """Read every image again, in full (``db sync``): the index is whole
    after images were written into Glance's tables by other means than
    Glance's (restored, or copied with their old ``updated_at``, which a
    refresh does not read again). The number of images read."""
    with engine.begin() as conn:
        _state(conn)
        conn.execute(S.update().where(S.c.id == 1).values(
            filled=False, fill_started_at=None, cursor_at=None,
            cursor_id=''))
    read = 0
    while True:
        _current, filled, _was_filled, n = _pass(engine, BATCH)
        read += n
        if filled:
            return read
