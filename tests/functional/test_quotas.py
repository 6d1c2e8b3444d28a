"""Quota checks of the data API, on the database and data API of the run
(so on SQLite, MariaDB and PostgreSQL, direct and through the registry):
concurrent writers of one project cannot together pass a limit. The
limits are given as glance-api gives them after reading them from
Keystone (tests/e2e/test_quotas.py reads them from a real Keystone);
and GET /v2/artifacts/usage when quotas are off.
"""

import threading
import uuid

from glance import context as glance_context
from glance.artifacts import semver
from glance.artifacts.types import heat
from glance.db import artifacts as artifacts_db
from glance.db.artifacts import errors
from tests import base as test_base
from tests.functional import base

KiB = 1024
MiB = 1024 * KiB
OCTETS = 'application/octet-stream'


def _context(project):
    return glance_context.RequestContext(project_id=project,
                                         roles=['member', 'reader'])


def _values(project, name):
    return {'id': str(uuid.uuid4()), 'type_name': 'heat_templates',
            'type_version': heat.HeatTemplate.type_version,
            'name': name, 'version': '0.0.0',
            'version_key': semver.sort_key('0.0.0'), 'owner': project,
            'visibility': 'private', 'status': 'drafted',
            'protected': False, 'description': None, 'properties': {},
            'tags': [], 'metadata': {}}


