"""Several stores per blob: copies made with the copy-blob import method,
downloads that read the next copy when one fails, copies deleted one at a
time and all at once, through the paste pipeline and glance_store."""

import os
import uuid

import fixtures
from oslo_config import cfg
import sqlalchemy as sa

from glance.artifacts import catalog
from glance.artifacts import gc
from glance.artifacts import store
from glance.db.artifacts import errors
from glance.db.artifacts import models
from tests import base as test_base
from tests.functional import test_blobs

CONF = cfg.CONF
COPY = {'method': {'name': 'copy-blob'}}


class CopyTest(test_blobs.BlobTest):

    def setUp(self):
        super(CopyTest, self).setUp()
        self.first = store.default_backend()     # fs, or s3 on S3
        self.data = os.urandom(300000) + b'end'
        self.assertEqual(204, self.put('/blob1', self.data).status_int)

    def copy(self, stores, path='/blob1', status=202, **more):
        resp = self.request('POST', self.url + path + '/import',
                            body=dict(COPY, stores=stores, **more))
        self.assertEqual(status, resp.status_int, resp.text)
        return resp

    def copied(self, field='blob1', key=None):
        """The blob's view once no copy of it runs."""
        views = []

        def done():
            view = self.show()[field]
            views.append(view if key is None else view[key])
            return views[-1]['os_glance_importing_to_stores'] == ''
        test_base.wait_for(done)
        return views[-1]

    def drop(self, backend, path='/blob1', status=204):
        resp = self.request('DELETE', '/v2/artifacts/stores/%s/%s%s' % (
            backend, self.url[len('/v2/artifacts/'):], path))
        self.assertEqual(status, resp.status_int, resp.text)
        return resp

    def copies(self):
        with self.glance.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.select(
                models.blob_copies.c.field, models.blob_copies.c.backend)
                .order_by(models.blob_copies.c.backend))]

    def get(self, path='/blob1', headers=None):
        return self.request('GET', self.url + path, headers=headers)

    def lose_first(self, keep=0):
        """The first store's data, cut to its first ``keep`` bytes behind
        glance-api's back."""
        location, _backend = self.location_of(self.art)
        if self.glance.bucket:
            test_blobs.s3.client().put_object(
                Bucket=self.glance.bucket, Key=store.data_name(location),
                Body=self.data[:keep])
            return
        with open(location[len('file://'):], 'r+b') as f:
            f.truncate(keep)

    def location_of(self, art):
        return test_blobs.TestForgedLocations.location_of(self, art)

    def members_artifact(self, member):
        """An artifact of the member's project with data in blob1."""
        art = self.request('POST', '/v2/artifacts/sample_artifacts',
                           body={'name': 'theirs'}, identity=member).json
        resp = self.request('PUT', art['self'] + '/blob1', raw=self.data,
                            content_type=test_blobs.OCTETS, identity=member)
        self.assertEqual(204, resp.status_int, resp.text)
        return art


