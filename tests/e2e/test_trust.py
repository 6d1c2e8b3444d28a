"""Trust boundaries (issue 21): the registry, the stores and the garbage
collector enforce what glance-api enforces, against a real Keystone.

The registry runs in its keystone flavor with glance-api in registry mode,
on the database of the run (GA_TEST_DATABASE: SQLite, MariaDB or
PostgreSQL). Three identities call it:

- glance-api's own service user: ``glance_svc``, which has the role
  ``service`` and not ``admin`` (as secure RBAC deployments have it), or
  ``glance`` with both roles;
- ``nova``, another service user with the role ``service``, which holds
  users' tokens and posts straight to the registry's ``/rpc``.

Every attack of the issue is sent by nova with a user's token, and the
answer is what glance-api answers that user for the same request.
"""

import atexit
import datetime
import hashlib
import json
import os
import subprocess
import uuid

import requests
import sqlalchemy as sa
import testtools

from glance.db.artifacts import models
from tests import base
from tests import keystone
from tests import s3
from tests.e2e import server as server_mod

S = '/v2/artifacts/sample_artifacts'
OCTETS = {'Content-Type': 'application/octet-stream'}
LIMITS = {'artifact_count_total': 1000, 'artifact_size_total': 1000,
          'artifact_count_uploading': 100, 'artifact_stage_total': 1000}
_clusters = {}


def _cluster(name):
    """glance-api in the keystone flavor and registry mode with its
    registry in the keystone flavor, once per name in this process:
    'svc', glance-api as glance_svc (no admin role) with quotas on, on the
    file store; 'admin', glance-api as glance (admin), on S3; 'direct',
    glance-api in direct mode (no registry) on the file store."""
    if name not in _clusters:
        ks = keystone.get()
        if name == 'direct':
            root, cleanup = base.make_tempdir('ga-e2e-trust-direct-')
            atexit.register(cleanup)
            server = server_mod.Server(root, flavor='keystone',
                                       mode='sqlalchemy', store='file',
                                       extra=ks.glance_options())
            server.sync()
            server.start()
            atexit.register(server.stop)
            _clusters[name] = server
            return server
        user, store = {'svc': ('glance_svc', 'file'),
                       'admin': ('glance', 's3')}[name]
        quotas = ('\n[artifacts]\nuse_keystone_limits = true\n'
                  if name == 'svc' else '')
        root, cleanup = base.make_tempdir('ga-e2e-trust-%s-' % name)
        atexit.register(cleanup)
        server = server_mod.Server(
            root, flavor='keystone', mode='registry', store=store,
            registry_flavor='keystone',
            registry_extra=ks.authtoken_options() + ks.limit_options() +
            quotas, registry_paste={'glance_api_users': user},
            extra=ks.glance_options() + ks.registry_auth_options(user) +
            quotas)
        atexit.register(server.registry.stop)
        server.sync()
        server.start()
        atexit.register(server.stop)
        _clusters[name] = server
    return _clusters[name]


