"""glance-api serving artifacts through the registry service, whose
database is not Glance's."""

import sqlalchemy as sa
import testtools

from tests import base
from tests.e2e import server as server_mod


class TestRegistryMode(testtools.TestCase):

    # glance-api sends this token to the registry (Keystone would hand out
    # a real one; admin_token is keystoneauth's plugin for a fixed token).
    TOKEN = 'service-token-0123'

    def setUp(self):
        super(TestRegistryMode, self).setUp()
        self.root, cleanup = base.make_tempdir('ga-e2e-registry-')
        self.addCleanup(cleanup)
        self.server = server_mod.make_server(
            self, self.root, workers=1, mode='registry',
            extra='\n[artifacts_registry_auth]\nauth_type = admin_token\n'
                  'token = %s\nendpoint = http://127.0.0.1\n' % self.TOKEN)
        self.registry = self.server.registry
        self.addCleanup(self.registry.stop)
        # glance-api has Glance's SQLite file and no artifacts database.
        self.glance_db = 'sqlite:///%s/glance.sqlite' % self.root
        self.artifacts_db = self.server.artifacts_database
        self.server.sync()
        self.server.start()
        self.addCleanup(self.server.stop)

    def tables(self, url):
        return set(sa.inspect(sa.create_engine(url)).get_table_names())

    def test_artifacts_live_only_in_the_registry_database(self):
        status, art = self.server.json('POST', '/v2/artifacts/heat_templates',
                                       {'name': 'via-registry',
                                        'tags': ['r']})
        self.assertEqual(201, status)
        self.assertEqual(204, self.server.request(
            'PUT', art['self'] + '/template', b'heat_template_version: x',
            {'Content-Type': 'application/octet-stream'})[0])
        status, listed = self.server.json('GET',
                                          '/v2/artifacts/heat_templates')
        self.assertEqual([art['id']], [a['id'] for a in listed['artifacts']])
        self.assertEqual(200, self.server.request('GET', '/v2/images')[0])
        glance_tables = self.tables(self.glance_db)
        self.assertIn('images', glance_tables)
        # Of ours, Glance's database has only the index of Glance's
        # images by version, which db sync makes there with glance-api's
        # configuration in registry mode; no artifact table.
        self.assertEqual(['ga_image_index_version', 'ga_image_versions',
                          'ga_image_versions_state'],
                         sorted(t for t in glance_tables
                                if t.startswith('ga_')))
        artifact_tables = self.tables(self.artifacts_db)
        self.assertIn('ga_artifacts', artifact_tables)
        self.assertNotIn('images', artifact_tables)
        with sa.create_engine(self.artifacts_db).connect() as conn:
            self.assertEqual(['via-registry'], [r.name for r in conn.execute(
                sa.text('select name from ga_artifacts'))])

    def test_glance_api_sends_its_token_to_the_registry(self):
        self.assertEqual(201, self.server.request(
            'POST', '/v2/artifacts/heat_templates', {'name': 'x'})[0])
        with open(self.registry.access_log) as f:
            calls = [line for line in f if 'POST /rpc' in line]
        self.assertTrue(calls)
        self.assertTrue(all('token=%s' % self.TOKEN in line
                            for line in calls), calls)

    def test_registry_errors_are_the_same_4xx(self):
        status, art = self.server.json('POST', '/v2/artifacts/heat_templates',
                                       {'name': 'dup'})
        self.assertEqual(201, status)
        status, body = self.server.json('POST',
                                        '/v2/artifacts/heat_templates',
                                        {'name': 'dup'})
        self.assertEqual(409, status)
        self.assertIn("named 'dup' with version 0.0.0 already exists",
                      body['message'])
        status, _ = self.server.json(
            'GET', '/v2/artifacts/heat_templates/'
                   '00000000-0000-4000-8000-000000000000')
        self.assertEqual(404, status)
        status, body = self.server.json(
            'GET', '/v2/artifacts/heat_templates?marker='
                   '00000000-0000-4000-8000-000000000000')
        self.assertEqual(400, status)

    def test_registry_down_is_503_and_writes_nothing(self):
        self.registry.stop()
        status, body = self.server.json('POST',
                                        '/v2/artifacts/heat_templates',
                                        {'name': 'lost'})
        self.assertEqual(503, status)
        self.assertIn('registry', body['message'])
        self.assertIn('unavailable', body['message'])
        status, body = self.server.json('GET',
                                        '/v2/artifacts/heat_templates')
        self.assertEqual(503, status)
        self.assertEqual(200, self.server.request('GET', '/v2/images')[0])
        with sa.create_engine(self.artifacts_db).connect() as conn:
            self.assertEqual(0, conn.execute(sa.text(
                'select count(*) from ga_artifacts')).scalar())

    def test_registry_rpc_takes_only_data_api_calls(self):
        import requests
        # No auth flavor: Glance's unauthenticated context is an admin, so
        # the RPC answers; a malformed call is a 400 naming the problem.
        resp = requests.post(self.registry.url + '/rpc', data=b'{}',
                             headers={'Content-Type': 'application/json'})
        self.assertEqual(400, resp.status_code)
        resp = requests.post(self.registry.url + '/rpc', json={
            'context': {'is_admin': True, 'owner': None},
            'calls': [{'command': 'drop_everything', 'kwargs': {}}]})
        self.assertEqual(400, resp.status_code)
        self.assertIn('Unknown command', resp.text)
        self.assertEqual(405, requests.get(self.registry.url +
                                           '/rpc').status_code)