class TestCopyBlob(CopyTest):

    def test_copy_blob_writes_the_data_to_the_store_and_shows_it(self):
        resp = self.copy(['fs2'])
        self.assertEqual(b'', resp.body)
        blob = self.copied()
        self.assertEqual(('%s,fs2' % self.first, '', 300003),
                         (blob['stores'], blob['os_glance_failed_import'],
                          blob['size']))
        self.assertEqual([self.data], self.stored('fs2'))
        self.assertEqual([('blob1', 'fs2')], self.copies())
        self.assertEqual(0, self.count_rows(models.blob_uploads))
        self.assertEqual(self.data, self.get().body)

    def test_an_empty_blob_is_copied_too(self):
        self.assertEqual(204, self.put('/blob_dict/empty', b'').status_int)
        self.copy(['fs3'], path='/blob_dict/empty')
        blob = self.copied('blob_dict', 'empty')
        self.assertEqual(('%s,fs3' % self.first, ''),
                         (blob['stores'], blob['os_glance_failed_import']))
        self.assertEqual([b''], self.stored('fs3'))
        self.assertEqual(b'', self.get('/blob_dict/empty').body)

    def test_a_copy_in_progress_shows_where_it_goes_and_is_one_at_a_time(
            self):
        # A copy recorded by a live process (this one) that has not ended.
        with self.glance.engine.begin() as conn:
            name = conn.execute(sa.select(models.blobs.c.data_name)).scalar()
            conn.execute(models.blob_uploads.insert().values(
                artifact_id=self.art['id'], field='blob1', key='',
                upload_id=str(uuid.uuid4()), backend='fs2',
                process=catalog.this_process(), started_at=sa.func.now(),
                heartbeat_at=sa.func.now(), copy_of=name,
                pending_stores='x,y'))
        blob = self.show()['blob1']
        self.assertEqual(('active', 'fs2,x,y', self.first), (
            blob['status'], blob['os_glance_importing_to_stores'],
            blob['stores']))
        self.assertEqual(self.data, self.get().body)
        self.assertError(409, self.copy(['fs2'], status=409),
                         'Another upload or copy of blob1 is in progress')
        self.assertError(409, self.put('/blob1', b'new'),
                         'Another upload to blob1 is in progress')
        self.assertError(409, self.drop(self.first, status=409),
                         'is in progress')

    def test_a_copy_whose_process_died_is_cleaned_up_and_leaves_nothing(
            self):
        upload_id = str(uuid.uuid4())
        with open(os.path.join(self._directory('fs2'),
                               store.data_id(upload_id)), 'wb') as f:
            f.write(self.data[:1000])      # what the copier wrote
        with self.glance.engine.begin() as conn:
            name = conn.execute(sa.select(models.blobs.c.data_name)).scalar()
            conn.execute(models.blob_uploads.insert().values(
                artifact_id=self.art['id'], field='blob1', key='',
                upload_id=upload_id, backend='fs2',
                process='%s:999999999:1.00' % catalog.socket.gethostname(),
                started_at=sa.func.now(), heartbeat_at=sa.func.now(),
                copy_of=name, pending_stores='fs3'))
        blob = self.show()['blob1']       # a read cleans up dead uploads
        self.assertEqual(('', self.first),
                         (blob['os_glance_importing_to_stores'],
                          blob['stores']))
        self.assertEqual(([], [], 0), (self.stored('fs2'), self.copies(),
                                       self.count_rows(models.blob_uploads)))
        self.copy(['fs2'])
        self.assertEqual('%s,fs2' % self.first, self.copied()['stores'])

    def test_what_cannot_be_copied_is_refused_saying_why(self):
        self.assertError(400, self.copy(['nowhere'], status=400),
                         "Unknown store 'nowhere'; the stores are: ")
        self.assertError(400, self.copy([], status=400),
                         'a non-empty list of names')
        self.assertError(400, self.copy(['fs2', 'fs2'], status=400),
                         'names a store twice')
        self.assertError(409, self.copy([self.first], status=409),
                         'already has its data in %s' % self.first)
        self.assertError(409, self.copy(['fs2'], path='/blob_dict/none',
                                        status=409),
                         'blob_dict/none has no data to copy')
        # .../blob_dict/import is the dict's entry "import".
        resp = self.copy(['fs2'], path='/blob_dict', status=405)
        self.assertEqual('GET, PUT', resp.headers['Allow'])
        resp = self.request('PUT', self.url + '/blob1/import', raw=b'x',
                            content_type=test_blobs.OCTETS)
        self.assertEqual((405, 'POST'), (resp.status_int,
                                         resp.headers['Allow']))
        resp = self.request('POST', self.url + '/blob1/import', body={
            'method': {'name': 'glance-download'}, 'stores': ['fs2']})
        self.assertError(400, resp, "Unknown or disabled import method "
                                    "'glance-download'; the enabled ones "
                                    "are: copy-blob, glance-direct, "
                                    "web-download")
        for method in (None, [None], {}, 'copy-image'):
            resp = self.request('POST', self.url + '/blob1/import', body={
                'method': {'name': method}, 'stores': ['fs2']})
            self.assertError(400, resp, 'Unknown or disabled import method')
        for body in ([], {'method': {'name': 'copy-blob'}, 'to': 1},
                     {'method': {'name': 'copy-blob', 'uri': 'x'},
                      'stores': ['fs2']},
                     dict(COPY, stores=['fs2'], all_stores_must_succeed=1),
                     dict(COPY, all_stores='yes'), dict(COPY, stores='all'),
                     dict(COPY, stores=['fs2'], all_stores=True)):
            resp = self.request('POST', self.url + '/blob1/import',
                                body=body)
            self.assertEqual(400, resp.status_int, resp.text)
        self.addCleanup(CONF.clear_override, 'enabled_import_methods')
        CONF.set_override('enabled_import_methods', ['glance-direct'])
        self.assertError(400, self.copy(['fs2'], status=400),
                         "disabled import method 'copy-blob'")
        CONF.clear_override('enabled_import_methods')
        member = test_base.identity('p1')
        art = self.members_artifact(member)
        resp = self.request('POST', art['self'] + '/blob1/import',
                            body=dict(COPY, stores=['fs2']),
                            identity=member)
        self.assertError(403, resp, 'artifacts:copy_blob')
        self.assertEqual([], self.copies())
        self.assertEqual([], self.stored('fs2'))

    def test_a_store_that_fails_shows_in_os_glance_failed_import(self):
        self.break_fs2()
        self.copy(['fs2'], all_stores_must_succeed=False)
        blob = self.copied()
        self.assertEqual((self.first, 'fs2'),
                         (blob['stores'], blob['os_glance_failed_import']))
        self.assertEqual(([], 0), (self.copies(),
                                   self.count_rows(models.blob_uploads)))
        self.assertEqual(self.data, self.get().body)

    def break_fs2(self):
        """Store fs2 fails every write: a file where its directory
        was."""
        directory = self._directory('fs2')
        os.rename(directory, directory + '.away')
        self.addCleanup(os.rename, directory + '.away', directory)
        with open(directory, 'wb'):
            pass
        self.addCleanup(os.unlink, directory)

    def test_a_failed_store_undoes_the_copies_when_all_must_succeed(self):
        self.break_fs2()
        self.copy(['fs3', 'fs2'])
        # The copy ends with the copies it made.
        blob = self.copied()
        self.assertEqual([], self.copies())
        self.assertEqual((self.first, 'fs2'),
                         (blob['stores'], blob['os_glance_failed_import']))
        # Their data goes right after.
        test_base.wait_for(lambda: self.stored('fs3') == [])

    def test_a_failed_store_is_skipped_when_failure_is_allowed(self):
        self.break_fs2()
        self.copy(['fs2', 'fs3'], all_stores_must_succeed=False)
        blob = self.copied()
        self.assertEqual(('%s,fs3' % self.first, 'fs2'),
                         (blob['stores'], blob['os_glance_failed_import']))
        self.assertEqual([self.data], self.stored('fs3'))

    def test_each_copy_counts_in_the_projects_usage(self):
        project = test_base.identity('p1')
        art = self.members_artifact(project)
        self.url = art['self']
        self.copy(['fs2', 'fs3'])
        self.copied()
        resp = self.request('GET', '/v2/artifacts/usage', identity=project)
        self.assertEqual(3 * len(self.data), resp.json['usage'][
            'artifact_size_total']['usage_bytes'])
        self.drop('fs3')
        resp = self.request('GET', '/v2/artifacts/usage', identity=project)
        self.assertEqual(2 * len(self.data), resp.json['usage'][
            'artifact_size_total']['usage_bytes'])

    def failing_steps(self, commit):
        """The copy's steps fail as a lost answer of the registry would:
        after the step was written (``commit``), or before."""
        real = catalog.data_api()

        class LostAnswers(object):
            def __getattr__(self, name):
                return getattr(real, name)

            def blob_copy_step(self, *args, **kwargs):
                if commit:
                    real.blob_copy_step(*args, **kwargs)
                raise errors.Unavailable('the answer was lost')
        self.useFixture(fixtures.MonkeyPatch(
            'glance.artifacts.catalog.data_api', LostAnswers))

    def test_a_copy_recorded_whose_answer_was_lost_keeps_its_data(self):
        self.failing_steps(commit=True)
        self.copy(['fs2'])
        blob = self.copied()
        self.assertEqual('%s,fs2' % self.first, blob['stores'])
        self.assertEqual([self.data], self.stored('fs2'))
        self.addCleanup(CONF.clear_override, 'read_order', group='artifacts')
        CONF.set_override('read_order', ['fs2'], group='artifacts')
        self.lose_first()
        self.assertEqual(self.data, self.get().body)

    def test_a_copy_not_recorded_leaves_no_data(self):
        self.failing_steps(commit=False)
        self.copy(['fs2'])
        blob = self.copied()
        self.assertEqual((self.first, [], 0), (
            blob['stores'], self.stored('fs2'),
            self.count_rows(models.blob_uploads)))

    def test_all_stores_copies_to_every_store_that_lacks_the_data(self):
        self.copy(None, all_stores=True)
        blob = self.copied()
        everywhere = sorted(b for b in store.backends())
        self.assertEqual(everywhere, sorted(blob['stores'].split(',')))
        self.assertError(409, self.copy(None, all_stores=True, status=409),
                         'blob1 already has its data in every store')