class TrustTest(testtools.TestCase):

    CLUSTER = 'svc'

    def setUp(self):
        super(TrustTest, self).setUp()
        try:
            self.keystone = keystone.get()
        except keystone.Unavailable as e:
            base.unavailable(e)
        # The limits are this Keystone's, shared with the other tests of
        # this process (test_quotas sets others): set anew.
        self.keystone.delete_limits()
        for resource, value in LIMITS.items():
            self.keystone.set_registered_limit(resource, value)
        self.server = _cluster(self.CLUSTER)
        self.registry = self.server.registry
        self.projects = self.keystone.projects

    def token(self, user):
        return self.keystone.token(user)

    def api(self, method, path, user, body=None, headers=None):
        """(status, JSON body or bytes) of glance-api for ``user``."""
        headers = dict(headers or {}, **{'X-Auth-Token': self.token(user)})
        status, got, data = self.server.request(method, path, body, headers)
        if got.get('Content-Type', '').startswith('application/json'):
            return status, json.loads(data)
        return status, data

    def rpc(self, user, service, command, **kwargs):
        """The registry's answer to one call with ``user``'s token and
        ``service``'s service token."""
        resp = requests.post(
            self.registry.url + '/rpc', timeout=60,
            headers={'X-Auth-Token': self.token(user),
                     'X-Service-Token': self.token(service)},
            json={'context': {'is_admin': True,
                              'owner': self.projects['A']},
                  'calls': [{'command': command, 'kwargs': kwargs}]})
        self.assertEqual(200, resp.status_code, resp.text)
        (answer,) = resp.json()
        return answer

    def nova(self, user, command, **kwargs):
        return self.rpc(user, 'nova', command, **kwargs)

    def assertRefused(self, error_class, answer, fragment=''):
        self.assertIn('error', answer, answer)
        self.assertEqual(error_class, answer['error']['class'], answer)
        self.assertIn(fragment, answer['error']['message'])

    def create(self, user, status=201, **fields):
        fields.setdefault('name', 'trust-' + uuid.uuid4().hex)
        code, art = self.api('POST', S, user, fields)
        self.assertEqual(status, code, art)
        return art

    def upload(self, user, art, data, field='blob1'):
        code, body = self.api('PUT', '%s/%s' % (art['self'], field), user,
                              data, OCTETS)
        self.assertEqual(204, code, body)

    def download_md5(self, user, art, field='blob1'):
        code, body = self.api('GET', '%s/%s' % (art['self'], field), user)
        self.assertEqual(200, code, body)
        return hashlib.md5(body).hexdigest()

    def begin_upload(self, user, service, art):
        """The id of an upload to blob1 of ``art`` that ``user`` begins
        through the registry, sent by ``service``."""
        upload_id = str(uuid.uuid4())
        self.assertEqual({'result': None}, self.rpc(
            user, service, 'blob_upload_begin', artifact_id=art['id'],
            type_name='sample_artifacts', field='blob1', key='',
            upload={'upload_id': upload_id, 'backend': 'fs',
                    'process': 'elsewhere:1:0', 'reserved': 0}))
        return upload_id

    def registry_rows(self, query, **params):
        with sa.create_engine(self.server.artifacts_database).connect() \
                as conn:
            return [dict(r._mapping) for r in conn.execute(sa.text(query),
                                                           params)]


