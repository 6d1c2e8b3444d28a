"""Databases for tests: SQLite files, or a uniquely named database on the
MariaDB or PostgreSQL server of the machine, dropped afterwards.

GA_TEST_DATABASE=sqlite (default), mysql or postgresql picks one for the
functional and end-to-end tests. GA_TEST_MYSQL_URL and
GA_TEST_POSTGRESQL_URL (the server's URL, ending in '/') point at another
server. A server that cannot be reached makes those tests fail, naming it
(tests.base.unavailable).
"""

import os
import uuid

import sqlalchemy as sa

SERVERS = {
    'mysql': ('mysql+pymysql://root@127.0.0.1:3306/',
              '?charset=utf8mb4', 'MariaDB'),
    'postgresql': ('postgresql+psycopg2://postgres@127.0.0.1:5432/', '',
                   'PostgreSQL'),
}


def _server(which):
    """(URL of the server, ending in '/'; URL options; its name)."""
    url, options, name = SERVERS[which]
    url = os.environ.get('GA_TEST_%s_URL' % which.upper(), url)
    return url, options, '%s at %s' % (name, sa.engine.make_url(
        url).render_as_string(hide_password=True))


class Unavailable(Exception):
    """The database server cannot be reached; the text names it."""


def kind():
    return os.environ.get('GA_TEST_DATABASE', 'sqlite')


def create(datadir, which=None, sqlite_name='glance.sqlite'):
    """(connection URL, drop function) of a new empty database."""
    which = which or kind()
    if which == 'sqlite':
        return 'sqlite:///%s/%s' % (datadir, sqlite_name), lambda: None
    base, options, label = _server(which)
    name = 'ga_test_%s' % uuid.uuid4().hex[:12]
    admin_db = 'postgres' if which == 'postgresql' else ''
    try:
        admin = sa.create_engine(base + admin_db + options,
                                 isolation_level='AUTOCOMMIT')
        with admin.connect() as conn:
            conn.execute(sa.text('CREATE DATABASE %s' % name))
    except sa.exc.OperationalError as e:
        raise Unavailable('%s is not reachable: %s' % (label, e.orig))

    def drop():
        engine = sa.create_engine(base + admin_db + options,
                                  isolation_level='AUTOCOMMIT')
        with engine.connect() as conn:
            if which == 'postgresql':
                conn.execute(sa.text(
                    'SELECT pg_terminate_backend(pid) FROM '
                    'pg_stat_activity WHERE datname = :n'), {'n': name})
            conn.execute(sa.text('DROP DATABASE IF EXISTS %s' % name))
        engine.dispose()
    admin.dispose()
    return base + name + options, drop