def _together(calls):
    """Run the calls at once, each in a thread; their results or errors,
    in order."""
    results = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(i, call):
        start.wait()
        try:
            results[i] = call()
        except Exception as e:
            results[i] = e
    threads = [threading.Thread(target=run, args=(i, c))
               for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


class TestQuotaChecks(base.FunctionalTest):

    def setUp(self):
        super(TestQuotaChecks, self).setUp()
        self.api = artifacts_db.get_api()
        self.project = 'quota-' + uuid.uuid4().hex[:8]
        self.context = _context(self.project)
        self.identity = test_base.identity(self.project)

    def new_artifact(self, name):
        resp = self.request('POST', '/v2/artifacts/sample_artifacts',
                            body={'name': name}, identity=self.identity)
        self.assertEqual(201, resp.status_int, resp.text)
        return resp.json['id']

    def begin(self, artifact_id, reserved, limits, key='k'):
        upload_id = str(uuid.uuid4())
        self.api.blob_upload_begin(
            self.context, artifact_id, 'sample_artifacts', 'blob_dict', key,
            {'upload_id': upload_id, 'backend': 'fs', 'process': 'test:1:0',
             'reserved': reserved}, limits=limits)
        return upload_id

    def stage(self, artifact_id, size, limits):
        """A stage of ``size`` bytes, finished; its upload id."""
        upload_id = str(uuid.uuid4())
        self.api.blob_upload_begin(
            self.context, artifact_id, 'sample_artifacts', 'blob_dict', 'k',
            {'upload_id': upload_id, 'backend': 'os_glance_staging_store',
             'process': 'test:1:0', 'method': 'stage'})
        self.api.blob_stage_finish(
            self.context, artifact_id, 'sample_artifacts', 'blob_dict', 'k',
            upload_id, {'location': 'file:///staging/artifact-' + upload_id,
                        'size': size, 'checksum': '0' * 32,
                        'os_hash_value': '0' * 128,
                        'content_type': OCTETS}, limits=limits)
        return upload_id

    def test_concurrent_stages_cannot_together_pass_the_stage_limit(self):
        artifacts = [self.new_artifact('s%d' % i) for i in range(4)]
        limits = {'artifact_stage_total': MiB}
        results = _together([lambda a=a: self.stage(a, 400 * KiB, limits)
                             for a in artifacts])
        refused = [r for r in results if isinstance(r, errors.OverLimit)]
        self.assertEqual(2, len(refused), results)
        self.assertIn('Over quota: project %s holds 819200 bytes of staged '
                      'data; 409600 bytes more would pass its '
                      'artifact_stage_total limit of 1 MiB (1048576 bytes).'
                      % self.project, str(refused[0]))
        usage = self.api.project_usage(self.context)
        # Staged data counts against the stage limit, not the size limit;
        # each refused stage is still an upload in progress, until its
        # uploader forgets it.
        self.assertEqual((800 * KiB, 0, 4), (
            usage['artifact_stage_total'], usage['artifact_size_total'],
            usage['artifact_count_uploading']))

    def test_an_import_of_staged_data_holds_its_size_per_store(self):
        artifact = self.new_artifact('imported')
        upload_id = self.stage(artifact, 300 * KiB, None)
        self.api.blob_import_begin(
            self.context, artifact, 'sample_artifacts', 'blob_dict', 'k',
            {'upload_id': upload_id, 'method': 'glance-direct',
             'backends': ['fs', 'fs2'], 'process': 'test:1:0'},
            limits={'artifact_size_total': MiB,
                    'artifact_count_uploading': 1})
        usage = self.api.project_usage(self.context)
        self.assertEqual((300 * KiB, 600 * KiB, 1), (
            usage['artifact_stage_total'], usage['artifact_size_total'],
            usage['artifact_count_uploading']))
        other = self.new_artifact('other')
        upload_id = self.stage(other, 300 * KiB, None)
        self.assertRaises(errors.OverLimit, self.api.blob_import_begin,
                          self.context, other, 'sample_artifacts',
                          'blob_dict', 'k',
                          {'upload_id': upload_id, 'method': 'glance-direct',
                           'backends': ['fs', 'fs2'],
                           'process': 'test:1:0'},
                          limits={'artifact_size_total': MiB})

    def test_concurrent_creates_stop_exactly_at_the_count_limit(self):
        limits = {'artifact_count_total': 3}
        results = _together([
            lambda i=i: self.api.artifact_create(
                self.context, _values(self.project, 'n%d' % i), limits)
            for i in range(8)])
        created = [r for r in results if isinstance(r, dict)]
        refused = [r for r in results if isinstance(r, errors.OverLimit)]
        self.assertEqual((3, 5), (len(created), len(refused)), results)
        self.assertIn('Over quota: project %s has 3 artifacts; its '
                      'artifact_count_total limit is 3.' % self.project,
                      str(refused[0]))
        self.assertEqual(3, self.api.project_usage(
            self.context)['artifact_count_total'])

    def test_count_limit_is_per_project(self):
        limits = {'artifact_count_total': 1}
        self.api.artifact_create(self.context, _values(self.project, 'a'),
                                 limits)
        self.assertRaises(errors.OverLimit, self.api.artifact_create,
                          self.context, _values(self.project, 'b'), limits)
        other = 'quota-other-' + uuid.uuid4().hex[:8]
        created = self.api.artifact_create(_context(other),
                                           _values(other, 'b'), limits)
        self.assertEqual(other, created['owner'])

    def test_concurrent_uploads_cannot_together_pass_the_size_limit(self):
        artifacts = [self.new_artifact('u%d' % i) for i in range(8)]
        # Each declares 320 KiB (the field takes at most 1 MiB).
        limits = {'artifact_size_total': MiB,
                  'artifact_count_uploading': 100}
        results = _together([
            lambda a=a: self.begin(a, 320 * KiB, limits) for a in artifacts])
        begun = [r for r in results if isinstance(r, str)]
        refused = [r for r in results if isinstance(r, errors.OverLimit)]
        self.assertEqual((3, 5), (len(begun), len(refused)), results)
        self.assertIn('Over quota: project %s holds 983040 bytes of blob '
                      'data (uploads in progress included); 327680 bytes '
                      'more would pass its artifact_size_total limit of 1 '
                      'MiB (1048576 bytes).' % self.project,
                      str(refused[0]))
        usage = self.api.project_usage(self.context)
        self.assertEqual((960 * KiB, 3), (
            usage['artifact_size_total'],
            usage['artifact_count_uploading']))

    def test_concurrent_uploads_stop_exactly_at_the_uploading_limit(self):
        artifacts = [self.new_artifact('c%d' % i) for i in range(6)]
        limits = {'artifact_size_total': 10 * MiB,
                  'artifact_count_uploading': 2}
        results = _together([lambda a=a: self.begin(a, 0, limits)
                             for a in artifacts])
        refused = [r for r in results if isinstance(r, errors.OverLimit)]
        self.assertEqual(4, len(refused), results)
        self.assertIn('has 2 uploads in progress; its '
                      'artifact_count_uploading limit is 2.',
                      str(refused[0]))

    def test_stored_data_counts_exactly_with_reservations(self):
        artifact = self.new_artifact('stored')
        resp = self.request('PUT', '/v2/artifacts/sample_artifacts/%s/'
                            'blob_dict/stored' % artifact, raw=b'x' * 1000,
                            content_type=OCTETS, identity=self.identity)
        self.assertEqual(204, resp.status_int, resp.text)
        limits = {'artifact_size_total': MiB}
        self.begin(artifact, MiB - 1000, limits, key='fits')
        self.assertRaises(errors.OverLimit, self.begin, artifact, 1, limits,
                          key='one-byte-more')
        self.assertEqual(MiB, self.api.project_usage(
            self.context)['artifact_size_total'])

    def test_reserve_grants_what_the_limit_leaves_and_refuses_past_it(self):
        artifact = self.new_artifact('grow')
        limits = {'artifact_size_total': 4 * MiB}
        self.begin(artifact, MiB, limits, key='other')
        upload_id = self.begin(artifact, 0, limits)
        reserve = self.api.blob_upload_reserve
        self.assertEqual(2 * MiB, reserve(
            self.context, artifact, 'blob_dict', 'k', upload_id, MiB,
            2 * MiB, limits))
        # More than the room asked for: what is left is granted.
        self.assertEqual(3 * MiB, reserve(
            self.context, artifact, 'blob_dict', 'k', upload_id,
            2 * MiB + 1, 11 * MiB, limits))
        error = self.assertRaises(
            errors.OverLimit, reserve, self.context, artifact, 'blob_dict',
            'k', upload_id, 3 * MiB + 1, 11 * MiB, limits)
        self.assertIn('holds 1048576 bytes of blob data (uploads in '
                      'progress included); 3145729 bytes more would pass '
                      'its artifact_size_total limit of 4 MiB', str(error))
        self.assertIsNone(reserve(self.context, artifact, 'blob_dict', 'k',
                                  str(uuid.uuid4()), 1, 2, limits))
        self.assertEqual(4 * MiB, self.api.project_usage(
            self.context)['artifact_size_total'])


class TestUsageWithoutLimits(base.FunctionalTest):

    def test_usage_counts_the_callers_project_with_no_limits(self):
        project = 'usage-' + uuid.uuid4().hex[:8]
        identity = test_base.identity(project)
        for name, size in (('a', 5), ('b', MiB)):
            art = self.request('POST', '/v2/artifacts/sample_artifacts',
                               body={'name': name}, identity=identity).json
            self.assertEqual(204, self.request(
                'PUT', art['self'] + '/blob1', raw=b'x' * size,
                content_type=OCTETS, identity=identity).status_int)
        self.request('POST', '/v2/artifacts/sample_artifacts',
                     body={'name': 'elsewhere'},
                     identity=test_base.identity('someone-else'))
        resp = self.request('GET', '/v2/artifacts/usage', identity=identity)
        self.assertEqual(200, resp.status_int, resp.text)
        expected = {'usage': {
            'artifact_count_total': {'usage': 2, 'limit': None},
            'artifact_size_total': {'usage': (MiB + 5) / MiB,
                                    'usage_bytes': MiB + 5,
                                    'limit': None},
            'artifact_count_uploading': {'usage': 0, 'limit': None},
            'artifact_stage_total': {'usage': 0, 'usage_bytes': 0,
                                     'limit': None}}}
        self.assertEqual(expected, resp.json)

    def test_readers_see_usage_and_callers_without_a_role_do_not(self):
        reader = test_base.identity('p', roles=['reader'])
        self.assertEqual(200, self.request('GET', '/v2/artifacts/usage',
                                           identity=reader).status_int)
        nobody = test_base.identity('p', roles=['creator'])
        resp = self.request('GET', '/v2/artifacts/usage', identity=nobody)
        self.assertError(403, resp, 'artifacts:get_usage')