class TestRegistryRefusesWhatGlanceApiRefuses(TrustTest):
    """nova, holding member_b's token (project B), posts to /rpc."""

    def public_of_a(self, **fields):
        return self.create('admin_a', visibility='public', **fields)

    def test_another_projects_public_artifact_keeps_its_description(self):
        art = self.public_of_a(description='of A')
        self.assertEqual(403, self.api('PATCH', art['self'], 'member_b', [
            {'op': 'replace', 'path': '/description', 'value': 'B was '
             'here'}], {'Content-Type': 'application/openstack-images-'
                        'v2.1-json-patch'})[0])
        answer = self.nova('member_b', 'artifact_update',
                           artifact_id=art['id'], type_name=None,
                           values={'description': 'B was here'})
        self.assertRefused('Forbidden', answer, 'Policy does not allow '
                           'artifacts:modify_artifact.')
        self.assertEqual('of A', self.api('GET', art['self'],
                                          'member_a')[1]['description'])

    def test_another_projects_public_artifact_keeps_its_status(self):
        art = self.public_of_a()
        self.assertEqual(403, self.api('POST', art['self'] +
                                       '/actions/deactivate', 'member_b')[0])
        for status in ('active', 'deactivated'):
            answer = self.nova('member_b', 'artifact_update',
                               artifact_id=art['id'], type_name=None,
                               values={'status': status})
            self.assertRefused('Forbidden', answer)
        self.assertEqual('drafted', self.api('GET', art['self'],
                                             'member_a')[1]['status'])

    def test_no_owner_moves(self):
        of_a = self.public_of_a()
        of_b = self.create('member_b')
        for art in (of_a, of_b):
            answer = self.nova('member_b', 'artifact_update',
                               artifact_id=art['id'], type_name=None,
                               values={'owner': self.projects['B']
                                       if art is of_a
                                       else self.projects['A']})
            self.assertRefused('Forbidden', answer)
        self.assertEqual(
            [self.projects['A'], self.projects['B']],
            [self.api('GET', a['self'], 'admin_a')[1]['owner']
             for a in (of_a, of_b)])

    def test_another_projects_public_artifact_is_not_deleted(self):
        art = self.public_of_a()
        self.assertEqual(403, self.api('DELETE', art['self'],
                                       'member_b')[0])
        answer = self.nova('member_b', 'artifact_delete',
                           artifact_id=art['id'], type_name=None)
        self.assertRefused('Forbidden', answer, 'artifacts:modify_artifact')
        self.assertEqual(200, self.api('GET', art['self'], 'member_b')[0])

    def values(self, owner, name=None):
        return {'id': str(uuid.uuid4()), 'type_name': 'sample_artifacts',
                'type_version': '1.0',
                'name': name or 'forged-' + uuid.uuid4().hex,
                'version': '1.0.0', 'owner': owner, 'status': 'drafted',
                'visibility': 'private'}

    def test_no_artifact_is_created_for_another_project(self):
        values = self.values(self.projects['A'])
        answer = self.nova('member_b', 'artifact_create', values=values)
        self.assertRefused('Forbidden', answer, "created in the caller's "
                           "own project")
        self.assertEqual([], self.registry_rows(
            'select id from ga_artifacts where id = :id', id=values['id']))

    def test_the_registry_reads_the_count_limit_itself(self):
        project = self.keystone.new_project()
        self.keystone.set_project_limit(project['project_id'],
                                        'artifact_count_total', 1)
        self.create(project['user_id'])
        code, body = self.api('POST', S, project['user_id'], {'name': 'x'})
        self.assertEqual(413, code, body)
        for sent in (None, {'artifact_count_total': 1000}):
            answer = self.nova(project['user_id'], 'artifact_create',
                               values=self.values(project['project_id']),
                               limits=sent)
            self.assertRefused('OverLimit', answer, 'has 1 artifacts; its '
                               'artifact_count_total limit is 1.')
        self.assertEqual(1, len(self.registry_rows(
            'select id from ga_artifacts where owner = :p',
            p=project['project_id'])))

    def test_own_artifact_is_not_made_public(self):
        art = self.create('member_b')
        answer = self.nova('member_b', 'artifact_update',
                           artifact_id=art['id'], type_name=None,
                           values={'visibility': 'public'})
        self.assertRefused('Forbidden', answer,
                           'artifacts:publicize_artifact')
        self.assertEqual('private', self.api('GET', art['self'],
                                             'member_b')[1]['visibility'])

    def test_written_values_are_remade_from_validated_fields(self):
        art = self.create('member_b')
        for values, error, fragment in [
                ({'properties': {'int_bounded': [{'int_value': 1000}]}},
                 'Invalid', "'int_bounded'"),
                ({'properties': {'blob1': []}}, 'Forbidden', 'is a blob'),
                ({'activated_at': '2020-01-01T00:00:00'}, 'Forbidden',
                 "'activated_at' is read-only"),
                ({'no_column': 1}, 'Invalid', 'not a value'),
                ({'status': 'deleted'}, 'Forbidden', 'drafted to active')]:
            answer = self.nova('member_b', 'artifact_update',
                               artifact_id=art['id'], type_name=None,
                               values=values)
            self.assertRefused(error, answer, fragment)

    def test_only_glance_api_finishes_uploads(self):
        art = self.create('member_b')
        upload_id = self.begin_upload('member_b', 'nova', art)
        answer = self.nova(
            'member_b', 'blob_upload_finish', artifact_id=art['id'],
            type_name='sample_artifacts', field='blob1', key='',
            upload_id=upload_id, values={
                'status': 'active', 'size': 10, 'checksum': '0' * 32,
                'os_hash_algo': 'sha512', 'os_hash_value': '0' * 128,
                'content_type': 'text/plain', 'backend': 'fs',
                'location': 'file:///etc/glance/glance-api.conf'})
        self.assertRefused('Forbidden', answer, 'Only glance-api finishes '
                           'uploads')

    def test_a_location_is_the_uploads_own_even_from_glance_api(self):
        canary = os.path.join(self.server.root, 'canary')
        with open(canary, 'wb') as f:
            f.write(b'secret')
        other = self.create('member_a')
        self.upload('member_a', other, b'data of A')
        (row,) = self.registry_rows(
            'select location from ga_blobs where artifact_id = :a',
            a=other['id'])
        art = self.create('member_b')
        upload_id = self.begin_upload('member_b', 'glance_svc', art)
        store = os.path.join(self.server.root, 'store')
        for location, backend in [
                ('file://' + canary, 'fs'),
                ('file:///etc/glance/glance-api.conf', 'fs'),
                (row['location'], 'fs'),
                ('file://%s/../canary/artifact-%s' % (store, upload_id),
                 'fs2')]:
            answer = self.rpc(
                'member_b', 'glance_svc', 'blob_upload_finish',
                artifact_id=art['id'], type_name='sample_artifacts',
                field='blob1', key='', upload_id=upload_id, values={
                    'status': 'active', 'size': 6,
                    'checksum': hashlib.md5(b'secret').hexdigest(),
                    'os_hash_algo': 'sha512', 'os_hash_value': '0' * 128,
                    'content_type': 'text/plain', 'backend': backend,
                    'location': location})
            self.assertRefused('Invalid', answer, upload_id)
        self.assertEqual(204, self.api('GET', art['self'] + '/blob1',
                                       'member_b')[0])
        with open(canary, 'rb') as f:
            self.assertEqual(b'secret', f.read())

    def test_housekeeping_is_glance_apis_alone(self):
        for user in ('member_b', 'nova', 'admin_a'):
            for command, kwargs in [('blob_data_used', {'names': []}),
                                    ('pending_delete_list', {}),
                                    ('pending_delete_remove', {'ids': [1]}),
                                    ('blob_upload_list', {})]:
                answer = self.nova(user, command, **kwargs)
                self.assertRefused('Forbidden', answer, 'housekeeping')

    def test_stages_are_finished_and_imports_begun_as_glance_api_would(
            self):
        art = self.create('member_b')
        where = dict(artifact_id=art['id'], type_name='sample_artifacts',
                     field='blob1', key='')
        upload_id = str(uuid.uuid4())
        self.assertEqual({'result': None}, self.nova(
            'member_b', 'blob_upload_begin', upload={
                'upload_id': upload_id, 'backend': 'os_glance_staging_store',
                'process': 'elsewhere:1:0', 'method': 'stage'}, **where))
        # Staged data whose location and digests nova made up.
        answer = self.nova('member_b', 'blob_stage_finish',
                           upload_id=upload_id, values={
                               'location': 'file:///etc/passwd', 'size': 1,
                               'checksum': '0' * 32,
                               'os_hash_value': '0' * 128,
                               'content_type': 'text/plain'}, **where)
        self.assertRefused('Forbidden', answer,
                           'Only glance-api finishes stages')
        # An import of another project's artifact.
        of_a = self.create('member_a')
        answer = self.nova('member_b', 'blob_import_begin', imp={
            'upload_id': str(uuid.uuid4()), 'method': 'web-download',
            'backends': ['fs'], 'process': 'elsewhere:1:0'},
            **dict(where, artifact_id=of_a['id']))
        self.assertRefused('NotFound', answer)
        self.assertEqual([('stage', upload_id)], [
            (r['method'], r['upload_id']) for r in self.registry_rows(
                'select method, upload_id from ga_blob_uploads where '
                'artifact_id in (:b, :a)', b=art['id'], a=of_a['id'])])

    def test_copies_are_asked_by_admins_and_stepped_by_glance_api(self):
        art = self.create('member_b')
        self.upload('member_b', art, b'data of B')
        where = dict(artifact_id=art['id'], type_name='sample_artifacts',
                     field='blob1', key='')
        answer = self.nova('member_b', 'blob_copy_begin', copy={
            'upload_id': str(uuid.uuid4()), 'backends': ['fs2'],
            'process': 'elsewhere:1:0'}, **where)
        self.assertRefused('Forbidden', answer, 'artifacts:copy_blob')
        answer = self.nova('member_b', 'blob_copy_drop', backend='fs',
                           **where)
        self.assertRefused('Forbidden', answer,
                           'artifacts:delete_blob_location')
        for user in ('member_b', 'admin_a'):
            answer = self.nova(user, 'blob_copy_step',
                               upload_id=str(uuid.uuid4()), values={
                                   'location': 'file:///etc/passwd',
                                   'backend': 'fs2'}, **where)
            self.assertRefused('Forbidden', answer, 'housekeeping')
        self.assertEqual([], self.registry_rows(
            'select backend from ga_blob_copies'))
        self.assertEqual(b'data of B', self.api('GET', art['self'] +
                                                '/blob1', 'member_b')[1])

    def test_another_projects_uploads_are_not_touched(self):
        art = self.public_of_a()
        upload_id = self.begin_upload('admin_a', 'glance_svc', art)
        where = dict(artifact_id=art['id'], field='blob1', key='',
                     upload_id=upload_id)
        for command, kwargs in [
                ('blob_upload_heartbeat', where),
                ('blob_upload_abort', where),
                ('blob_upload_reserve', dict(where, need=1, want=2,
                                             limits=None)),
                ('blob_upload_list', {'artifact_id': art['id']})]:
            self.assertRefused('Forbidden', self.nova('member_b', command,
                                                      **kwargs))
        self.assertEqual({'result': True}, self.nova(
            'admin_a', 'blob_upload_heartbeat', **where))

    def test_a_referrer_the_caller_cannot_see_is_not_named(self):
        target = self.public_of_a()
        secret = self.create('member_b', name='secret-name-of-b',
                             ref1=target['id'])
        code, body = self.api('DELETE', target['self'], 'member_a')
        self.assertEqual(409, code, body)
        self.assertIn('1 artifact(s) you cannot see', body['message'])
        answer = self.nova('member_a', 'artifact_referrers',
                           artifact_id=target['id'],
                           fields=[['sample_artifacts', 'ref1']])
        self.assertEqual({'result': [{'visible': False}]}, answer)
        self.assertNotIn(secret['id'], json.dumps(answer))

    def test_members_see_their_own_membership_only(self):
        art = self.create('member_a', visibility='shared')
        for member in (self.projects['B'], 'project-c'):
            code, body = self.api('POST', art['self'] + '/members',
                                  'member_a', {'member': member})
            self.assertEqual(200, code, body)
        answer = self.nova('member_b', 'member_list',
                           artifact_id=art['id'], type_name=None)
        self.assertEqual([self.projects['B']],
                         [m['member'] for m in answer['result']])
        answer = self.nova('member_b', 'member_list',
                           artifact_id=art['id'], type_name=None,
                           member='project-c')
        self.assertRefused('NotFound', answer)

    def test_malformed_calls_are_invalid_not_errors(self):
        for command, kwargs in [
                ('artifact_list', {'type_name': 'sample_artifacts',
                                   'filters': [{'where': 'column',
                                                'column': 'no_such',
                                                'op': 'eq',
                                                'values': [1]}]}),
                ('artifact_list', {'type_name': 'sample_artifacts',
                                   'limit': 10 ** 9}),
                ('artifact_list', {'type_name': 'sample_artifacts',
                                   'filters': [{'where': 'column',
                                                'column': 'name',
                                                'op': 'like',
                                                'values': ['a\\b']}]}),
                ('artifact_list', {'type_name': 'sample_artifacts',
                                   'filters': [{'where': 'column',
                                                'column': 'name',
                                                'op': 'like',
                                                'values': [7]}]}),
                ('artifact_get', {'artifact_id': '../../etc'}),
                ('artifact_get', {'artifact_id': str(uuid.uuid4()),
                                  'surprise': 1}),
                ('artifact_create', {'values': []})]:
            self.assertRefused('Invalid', self.nova('member_b', command,
                                                    **kwargs))


