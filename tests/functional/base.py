"""In-process functional tests through the real paste pipeline.

One Glance per test process: etc/glance-api-paste.ini copied into a
temporary config directory, loaded by Glance's own
glance.common.wsgi_app.init_app (as glance.wsgi.api does), with a
database (tests/databases.py) migrated by glance-manage and
glance-artifacts-manage; with GA_TEST_DATA_API=registry, the artifacts
go through a registry service process (tests/registry.py) that alone
uses the artifacts database. Each test starts with empty artifact
tables, emptied by the harness itself.
"""

import atexit
import json
import os

from oslo_config import cfg
import sqlalchemy as sa
import testtools
import webob

from glance.db.artifacts import models
from tests import base
from tests import databases
from tests import registry
from tests import s3

CONF = cfg.CONF


# Filesystem stores besides "fs": three stores at least for the copies
# of blob data in several of them (test_copies).
MORE_STORES = ('fs2', 'fs3')


class _Glance(object):
    """The process-wide Glance: apps by flavor, sharing one database."""

    _instance = None

    @classmethod
    def get(cls):
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def __init__(self):
        self.root, cleanup = base.make_tempdir('ga-functional-')
        atexit.register(cleanup)
        self.database, drop = databases.create(
            self.root, sqlite_name='artifacts.sqlite')
        atexit.register(drop)
        # GA_TEST_STORE=s3: the default backend is a bucket of the tests'
        # moto server.
        self.bucket = s3.new_bucket() if s3.kind() == 's3' else None
        if registry.mode() == 'registry':
            # Glance keeps its own SQLite file; the artifacts live in the
            # registry's database, which glance-api never opens.
            self.registry = registry.Registry(self.root, self.database)
            atexit.register(self.registry.stop)
            self.confdir = base.write_env(
                self.root, extra=self.registry.api_options(),
                s3_bucket=self.bucket, more_stores=MORE_STORES)
            base.sync_databases(self.confdir, artifacts_tables=False,
                                image_index=True)
        else:
            self.confdir = base.write_env(self.root, database=self.database,
                                          s3_bucket=self.bucket,
                                          more_stores=MORE_STORES)
            base.sync_databases(self.confdir)
        self.engine = sa.create_engine(self.database)
        os.environ['OS_GLANCE_CONFIG_DIR'] = self.confdir
        from glance.api import common as glance_api_common
        from glance.common import config as glance_config
        from glance.common import wsgi_app
        self.apps = {'': wsgi_app.init_app()}
        # Glance drains this pool at exit; make it now, not at shutdown.
        glance_api_common.get_thread_pool('tasks_pool')
        for flavor in ('testauth', 'artifacts'):
            CONF.set_override('flavor', flavor, group='paste_deploy')
            self.apps[flavor] = glance_config.load_paste_app('glance-api')
        CONF.clear_override('flavor', group='paste_deploy')

    def empty_tables(self):
        with self.engine.begin() as conn:
            for table in reversed(models.metadata.sorted_tables):
                conn.execute(table.delete())


class FunctionalTest(testtools.TestCase):

    def setUp(self):
        super(FunctionalTest, self).setUp()
        try:
            self.glance = _Glance.get()
        except databases.Unavailable as e:
            base.unavailable(e)
        self.glance.empty_tables()

    def request(self, method, path, body=None, headers=None, flavor='',
                identity=None, content_type=None, raw=None):
        """Send a request through the pipeline of ``flavor`` ('' is the
        stock no-auth pipeline; pass ``identity`` for the testauth one)."""
        req = webob.Request.blank(path, method=method)
        req.headers['Accept'] = 'application/json'
        if identity is not None:
            flavor = 'testauth'
            req.headers.update(identity)
        if raw is not None:
            req.body = raw
        elif body is not None:
            req.body = json.dumps(body).encode('utf-8')
        if content_type:
            req.content_type = content_type
        elif body is not None or raw is not None:
            req.content_type = ('application/openstack-images-v2.1-json-'
                                'patch' if method == 'PATCH'
                                else 'application/json')
        if headers:
            req.headers.update(headers)
        return req.get_response(self.glance.apps[flavor])

    def create(self, type_name='heat_templates', status=201, **fields):
        fields.setdefault('name', 'a-name')
        resp = self.request('POST', '/v2/artifacts/%s' % type_name,
                            body=fields)
        self.assertEqual(status, resp.status_int, resp.text)
        return resp.json

    def assertError(self, status, resp, *fragments):
        """The response has ``status`` and a JSON error whose message
        contains every fragment."""
        self.assertEqual(status, resp.status_int, resp.text)
        message = resp.json['message']
        for fragment in fragments:
            self.assertIn(fragment, message)

    def count_rows(self, table):
        with self.glance.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count())
                                .select_from(table)).scalar()