class TestReadsFromCopies(CopyTest):

    def setUp(self):
        super(TestReadsFromCopies, self).setUp()
        self.copy(['fs2'])
        self.copied()

    def test_a_store_that_lost_the_data_is_followed_by_the_next(self):
        os.unlink(self.location_of(self.art)[0][len('file://'):]) \
            if not self.glance.bucket else test_blobs.s3.empty(
                self.glance.bucket)
        self.assertEqual(self.data, self.get().body)
        resp = self.get(headers={'Range': 'bytes=299990-'})
        self.assertEqual((206, self.data[299990:]),
                         (resp.status_int, resp.body))

    def test_data_that_ends_early_goes_on_from_the_next_copy(self):
        self.lose_first(keep=100000)
        resp = self.get()
        self.assertEqual((200, len(self.data)),
                         (resp.status_int, len(resp.body)))
        self.assertEqual(self.data, resp.body)
        resp = self.get(headers={'Range': 'bytes=50000-150000'})
        self.assertEqual(self.data[50000:150001], resp.body)

    def test_read_order_puts_a_store_first(self):
        self.addCleanup(CONF.clear_override, 'read_order', group='artifacts')
        CONF.set_override('read_order', ['fs2'], group='artifacts')
        for name in os.listdir(self._directory('fs2')):
            with open(os.path.join(self._directory('fs2'), name), 'wb') as f:
                f.write(b'x' * len(self.data))   # a copy gone wrong
        self.assertEqual(b'x' * len(self.data), self.get().body)
        CONF.set_override('read_order', [self.first], group='artifacts')
        self.assertEqual(self.data, self.get().body)

    def test_garbage_collection_keeps_every_copy(self):
        report = gc.collect(0, force=True)
        self.assertEqual(0, sum(c['deleted']
                                for c in report['backends'].values()))
        self.assertEqual([self.data], self.stored('fs2'))
        self.assertEqual(self.data, self.get().body)