class GarbageTests(object):
    """Garbage collection through the registry as glance-api's service
    user, with the manage command: live data stays, every download has
    its MD5."""

    def manage(self, conf, *args):
        return subprocess.run(
            [os.path.join(base.BIN, 'glance-artifacts-manage'),
             '--config-file', conf] + list(args),
            capture_output=True, text=True, timeout=300)

    def conf(self):
        return os.path.join(self.server.confdir, 'glance-api.conf')

    def live_blobs(self):
        live = {}
        for size in (10, 3000, 200000):
            art = self.create('member_a')
            data = os.urandom(size)
            self.upload('member_a', art, data)
            live[art['self']] = (art, hashlib.md5(data).hexdigest())
        return live

    def assertLive(self, live):
        for art, md5 in live.values():
            self.assertEqual(md5, self.download_md5('member_a', art))

    def test_gc_as_glance_apis_service_user_keeps_live_data(self):
        live = self.live_blobs()
        result = self.manage(self.conf(), 'store', 'gc', '--older-than',
                             '0')
        report = json.loads(result.stdout)
        counts = report['backends']['s3' if self.server.bucket else 'fs']
        self.assertEqual(0, counts['deleted'], counts)
        self.assertLive(live)
        self.assertGreaterEqual(counts['listed'], len(live))
        self.assertEqual([], report['errors'])
        self.assertEqual(0, result.returncode, result.stderr[-3000:])


