"""The persona matrix (tests/functional/test_persona_matrix.py) against a
real glance-api under gunicorn, in Glance's stock keystone pipeline
(etc/glance-api-paste.ini, flavor keystone), with real tokens of the
tests' Keystone (tests/keystone.py) sent as X-Auth-Token: with the
direct data API and through the registry.

Personas: owner_member is member_a and owner_reader reader_a, of project
A, which owns the artifacts; other_member is member_b of project B; the
admin has admin, member and reader on a project of its own (so that
"sees everything" is about others' artifacts); share_pending and
share_accepted are users of two new projects. Keystone's role
implications give admin's token manager, member and reader too.
"""

import atexit
import json
import os
import uuid

import testtools

from tests import base
from tests import databases
from tests.e2e import server as server_mod
from tests.functional import test_persona_matrix as matrix
from tests import keystone

S = matrix.S
OCTETS = matrix.OCTETS
PATCH = matrix.PATCH


class _Deployment(object):
    """Per data API mode, one glance-api (with its registry in registry
    mode) per test process, started on first use, stopped at exit."""

    _instances = {}

    @classmethod
    def get(cls, mode):
        """The deployment of ``mode``; the error of the first try again
        on every later one."""
        if mode not in cls._instances:
            try:
                cls._instances[mode] = cls(mode)
            except Exception as e:
                cls._instances[mode] = e
        found = cls._instances[mode]
        if isinstance(found, Exception):
            raise found
        return found

    def __init__(self, mode):
        # Keystone starts while glance-api's databases are made.
        keystone.start_in_background()
        root, cleanup = base.make_tempdir('ga-keystone-e2e-')
        atexit.register(cleanup)
        registry = {}
        if mode == 'registry':
            # The registry in its keystone flavor: glance-api sends it the
            # user's token with the glance user's service token, and the
            # registry runs each call as that user.
            ks = keystone.get()
            registry = dict(registry_flavor='keystone',
                            registry_extra=ks.authtoken_options())
        # One worker: the cells send one request at a time.
        self.server = server_mod.Server(root, flavor='keystone', mode=mode,
                                        workers=1, **registry)
        atexit.register(self.server.stop)
        self.server.sync()
        self.keystone = ks = keystone.get()
        extra = ks.glance_options()
        if mode == 'registry':
            extra += ks.registry_auth_options()
        with open(os.path.join(self.server.confdir, 'glance-api.conf'),
                  'a') as f:
            f.write(extra)
        self.server.start()
        admin = ks.new_project(roles=('admin', 'member', 'reader'))
        pending = ks.new_project()
        accepted = ks.new_project()
        a, b = ks.projects['A'], ks.projects['B']
        # persona: (user id, project id)
        self.personas = {
            'owner_member': (ks.users['member_a'], a),
            'owner_reader': (ks.users['reader_a'], a),
            'other_member': (ks.users['member_b'], b),
            'share_pending': (pending['user_id'], pending['project_id']),
            'share_accepted': (accepted['user_id'], accepted['project_id']),
            'admin': (admin['user_id'], admin['project_id']),
        }


class _KeystoneTest(matrix.Cells):
    """The matrix's cells, and what a token changes, against the
    deployment of ``mode`` (a mixin of the test cases below)."""

    mode = None

    def setUp(self):
        super(_KeystoneTest, self).setUp()
        try:
            deployment = _Deployment.get(self.mode)
        except (keystone.Unavailable, databases.Unavailable) as e:
            base.unavailable(e)
        self.keystone = deployment.keystone
        self.server = deployment.server
        self.personas = deployment.personas

    def token(self, persona):
        return self.keystone.token(*self.personas[persona])

    def send(self, persona, method, path, body=None):
        headers = {'X-Auth-Token': self.token(persona)}
        if isinstance(body, bytes):
            headers['Content-Type'] = OCTETS
        elif method == 'PATCH':
            headers['Content-Type'] = PATCH
        status, _headers, data = self.server.request(method, path, body,
                                                     headers)
        return status, data.decode('utf-8', 'replace')

    def member_id(self, persona):
        return self.personas[persona][1]

    # The server keeps every cell's artifacts (in project A): each has a
    # name of its own, and the list looks for it.
    def artifact_name(self):
        return 'matrix-%s' % uuid.uuid4().hex[:12]

    def list_path(self, art):
        return S + '?id=' + art['id']

    def test_a_request_without_a_token_is_401(self):
        for path in (S, '/v2/images'):
            status, _h, body = self.server.request('GET', path)
            self.assertEqual(401, status, body)

    def test_a_garbage_token_is_401(self):
        for path in (S, '/v2/images'):
            status, _h, body = self.server.request(
                'GET', path, headers={'X-Auth-Token': 'not-a-token'})
            self.assertEqual(401, status, body)

    def test_images_answer_with_a_token(self):
        status, _h, body = self.server.request(
            'GET', '/v2/images',
            headers={'X-Auth-Token': self.token('owner_member')})
        self.assertEqual(200, status, body)

    def test_the_project_of_the_token_owns_what_its_user_makes(self):
        status, text = self.send('owner_member', 'POST', S,
                                 {'name': self.artifact_name()})
        self.assertEqual(201, status, text)
        art = json.loads(text)
        self.assertEqual(self.keystone.projects['A'], art['owner'])
        self.assertEqual(200, self.send('owner_reader', 'GET',
                                        art['self'])[0])
        self.assertEqual(404, self.send('other_member', 'GET',
                                        art['self'])[0])


@matrix.add_cells
class PersonaMatrixDirect(_KeystoneTest, testtools.TestCase):
    mode = 'sqlalchemy'


@matrix.add_cells
class PersonaMatrixRegistry(_KeystoneTest, testtools.TestCase):
    mode = 'registry'
