"""Staging and importing blob data, as Glance's interoperable import of
images: PUT .../stage to Glance's staging store, then POST .../import
with glance-direct, or web-download from a URL served by a local HTTP
server; into one store or several; through the paste pipeline and
glance_store."""

import hashlib
import os
import time
import uuid

from oslo_config import cfg
import sqlalchemy as sa

from glance.artifacts import catalog
from glance.artifacts import gc
from glance.db.artifacts import models
from tests import base as test_base
from tests import websource
from tests.functional import samples
from tests.functional import test_blobs

CONF = cfg.CONF
OCTETS = test_blobs.OCTETS
HASH_HEADER = 'x-openstack-artifact-os-hash-value'


class ImportTest(test_blobs.BlobTest):

    def setUp(self):
        super(ImportTest, self).setUp()
        self.source = websource.Source()
        self.addCleanup(self.source.stop)
        # The tests' sources are on this host: the operator allows it.
        self.override('allowed_hosts', ['127.0.0.1'],
                      group='import_filtering_opts')
        self.override('allowed_ports', [self.source.port],
                      group='import_filtering_opts')
        self.staging = os.path.join(self.glance.root, 'staging')
        for name in os.listdir(self.staging):
            os.remove(os.path.join(self.staging, name))
        self.template = b'heat_template_version: 2021-04-16\n' + \
            os.urandom(2000)

    def override(self, name, value, group=None):
        CONF.set_override(name, value, group=group)
        self.addCleanup(CONF.clear_override, name, group=group)

    def stage(self, data, path='/blob1', status=204, headers=None):
        resp = self.put(path + '/stage', data, headers=headers)
        self.assertEqual(status, resp.status_int, resp.text)
        return resp

    def start(self, method, path='/blob1', status=202, **more):
        resp = self.request('POST', self.url + path + '/import',
                            body=dict(method=method, **more))
        self.assertEqual(status, resp.status_int, resp.text)
        return resp

    def imported(self, field='blob1', key=None):
        """The blob's view once no import of it runs."""
        views = []

        def done():
            view = self.show()[field]
            if key is not None:
                view = view.get(key)
            views.append(view)
            return view is None or view['status'] not in ('importing',)
        test_base.wait_for(done)
        return views[-1]

    def staged_files(self):
        return sorted(os.listdir(self.staging))

    def uploads(self):
        with self.glance.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(
                sa.select(models.blob_uploads))]

    def data(self, path='/blob1'):
        resp = self.get(path)
        self.assertEqual(200, resp.status_int, resp.body[:200])
        return resp.body

    def get(self, path='/blob1'):
        return self.request('GET', self.url + path)