class TestGarbageAsServiceUserWithoutAdmin(GarbageTests, TrustTest):
    CLUSTER = 'svc'

    def test_gc_refused_by_the_registry_deletes_nothing_and_fails(self):
        live = self.live_blobs()
        store = os.path.join(self.server.root, 'store')
        before = sorted(os.listdir(store))
        # The same glance-api.conf, but calling the registry as nova: the
        # registry refuses its housekeeping.
        with open(self.conf()) as f:
            text = f.read()
        conf = os.path.join(self.server.root, 'as-nova.conf')
        with open(conf, 'w') as f:
            f.write(text.replace('\nusername = glance_svc\n',
                                 '\nusername = nova\n'))
        result = self.manage(conf, 'store', 'gc', '--older-than', '0',
                             '--force')
        self.assertEqual(1, result.returncode, result.stdout)
        report = json.loads(result.stdout)
        self.assertEqual(2, len(report['errors']), report)
        counts = report['backends']['s3' if self.server.bucket else 'fs']
        self.assertIn('Forbidden', counts['error'])
        self.assertIn('Garbage collection left work undone', result.stderr)
        self.assertEqual(before, sorted(os.listdir(store)))
        self.assertLive(live)


class TestGarbageAsAdminOnS3(GarbageTests, TrustTest):
    CLUSTER = 'admin'

    def test_the_data_is_in_s3(self):
        self.assertTrue(self.server.bucket)
        self.live_blobs()
        self.assertTrue(s3.client().list_objects_v2(
            Bucket=self.server.bucket)['Contents'])


