"""Databases for tests: SQLite files, or a uniquely named database on the
MariaDB or PostgreSQL server of the machine, dropped afterwards.

GA_TEST_DATABASE=sqlite (default), mysql or postgresql picks one for the
functional and end-to-end tests. GA_TEST_MYSQL_URL and
GA_TEST_POSTGRESQL_URL (the server's URL, ending in '/') point at another
server. A server that cannot be reached makes those tests fail, naming it
(tests.base.unavailable).
"""

import fcntl
import functools
import hashlib
import importlib.util
import os
import shutil
import tempfile
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
    try:
        admin = _admin(which, base, options)
        with admin.connect() as conn:
            conn.execute(sa.text('CREATE DATABASE %s' % name))
    except sa.exc.OperationalError as e:
        raise Unavailable('%s is not reachable: %s' % (label, e.orig))

    def drop():
        engine = _admin(which, base, options)
        with engine.connect() as conn:
            if which == 'postgresql':
                conn.execute(sa.text(
                    'SELECT pg_terminate_backend(pid) FROM '
                    'pg_stat_activity WHERE datname = :n'), {'n': name})
            conn.execute(sa.text('DROP DATABASE IF EXISTS %s' % name))
        engine.dispose()
    admin.dispose()
    return base + name + options, drop


# Migrated templates. Migrating Glance's tables and ours takes seconds
# (glance-manage and glance-artifacts-manage, each a process of its own);
# the end-to-end tests make hundreds of databases. Each kind of database
# is migrated once by the real tools into a template, and new databases
# are copies of it: a SQLite file copied, a PostgreSQL database created
# from it as TEMPLATE, a MariaDB database made with its tables' own
# CREATE TABLE statements and rows. Templates are keyed by the server,
# the table sets and the migrations' files (Glance's and ours), so that
# a changed migration makes a new template; they are kept between runs
# (SQLite files in TEMPLATES, databases named ga_template_<key> on the
# servers).
TEMPLATES = os.path.join(tempfile.gettempdir(), 'ga-test-templates')


@functools.lru_cache()
def _migrations_digest():
    """A digest of Glance's migrations and ours (found without importing
    Glance, which takes seconds)."""
    glance = importlib.util.find_spec('glance').submodule_search_locations
    tops = [os.path.join(list(glance)[0], 'db', 'sqlalchemy',
                         'alembic_migrations'),
            os.path.join(os.path.dirname(os.path.dirname(
                os.path.abspath(__file__))), 'glance', 'db', 'artifacts',
                'migrations')]
    digest = hashlib.sha256()
    for top in tops:
        for folder, dirs, files in sorted(os.walk(top)):
            dirs.sort()
            for name in sorted(files):
                if name.endswith('.py'):
                    path = os.path.join(folder, name)
                    digest.update(path[len(top):].encode())
                    with open(path, 'rb') as f:
                        digest.update(f.read())
    return digest.hexdigest()


def _parse(url):
    """(kind, URL of the server ending in '/', database name, options) of
    a database URL; the name of a SQLite URL is its file."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == 'sqlite':
        return 'sqlite', None, parsed.database, ''
    which = {'mysql': 'mysql', 'postgresql': 'postgresql'}[
        parsed.get_backend_name()]
    server = parsed.set(database='', query={}).render_as_string(
        hide_password=False)
    options = url[url.index('?'):] if '?' in url else ''
    return which, server.rstrip('/') + '/', parsed.database, options


def _admin(which, server, options):
    """An engine on the server's administrative database (PostgreSQL's
    postgres, none on MariaDB), outside transactions."""
    return sa.create_engine(
        server + ('postgres' if which == 'postgresql' else '') + options,
        isolation_level='AUTOCOMMIT')


def _has_tables(url):
    engine = sa.create_engine(url)
    try:
        return bool(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def clone_migrated(url, tables, migrate):
    """Give the empty database at ``url`` the tables ``tables`` (a tuple
    of 'glance' and 'artifacts') as ``migrate(url)`` (the real tools)
    makes them, by copying a template that ``migrate`` made once. A
    database that already has tables is migrated by ``migrate``
    itself."""
    which, server, name, options = _parse(url)
    if which == 'sqlite':
        if os.path.exists(name) and _has_tables(url):
            return migrate(url)
    elif _has_tables(url):
        return migrate(url)
    key = hashlib.sha256(('%s %s %s %s' % (
        _migrations_digest(), which, server, ','.join(tables))).encode()
    ).hexdigest()[:16]
    template = _template(which, server, options, key, migrate)
    if which == 'sqlite':
        shutil.copyfile(template, name)
        return
    admin = _admin(which, server, options)
    try:
        with admin.connect() as conn:
            if which == 'postgresql':
                conn.execute(sa.text('DROP DATABASE %s' % name))
                conn.execute(sa.text('CREATE DATABASE %s TEMPLATE %s'
                                     % (name, template)))
                return
            tables = [row[0] for row in conn.execute(sa.text(
                'SELECT table_name FROM information_schema.tables WHERE '
                'table_schema = :s'), {'s': template})]
            conn.execute(sa.text('SET FOREIGN_KEY_CHECKS = 0'))
            conn.execute(sa.text('USE %s' % name))
            for table in tables:
                ddl = conn.execute(sa.text('SHOW CREATE TABLE %s.%s'
                                           % (template, table))).one()[1]
                conn.exec_driver_sql(ddl)
                conn.execute(sa.text('INSERT INTO %s.%s SELECT * FROM %s.%s'
                                     % (name, table, template, table)))
    finally:
        admin.dispose()


def _template(which, server, options, key, migrate):
    """The template's SQLite file or database name, made under a lock
    that the test processes of a run share."""
    os.makedirs(TEMPLATES, exist_ok=True)
    done = os.path.join(TEMPLATES, key + '.done')
    path = os.path.join(TEMPLATES, key + '.sqlite')
    template = 'ga_template_%s' % key
    with open(os.path.join(TEMPLATES, key + '.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if which == 'sqlite':
            if not os.path.exists(done):
                making = path + '.new'
                if os.path.exists(making):
                    os.unlink(making)
                migrate('sqlite:///' + making)
                os.replace(making, path)
                open(done, 'w').close()
            return path
        admin = _admin(which, server, options)
        try:
            with admin.connect() as conn:
                exists = conn.execute(sa.text(
                    'SELECT 1 FROM pg_database WHERE datname = :n'
                    if which == 'postgresql' else
                    'SELECT 1 FROM information_schema.schemata WHERE '
                    'schema_name = :n'), {'n': template}).first()
                if exists and os.path.exists(done):
                    return template
                conn.execute(sa.text('DROP DATABASE IF EXISTS %s'
                                     % template))
                conn.execute(sa.text('CREATE DATABASE %s' % template))
            migrate(server + template + options)
            open(done, 'w').close()
            return template
        finally:
            admin.dispose()
