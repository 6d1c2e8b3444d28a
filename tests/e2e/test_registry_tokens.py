"""The registry in the keystone flavor acts on the user's own identity:
glance-api (keystone flavor, data_api = registry) sends the user's token
with its own service token; the registry validates both against a real
Keystone (tests/keystone.py), requires the service role on the service
token, and ignores the context glance-api forwards."""

import atexit
import json
import uuid

import requests
import testtools

from tests import base
from tests import keystone
from tests.e2e import server as server_mod

S = '/v2/artifacts/heat_templates'
_cluster = {}


def _servers():
    """glance-api and its registry, both in the keystone flavor, once per
    test process."""
    if not _cluster:
        ks = keystone.get()
        root, cleanup = base.make_tempdir('ga-e2e-registry-tokens-')
        atexit.register(cleanup)
        server = server_mod.Server(
            root, flavor='keystone', mode='registry', store='file',
            registry_flavor='keystone',
            registry_extra=ks.authtoken_options(),
            extra=ks.glance_options() + ks.registry_auth_options())
        atexit.register(server.registry.stop)
        server.sync()
        server.start()
        atexit.register(server.stop)
        _cluster.update(keystone=ks, server=server)
    return _cluster['keystone'], _cluster['server']


class TestRegistryTokens(testtools.TestCase):

    def setUp(self):
        super(TestRegistryTokens, self).setUp()
        try:
            self.keystone, self.server = _servers()
        except keystone.Unavailable as e:
            base.unavailable(e)
        self.registry = self.server.registry

    def api(self, method, path, user, body=None):
        status, _h, data = self.server.request(
            method, path, body, {'X-Auth-Token': self.keystone.token(user)})
        return status, json.loads(data) if data else None

    def rpc(self, headers, calls, context=None):
        body = {'context': context or {'is_admin': False, 'owner': None},
                'calls': calls}
        return requests.post(self.registry.url + '/rpc', json=body,
                             headers=headers, timeout=30)

    def private_artifact_of_a(self):
        status, art = self.api('POST', S, 'member_a',
                               {'name': 'private-of-a-' + uuid.uuid4().hex})
        self.assertEqual(201, status, art)
        return art

    def test_users_act_as_themselves_through_glance_api(self):
        art = self.private_artifact_of_a()
        self.assertEqual(self.keystone.projects['A'], art['owner'])
        self.assertEqual(200, self.api('GET', art['self'], 'reader_a')[0])
        self.assertEqual(404, self.api('GET', art['self'], 'member_b')[0])
        self.assertEqual(403, self.api('DELETE', art['self'],
                                       'reader_a')[0])
        status, listed = self.api('GET', S, 'member_b')
        self.assertNotIn(art['id'], [a['id'] for a in listed['artifacts']])
        self.assertEqual(204, self.api('DELETE', art['self'],
                                       'member_a')[0])

    def test_a_members_token_sent_straight_to_the_registry_is_refused(self):
        self.private_artifact_of_a()
        resp = self.rpc({'X-Auth-Token': self.keystone.token('member_a')},
                        [{'command': 'artifact_list',
                          'kwargs': {'type_name': 'heat_templates'}}])
        self.assertEqual(403, resp.status_code, resp.text)
        self.assertIn('service token', resp.text)

    def test_an_admin_of_a_project_without_a_service_token_is_refused(self):
        resp = self.rpc({'X-Auth-Token': self.keystone.token('admin_a')},
                        [{'command': 'artifact_list',
                          'kwargs': {'type_name': 'heat_templates'}}],
                        context={'is_admin': True, 'owner': None})
        self.assertEqual(403, resp.status_code, resp.text)

    def test_a_service_token_alone_reads_nothing(self):
        art = self.private_artifact_of_a()
        glance = self.keystone.token('glance')
        for headers in ({'X-Service-Token': glance},
                        {'X-Auth-Token': glance}):
            resp = self.rpc(headers, [{'command': 'artifact_list', 'kwargs': {
                'type_name': 'heat_templates'}}],
                context={'is_admin': True, 'owner': None})
            self.assertIn(resp.status_code, (401, 403), resp.text)
            self.assertNotIn(art['name'], resp.text)

    def test_a_service_token_without_the_service_role_is_refused(self):
        resp = self.rpc({'X-Auth-Token': self.keystone.token('member_a'),
                         'X-Service-Token': self.keystone.token('admin_a')},
                        [{'command': 'artifact_list',
                          'kwargs': {'type_name': 'heat_templates'}}])
        self.assertIn(resp.status_code, (401, 403), resp.text)

    def test_the_forwarded_context_is_ignored(self):
        art = self.private_artifact_of_a()
        resp = self.rpc(
            {'X-Auth-Token': self.keystone.token('member_b'),
             'X-Service-Token': self.keystone.token('glance')},
            [{'command': 'artifact_list',
              'kwargs': {'type_name': 'heat_templates'}},
             {'command': 'artifact_get',
              'kwargs': {'artifact_id': art['id']}}],
            context={'is_admin': True, 'owner': self.keystone.projects['A']})
        self.assertEqual(200, resp.status_code, resp.text)
        listed, got = resp.json()
        self.assertEqual({'result': []}, listed)
        self.assertEqual('NotFound', got['error']['class'])

    def test_another_service_user_gets_what_glance_api_would_answer(self):
        # nova holds the role service only (no reader role on its
        # project): glance-api answers its GET with 403, and so does the
        # registry, before it reads anything.
        art = self.private_artifact_of_a()
        resp = self.rpc(
            {'X-Auth-Token': self.keystone.token('nova'),
             'X-Service-Token': self.keystone.token('glance')},
            [{'command': 'artifact_get',
              'kwargs': {'artifact_id': art['id']}}])
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual({'class': 'Forbidden', 'message': 'Policy does '
                          'not allow artifacts:get_artifact.'},
                         resp.json()[0]['error'])