class TestGarbageDirect(GarbageTests, TrustTest):
    """Direct mode: glance-api reads what is in use itself."""
    CLUSTER = 'direct'


class TestForgedRowOnS3(TrustTest):
    """A blob row forged in the registry's database (a tampered row, as
    no call can write one now) that points at an object of another
    bucket: glance-api neither reads nor deletes it."""

    CLUSTER = 'admin'

    def test_an_object_in_another_bucket_is_never_read_or_deleted(self):
        bucket = s3.new_bucket()
        self.addCleanup(s3.empty, bucket)
        name = 'artifact-%s' % uuid.uuid4()
        s3.client().put_object(Bucket=bucket, Key=name, Body=b'secret')
        art = self.create('member_a')
        host = s3.endpoint().split('://', 1)[1]
        now = datetime.datetime.utcnow()
        with sa.create_engine(self.server.artifacts_database).begin() \
                as conn:
            conn.execute(models.blobs.insert().values(
                artifact_id=art['id'], field='blob1', key='',
                status='active', size=6,
                checksum=hashlib.md5(b'secret').hexdigest(),
                os_hash_algo='sha512',
                os_hash_value=hashlib.sha512(b'secret').hexdigest(),
                content_type='text/plain', backend='s3',
                location='s3://%s/%s/%s' % (host, bucket, name),
                created_at=now, updated_at=now))
        code, body = self.api('GET', art['self'] + '/blob1', 'member_a')
        self.assertEqual(403, code, body)
        self.assertIn('The recorded location of the blob data is refused',
                      body['message'])
        self.assertNotIn(bucket, body['message'])
        self.assertEqual(204, self.api('DELETE', art['self'],
                                       'member_a')[0])
        self.assertEqual([b'secret'], s3.stored(bucket))
