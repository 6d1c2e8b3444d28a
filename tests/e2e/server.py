"""A real glance-api process: glance.wsgi.api:application under gunicorn
or uWSGI (GA_TEST_WSGI_SERVER=uwsgi), configured as tests/base.py writes
it, spoken to over HTTP."""

import atexit
import http.client
import json
import os
import socket
import subprocess
import time

from tests import base
from tests import databases
from tests import registry
from tests import s3
from tools import dev


def wsgi_server():
    """The WSGI server the end-to-end tests run glance-api under:
    GA_TEST_WSGI_SERVER, gunicorn by default."""
    name = os.environ.get('GA_TEST_WSGI_SERVER', 'gunicorn')
    if name not in dev.WSGI_SERVERS:
        raise ValueError('GA_TEST_WSGI_SERVER is one of %s, not %r'
                         % (', '.join(dev.WSGI_SERVERS), name))
    return name


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Server(object):
    """Start with start(); stop() kills it (SIGKILL with hard=True)."""

    def __init__(self, root, flavor='', types=base.ALL_TYPES, extra='',
                 workers=2, threads=4, mode=None, store=None,
                 database=None, s3_bucket=None, hostname=None,
                 registry_flavor='', registry_extra='',
                 registry_paste=None, inspect_content=False,
                 read_timeout=60):
        """Raises databases.Unavailable when GA_TEST_DATABASE names a
        server that cannot be reached.

        ``store`` ('file' or 's3', by default GA_TEST_STORE) is the
        default backend; with 's3', a new bucket of the tests' moto server
        (or ``s3_bucket``) is in ``self.bucket``. A second host shares a
        first one's data: give it the first one's ``artifacts_database``
        and ``bucket``; ``hostname`` runs it in a UTS namespace of its own
        under that host name. ``flavor`` is the [paste_deploy] flavor of
        etc/glance-api-paste.ini ('keystone': Glance's stock keystone
        pipeline; give tests/keystone.py's glance_options() as
        ``extra``); ``registry_flavor`` and ``registry_extra`` are the
        registry's (tests/registry.py) in registry mode, with
        ``registry_paste`` options of its paste file;
        ``inspect_content`` turns content inspection on (see
        base.write_env); ``read_timeout`` is uWSGI's socket-timeout (set
        it to [artifacts] upload_idle_timeout, as the admin guide
        says)."""
        self.root = root
        self.hostname = hostname
        self.bucket = None
        if (store or s3.kind()) == 's3':
            self.bucket = s3_bucket or s3.new_bucket()
        if database is None:
            database, drop = databases.create(
                root, sqlite_name='artifacts.sqlite')
            atexit.register(drop)
        self.artifacts_database = database
        self.registry = None
        if (mode or registry.mode()) == 'registry':
            # glance-api keeps Glance's tables in a SQLite file of its own
            # and reaches the artifacts only through the registry.
            self.registry = registry.Registry(root, database,
                                              flavor=registry_flavor,
                                              extra=registry_extra,
                                              paste_options=registry_paste,
                                              types=types)
            atexit.register(self.registry.stop)
            extra = self.registry.api_options() + extra
            database = None
        self.confdir = base.write_env(root, flavor=flavor, types=types,
                                      extra=extra, database=database,
                                      s3_bucket=self.bucket,
                                      inspect_content=inspect_content)
        self.port = free_port()
        self.workers = workers
        self.threads = threads
        self.read_timeout = read_timeout
        self.process = None
        self.log = os.path.join(root, 'wsgi-server.log')

    def sync(self, glance_tables=True):
        """Create the tables glance-api uses (ours only in direct mode)."""
        base.sync_databases(self.confdir, glance_tables=glance_tables,
                            artifacts_tables=self.registry is None,
                            image_index=self.registry is not None and
                            glance_tables)

    def start(self, timeout=60, expect_failure=False, env=None):
        env = dict(os.environ, OS_GLANCE_CONFIG_DIR=self.confdir,
                   **(env or {}))
        argv = dev.server_command(
            base.BIN, 'glance.wsgi.api:application',
            '127.0.0.1:%d' % self.port, self.workers, self.threads,
            wsgi_server(), read_timeout=self.read_timeout)
        if self.hostname:
            argv = ['unshare', '--uts', 'sh', '-c',
                    'hostname "$0" && exec "$@"', self.hostname] + argv
        self.process = subprocess.Popen(
            argv, env=env, cwd=self.root, stdout=open(self.log, 'ab'),
            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                if expect_failure:
                    return self.process.returncode
                raise RuntimeError('glance-api exited with %s:\n%s'
                                   % (self.process.returncode,
                                      self.output()[-3000:]))
            try:
                status, _h, _b = self.request('GET', '/healthcheck')
                if status == 200 and not expect_failure:
                    return None
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError('glance-api did not answer in %ss:\n%s'
                           % (timeout, self.output()[-3000:]))

    def output(self):
        with open(self.log, errors='replace') as f:
            return f.read()

    #: Seconds a stopped server may take to exit: more than uWSGI's
    #: worker-reload-mercy (60 s by default), for which its master waits
    #: for a worker to end before it kills it.
    STOP_WAIT = 75

    def stop(self, hard=False):
        """SIGTERM (SIGKILL with ``hard``) to the server's processes; an
        error, with the end of its log, when they have not exited after
        STOP_WAIT seconds (they are killed then)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, 9 if hard else 15)
            try:
                self.process.wait(self.STOP_WAIT)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(30)
                raise RuntimeError(
                    'glance-api did not exit within %d s of SIGTERM:\n%s'
                    % (self.STOP_WAIT, self.output()[-3000:]))

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.port

    def request(self, method, path, body=None, headers=None,
                timeout=60):
        """(status, headers, body bytes); a dict or list body goes as
        JSON."""
        conn = http.client.HTTPConnection('127.0.0.1', self.port,
                                          timeout=timeout)
        headers = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode('utf-8')
            headers.setdefault('Content-Type', 'application/json')
        headers.setdefault('Accept', 'application/json')
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def json(self, method, path, body=None, headers=None):
        status, hdrs, data = self.request(method, path, body, headers)
        return status, (json.loads(data) if data else None)


def make_server(test, *args, **kwargs):
    """A Server, or (tests.base.unavailable) a failure naming the database
    server that cannot be reached."""
    try:
        return Server(*args, **kwargs)
    except databases.Unavailable as e:
        base.unavailable(e)