class TestStage(ImportTest):

    def test_staged_data_shows_as_uploading_and_imports_with_glance_direct(
            self):
        self.stage(self.template, headers={
            'x-openstack-artifact-content-type': 'application/x-yaml'})
        blob = self.show()['blob1']
        self.assertEqual(
            ('uploading', len(self.template),
             hashlib.md5(self.template).hexdigest(), 'sha512',
             hashlib.sha512(self.template).hexdigest(),
             'application/x-yaml'),
            (blob['status'], blob['size'], blob['checksum'],
             blob['os_hash_algo'], blob['os_hash_value'],
             blob['content_type']))
        self.assertEqual(1, len(self.staged_files()))
        # Staged data is not the blob's yet.
        self.assertEqual(204, self.get().status_int)
        self.start({'name': 'glance-direct'})
        blob = self.imported()
        self.assertEqual(('active', len(self.template), 'fs', ''),
                         (blob['status'], blob['size'], blob['stores'],
                          blob['os_glance_failed_import']))
        self.assertEqual('application/x-yaml', blob['content_type'])
        self.assertEqual(self.template, self.data())
        self.assertEqual([], self.staged_files())
        self.assertEqual([], self.uploads())

    def test_glance_direct_into_several_stores_records_each_copy(self):
        self.stage(self.template)
        self.start({'name': 'glance-direct'}, stores=['fs2', 'fs3'])
        blob = self.imported()
        self.assertEqual(('active', 'fs2,fs3', '', ''), (
            blob['status'], blob['stores'],
            blob['os_glance_importing_to_stores'],
            blob['os_glance_failed_import']))
        self.assertEqual(self.template, self.data())
        for backend in ('fs2', 'fs3'):
            names = os.listdir(self._directory(backend))
            self.assertEqual(1, len(names), backend)
            with open(os.path.join(self._directory(backend),
                                   names[0]), 'rb') as f:
                self.assertEqual(self.template, f.read())
        self.assertEqual([], os.listdir(self._directory('fs')))

    def test_glance_direct_replaces_the_data_and_deletes_the_old(self):
        self.assertEqual(204, self.put('/blob1', b'old data').status_int)
        old = os.listdir(self._directory('fs'))
        self.stage(b'new data')
        self.assertEqual(b'old data', self.data())
        self.start({'name': 'glance-direct'})
        self.assertEqual('active', self.imported()['status'])
        self.assertEqual(b'new data', self.data())
        self.assertNotIn(old[0], os.listdir(self._directory('fs')))

    def test_a_blob_dict_entry_is_staged_and_imported(self):
        self.stage(b'entry', path='/blob_dict/one')
        self.assertEqual('uploading',
                         self.show()['blob_dict']['one']['status'])
        self.start({'name': 'glance-direct'}, path='/blob_dict/one')
        self.assertEqual('active', self.imported('blob_dict', 'one')
                         ['status'])
        self.assertEqual(b'entry', self.data('/blob_dict/one'))

    def test_what_conflicts_with_staged_data_is_409(self):
        self.assertError(409, self.start({'name': 'glance-direct'},
                                         status=409),
                         'No data is staged for blob1')
        self.stage(b'staged')
        self.assertError(409, self.stage(b'again', status=409),
                         'data is staged for it')
        self.assertError(409, self.put('/blob1', b'upload'),
                         'data is staged for it')
        self.assertError(409, self.start(
            {'name': 'web-download',
             'uri': self.source.serve('t', b'web')}, status=409),
            'data is staged for it')
        self.assertEqual([], self.source.requests)

    def test_a_stage_that_fails_its_checks_keeps_nothing(self):
        resp = self.stage(b'data', status=400,
                          headers={'Content-MD5': '0' * 32})
        self.assertError(400, resp, 'does not match the data received')
        resp = self.stage(b'data', status=400,
                          headers={HASH_HEADER: 'ab' * 64})
        self.assertError(400, resp, 'hash does not match')
        self.assertEqual(([], []), (self.staged_files(), self.uploads()))
        self.assertIsNone(self.show()['blob1'])

    def test_staging_follows_glance_direct_in_enabled_import_methods(self):
        self.override('enabled_import_methods', ['copy-image'])
        self.assertError(404, self.stage(b'x', status=404),
                         "'glance-direct' is not available here")
        self.assertError(400, self.start({'name': 'glance-direct'},
                                         status=400),
                         "disabled import method 'glance-direct'")
        self.assertEqual([], self.staged_files())

    def test_stage_and_import_paths_take_only_their_methods(self):
        for method, body in (('GET', None), ('POST', {})):
            resp = self.request(method, self.url + '/blob1/stage',
                                body=body)
            self.assertEqual((405, 'PUT'),
                             (resp.status_int, resp.headers['Allow']))
        # .../blob_dict/stage is the dict's entry "stage".
        self.assertEqual(204, self.put('/blob_dict/stage', b'x').status_int)
        self.assertEqual(b'x', self.data('/blob_dict/stage'))

    def test_an_active_artifact_cannot_be_staged_into(self):
        self.assertEqual(204, self.put('/blob1', b'data').status_int)
        self.request('PATCH', self.url, body=[
            {'op': 'replace', 'path': '/str_on_activate', 'value': 'x'}])
        resp = self.request('POST', self.url + '/actions/activate')
        self.assertEqual(204, resp.status_int, resp.text)
        self.assertError(409, self.stage(b'x', status=409),
                         'its blobs are frozen')

    def test_deleting_the_artifact_deletes_its_staged_data(self):
        self.stage(b'staged')
        self.assertEqual(1, len(self.staged_files()))
        self.assertEqual(204, self.request('DELETE', self.url).status_int)
        self.assertEqual([], self.staged_files())

    def test_a_dead_glance_direct_import_leaves_the_data_staged(self):
        self.stage(self.template)
        row = self.uploads()[0]
        # The import goes on under the stage's upload id.
        upload_id = row['upload_id']
        partial = os.path.join(self._directory('fs'),
                               'artifact-' + upload_id)
        with open(partial, 'wb') as f:
            f.write(b'half')
        with self.glance.engine.begin() as conn:
            conn.execute(models.blob_uploads.update().values(
                method='glance-direct', backend='fs',
                process='%s:999999:1.00' % catalog.this_process().split(
                    ':')[0]))
        blob = self.show()['blob1']
        self.assertEqual(('uploading', len(self.template)),
                         (blob['status'], blob['size']))
        self.assertFalse(os.path.exists(partial))
        self.assertEqual(['staged'], [u['method'] for u in self.uploads()])
        self.assertEqual([row['location'].rsplit('/', 1)[1]],
                         self.staged_files())
        self.start({'name': 'glance-direct'})
        self.assertEqual('active', self.imported()['status'])
        self.assertEqual(self.template, self.data())

    def test_a_dead_stage_is_cleaned_up_with_its_partial_data(self):
        upload_id = str(uuid.uuid4())
        with open(os.path.join(self.staging, 'artifact-' + upload_id),
                  'wb') as f:
            f.write(b'half')
        with self.glance.engine.begin() as conn:
            conn.execute(models.blob_uploads.insert().values(
                artifact_id=self.art['id'], field='blob1', key='',
                upload_id=upload_id, backend='os_glance_staging_store',
                process='%s:999999:1.00' % catalog.this_process().split(
                    ':')[0], started_at=sa.func.now(),
                heartbeat_at=sa.func.now(), reserved=0, method='stage'))
        self.assertIsNone(self.show()['blob1'])
        self.assertEqual(([], []), (self.staged_files(), self.uploads()))

    def test_garbage_collection_keeps_staged_data_and_takes_strays(self):
        self.stage(b'staged')
        staged = self.staged_files()
        stray = 'artifact-%s' % uuid.uuid4()
        with open(os.path.join(self.staging, stray), 'wb') as f:
            f.write(b'left by a deleted artifact')
        report = gc.collect(0, force=True)
        counts = report['backends']['os_glance_staging_store']
        self.assertEqual((2, 1, 1), (counts['listed'], counts['orphans'],
                                     counts['deleted']))
        self.assertEqual(staged, self.staged_files())
        self.start({'name': 'glance-direct'})
        self.assertEqual('active', self.imported()['status'])
        self.assertEqual(b'staged', self.data())