class TestDeletingCopies(CopyTest):

    def setUp(self):
        super(TestDeletingCopies, self).setUp()
        self.copy(['fs2'])
        self.copied()

    def test_one_copy_goes_and_never_the_last(self):
        self.drop('fs2')
        self.assertEqual(([], [], self.first),
                         (self.stored('fs2'), self.copies(),
                          self.show()['blob1']['stores']))
        self.assertError(404, self.drop('fs2', status=404),
                         'blob1 has no data in store fs2')
        self.assertError(403, self.drop(self.first, status=403),
                         'holds the only copy of the data of blob1')
        self.assertError(409, self.drop('nowhere', status=409),
                         'The store nowhere is not available')
        self.assertEqual(self.data, self.get().body)

    def test_dropping_the_first_store_leaves_the_copy_in_its_place(self):
        self.drop(self.first)
        self.assertEqual(('fs2', [], [self.data]),
                         (self.show()['blob1']['stores'], self.copies(),
                          self.stored('fs2')))
        self.assertEqual([], self.stored())
        self.assertEqual(self.data, self.get().body)

    def test_replacing_the_data_deletes_every_copy(self):
        self.assertEqual(204, self.put('/blob1', b'new').status_int)
        self.assertEqual(([], [b'new'], self.first),
                         (self.stored('fs2'), self.stored(),
                          self.show()['blob1']['stores']))
        self.assertEqual([], self.copies())

    def test_deleting_the_artifact_deletes_every_copy(self):
        self.assertEqual(204, self.request('DELETE', self.url).status_int)
        self.assertEqual(([], []), (self.stored('fs2'), self.stored()))

    def test_only_admins_drop_copies(self):
        member = test_base.identity('p1')
        art = self.members_artifact(member)
        self.url = art['self']
        self.copy(['fs2'])
        self.copied()
        resp = self.request('DELETE', '/v2/artifacts/stores/fs2/%s/blob1'
                            % self.url[len('/v2/artifacts/'):],
                            identity=member)
        self.assertError(403, resp, 'artifacts:delete_blob_location')
        self.assertEqual([self.data] * 2, self.stored('fs2'))