class TestWebDownload(ImportTest):

    def test_web_download_imports_the_data_with_its_media_type(self):
        uri = self.source.serve('template.yaml', self.template)
        self.start({'name': 'web-download', 'uri': uri})
        blob = self.imported()
        self.assertEqual(('active', len(self.template), 'application/x-yaml',
                          hashlib.sha512(self.template).hexdigest()),
                         (blob['status'], blob['size'],
                          blob['content_type'], blob['os_hash_value']))
        self.assertEqual(self.template, self.data())
        self.assertEqual(['/data/template.yaml'], self.source.requests)

    def test_web_download_into_two_stores_then_reads_the_second_when_the_first_is_gone(  # noqa: E501
            self):
        uri = self.source.serve('t', self.template)
        self.start({'name': 'web-download', 'uri': uri},
                   stores=['fs', 'fs2'])
        blob = self.imported()
        self.assertEqual(('active', 'fs,fs2'), (blob['status'],
                                                blob['stores']))
        for name in os.listdir(self._directory('fs')):
            os.remove(os.path.join(self._directory('fs'), name))
        self.assertEqual(self.template, self.data())

    def test_validation_data_that_does_not_match_fails_the_import(self):
        self.assertEqual(204, self.put('/blob1', b'kept').status_int)
        uri = self.source.serve('t', self.template)
        self.start({'name': 'web-download', 'uri': uri,
                    'validation_data': {'os_hash_algo': 'sha512',
                                        'os_hash_value': 'ab' * 64}},
                   stores=['fs2', 'fs3'])
        blob = self.imported()
        self.assertEqual(('active', 'fs', 'fs2,fs3'), (
            blob['status'], blob['stores'], blob['os_glance_failed_import']))
        self.assertEqual(b'kept', self.data())
        self.assertEqual([], os.listdir(self._directory('fs2')))
        self.assertEqual([], self.uploads())

    def test_matching_validation_data_is_accepted(self):
        uri = self.source.serve('t', self.template)
        self.start({'name': 'web-download', 'uri': uri,
                    'validation_data': {
                        'os_hash_algo': 'sha512',
                        'os_hash_value': hashlib.sha512(
                            self.template).hexdigest(),
                        'checksum': hashlib.md5(self.template).hexdigest()}})
        self.assertEqual('active', self.imported()['status'])

    def test_refused_urls_are_400_and_nothing_is_requested(self):
        local = self.source.serve('t', b'x')
        for uri, why in (
                (local.replace('127.0.0.1', 'localhost'), 'refused by this '
                 "cloud's import filtering"),
                ('http://169.254.169.254/latest/meta-data/',
                 "refused by this cloud's import filtering"),
                ('file:///etc/passwd', 'http and https URLs only'),
                ('ftp://127.0.0.1/x', 'http and https URLs only'),
                ('', 'needs "uri"'), ('http://' + 'a' * 3000, 'needs "uri"')):
            self.assertError(400, self.start(
                {'name': 'web-download', 'uri': uri}, status=400), why)
        self.assertError(400, self.start({'name': 'web-download'},
                                         status=400), 'needs "uri"')
        for data in ({'os_hash_algo': 'md5', 'os_hash_value': 'ab'},
                     {'os_hash_value': 'ab'}, 'x', {'checksum': 'zz'},
                     {'os_hash_algo': 'sha512', 'os_hash_value': 'xyz'}):
            resp = self.start({'name': 'web-download', 'uri': local,
                               'validation_data': data}, status=400)
            self.assertIn('validation_data', resp.json['message'])
        self.assertError(400, self.start(
            {'name': 'web-download', 'uri': local, 'extra': 1}, status=400),
            'web-download takes "uri"')
        self.assertEqual([], self.source.requests)
        self.assertEqual([], self.uploads())

    def test_without_allowed_hosts_a_loopback_source_is_refused(self):
        self.override('allowed_hosts', [], group='import_filtering_opts')
        self.assertError(400, self.start(
            {'name': 'web-download', 'uri': self.source.serve('t', b'x')},
            status=400), 'import filtering')
        self.assertEqual([], self.source.requests)

    def test_a_redirect_to_a_refused_host_fails_without_following_it(self):
        self.assertEqual(204, self.put('/blob1', b'kept').status_int)
        target = self.source.serve('t', b'x').replace('127.0.0.1',
                                                      'localhost')
        self.start({'name': 'web-download',
                    'uri': self.source.url('/redirect?to=' + target)})
        blob = self.imported()
        self.assertEqual(('active', 'fs'), (blob['status'],
                                            blob['os_glance_failed_import']))
        self.assertEqual(b'kept', self.data())
        self.assertEqual(['/redirect?to=' + target], self.source.requests)

    def test_a_redirect_to_an_allowed_host_is_followed(self):
        target = self.source.serve('t', self.template)
        self.start({'name': 'web-download',
                    'uri': self.source.url('/redirect?to=' + target)})
        self.assertEqual('active', self.imported()['status'])
        self.assertEqual(self.template, self.data())

    def test_sources_that_fail_leave_the_blob_as_it_was(self):
        self.override('upload_idle_timeout', 1, group='artifacts')
        self.override('image_size_cap', 1024 * 1024)
        self.assertEqual(204, self.put('/blob1', b'kept').status_int)
        self.source.serve('big', b'b' * (1024 * 1024 + 1))
        for path in ('/missing', '/stall', '/unbounded', '/data/big'):
            started = time.monotonic()
            self.start({'name': 'web-download',
                        'uri': self.source.url(path)})
            blob = self.imported()
            self.assertEqual(('active', 'fs', 4), (
                blob['status'], blob['os_glance_failed_import'],
                blob['size']), path)
            # A stalled source is given up after upload_idle_timeout; the
            # bound only detects a hang.
            self.assertLess(time.monotonic() - started, 30, path)
        self.assertEqual(b'kept', self.data())
        self.assertEqual([], self.uploads())
        self.assertEqual(1, len(os.listdir(self._directory('fs'))))

    def test_while_an_import_runs_other_writes_of_the_blob_are_409(self):
        self.start({'name': 'web-download',
                    'uri': self.source.url('/stall')}, stores=['fs', 'fs2'])
        test_base.wait_for(lambda: self.source.requests == ['/stall'])
        blob = self.show()['blob1']
        self.assertEqual(('importing', 'fs,fs2'), (
            blob['status'], blob['os_glance_importing_to_stores']))
        self.assertError(409, self.start(
            {'name': 'web-download', 'uri': self.source.serve('t', b'x')},
            status=409), 'Another upload or import of blob1 is in progress')
        self.assertError(409, self.start({'name': 'glance-direct'},
                                         status=409),
                         'An upload or import of blob1 is in progress')
        self.assertEqual(409, self.put('/blob1', b'x').status_int)
        self.assertEqual(409, self.stage(b'x', status=409).status_int)
        # The source ends its response 990 bytes short.
        self.source.release.set()
        self.assertIsNone(self.imported())
        self.assertEqual(([], [], []), (
            self.uploads(), os.listdir(self._directory('fs')),
            os.listdir(self._directory('fs2'))))

    def test_a_dead_web_download_is_cleaned_up_with_its_partial_data(self):
        upload_id = str(uuid.uuid4())
        partials = []
        for backend in ('fs', 'fs2'):
            partials.append(os.path.join(self._directory(backend),
                                         'artifact-' + upload_id))
            with open(partials[-1], 'wb') as f:
                f.write(b'half')
        with self.glance.engine.begin() as conn:
            conn.execute(models.blob_uploads.insert().values(
                artifact_id=self.art['id'], field='blob1', key='',
                upload_id=upload_id, backend='fs', pending_stores='fs2',
                process='%s:999999:1.00' % catalog.this_process().split(
                    ':')[0], started_at=sa.func.now(),
                heartbeat_at=sa.func.now(), reserved=0,
                method='web-download'))
        self.assertIsNone(self.show()['blob1'])
        self.assertEqual([], self.uploads())
        self.assertEqual([False, False], [os.path.exists(p)
                                          for p in partials])


class TestImportInspection(ImportTest):
    """Content inspection applies to imported data as to uploads."""

    def setUp(self):
        super(TestImportInspection, self).setUp()
        self.override('inspect_content', True, group='artifacts')
        self.art = self.create('heat_templates', name='imported')
        self.url = self.art['self']

    def test_an_imported_template_fills_its_fields(self):
        self.start({'name': 'web-download',
                    'uri': self.source.serve('t', samples.HOT.encode())},
                   path='/template')
        self.assertEqual('active', self.imported('template')['status'])
        shown = self.show()
        self.assertEqual(('2021-04-16', 'A web server and its port'),
                         (shown['template_version'],
                          shown['template_description']))

    def test_a_staged_template_that_is_no_template_fails_its_import(self):
        self.stage(b'heat_template_version: 2012-12-12\n',
                   path='/template')
        self.start({'name': 'glance-direct'}, path='/template')
        self.assertIsNone(self.imported('template'))
        self.assertEqual(([], []), (self.uploads(), self.staged_files()))
        self.assertEqual([], os.listdir(self._directory('fs')))
        self.assertIsNone(self.show()['template_version'])
