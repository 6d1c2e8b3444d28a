"""Blob uploads and downloads through the paste pipeline and glance_store."""

import datetime
import hashlib
import io
import os
import tracemalloc
import uuid
import wsgiref.util

import fixtures
from gunicorn.http import wsgi as gunicorn_wsgi
from oslo_config import cfg
import sqlalchemy as sa
import webob

from glance.artifacts import blobs
from glance.artifacts import catalog
from glance.artifacts import exception
from glance.artifacts import gc
from glance.artifacts import store
from glance.db.artifacts import errors
from glance.db.artifacts import models
from tests import base as test_base
from tests import s3
from tests.functional import base

CONF = cfg.CONF
OCTETS = 'application/octet-stream'
MiB = 1024 * 1024
S3_PART = 5 * MiB       # tests.s3.backend_section's parts


class BlobTest(base.FunctionalTest):

    def setUp(self):
        super(BlobTest, self).setUp()
        self.art = self.create('sample_artifacts', name='blobs')
        self.url = self.art['self']
        for backend in ('fs', 'fs2', 'fs3', None):
            self.addCleanup(self._empty, backend)
        self._empty(None)

    def _directory(self, backend):
        return os.path.join(self.glance.root,
                            'store' if backend == 'fs' else backend)

    def _empty(self, backend):
        if backend is None and self.glance.bucket:
            s3.empty(self.glance.bucket)
            return
        path = self._directory(backend or 'fs')
        for name in os.listdir(path):
            os.unlink(os.path.join(path, name))

    def stored(self, backend=None):
        """The data in a backend: by default the default one, the
        filesystem store "fs" or, with GA_TEST_STORE=s3, a bucket, where
        an incomplete multipart upload shows as b'incomplete upload
        KEY'."""
        if backend is None and self.glance.bucket:
            return s3.stored(self.glance.bucket)
        path = self._directory(backend or 'fs')
        return sorted(open(os.path.join(path, n), 'rb').read()
                      for n in os.listdir(path))

    def write_partial(self, upload_id, data):
        """What an uploader that died left in the default backend."""
        name = store.data_id(upload_id)
        if self.glance.bucket:
            s3.client().put_object(Bucket=self.glance.bucket, Key=name,
                                   Body=data)
            return
        with open(os.path.join(self.glance.root, 'store', name), 'wb') as f:
            f.write(data)

    def put(self, path, data, content_type=OCTETS, headers=None,
            chunked=False, identity=None):
        req_headers = dict(headers or {})
        if chunked:
            req_headers['Transfer-Encoding'] = 'chunked'
        resp = self.request('PUT', self.url + path, raw=data,
                            content_type=content_type,
                            headers=req_headers, identity=identity)
        return resp

    def put_chunked(self, path, data):
        import webob
        req = webob.Request.blank(self.url + path, method='PUT')
        req.headers['Accept'] = 'application/json'
        req.content_type = OCTETS
        req.body_file = io.BytesIO(data)
        req.content_length = None
        req.headers['Transfer-Encoding'] = 'chunked'
        return req.get_response(self.glance.apps[''])

    def show(self):
        return self.request('GET', self.url).json


class TestUpload(BlobTest):

    def test_upload_records_size_digests_and_type_and_downloads(self):
        data = os.urandom(100000)
        resp = self.put('/blob1', data, headers={
            'x-openstack-artifact-content-type': 'application/x-yaml'})
        self.assertEqual(204, resp.status_int, resp.text)
        self.assertEqual(b'', resp.body)
        blob = self.show()['blob1']
        self.assertEqual({
            'status': 'active', 'size': 100000,
            'checksum': hashlib.md5(data).hexdigest(),
            'os_hash_algo': 'sha512',
            'os_hash_value': hashlib.sha512(data).hexdigest(),
            'content_type': 'application/x-yaml',
            'url': self.url + '/blob1', 'stores': store.default_backend(),
            'os_glance_importing_to_stores': '',
            'os_glance_failed_import': ''}, blob)
        got = self.request('GET', self.url + '/blob1')
        self.assertEqual(200, got.status_int)
        self.assertEqual(data, got.body)
        self.assertEqual('application/x-yaml', got.headers['Content-Type'])
        self.assertEqual('100000', got.headers['Content-Length'])
        self.assertEqual(hashlib.md5(data).hexdigest(),
                         got.headers['Content-MD5'])
        self.assertEqual('sha512', got.headers[
            'x-openstack-artifact-os-hash-algo'])
        self.assertEqual(hashlib.sha512(data).hexdigest(), got.headers[
            'x-openstack-artifact-os-hash-value'])
        self.assertEqual([data], self.stored())

    def test_data_recorded_by_a_finish_whose_answer_was_lost_is_kept(self):
        real = catalog.data_api()

        class LostAnswer(object):
            def __getattr__(self, name):
                return getattr(real, name)

            def blob_upload_finish(self, *args, **kwargs):
                real.blob_upload_finish(*args, **kwargs)
                raise errors.Unavailable('the answer was lost')
        with fixtures.MonkeyPatch('glance.artifacts.catalog.data_api',
                                  LostAnswer):
            resp = self.put('/blob1', b'recorded')
        self.assertEqual(503, resp.status_int, resp.text)
        self.assertEqual(('active', [b'recorded']),
                         (self.show()['blob1']['status'], self.stored()))
        self.assertEqual(b'recorded', self.request(
            'GET', self.url + '/blob1').body)

    def test_chunked_upload_without_size_works(self):
        data = os.urandom(300000)
        resp = self.put_chunked('/blob1', data)
        self.assertEqual(204, resp.status_int, resp.text)
        self.assertEqual(300000, self.show()['blob1']['size'])
        self.assertEqual(data, self.request('GET', self.url + '/blob1').body)

    def test_empty_blob_is_a_blob(self):
        self.assertEqual(204, self.put('/blob1', b'').status_int)
        blob = self.show()['blob1']
        self.assertEqual((0, 'active'), (blob['size'], blob['status']))
        got = self.request('GET', self.url + '/blob1')
        self.assertEqual((200, b''), (got.status_int, got.body))

    def test_other_content_types_are_415(self):
        resp = self.put('/blob1', b'x', content_type='application/json')
        self.assertEqual(415, resp.status_int)
        self.assertIn('application/octet-stream', resp.json['message'])
        self.assertIsNone(self.show()['blob1'])

    def test_matching_digests_are_accepted(self):
        data = b'template: {}'
        resp = self.put('/blob1', data, headers={
            'Content-MD5': hashlib.md5(data).hexdigest().upper(),
            'x-openstack-artifact-os-hash-value':
                hashlib.sha512(data).hexdigest()})
        self.assertEqual(204, resp.status_int, resp.text)

    def test_digest_mismatch_is_400_and_keeps_nothing(self):
        for header, value, fragment in [
                ('Content-MD5', hashlib.md5(b'other').hexdigest(),
                 'Content-MD5'),
                ('x-openstack-artifact-os-hash-value',
                 hashlib.sha512(b'other').hexdigest(), 'sha512 hash'),
                ('Content-MD5', 'not-hex', 'hexadecimal digest'),
                ('Content-MD5', 'ab' * 17, 'hexadecimal digest')]:
            resp = self.put('/blob1', b'data', headers={header: value})
            self.assertError(400, resp, fragment)
            self.assertIsNone(self.show()['blob1'])
            self.assertEqual([], self.stored())
            self.assertEqual(0, self.count_rows(models.blob_uploads))

    def test_failed_replacement_keeps_the_previous_data(self):
        self.assertEqual(204, self.put('/blob1', b'first').status_int)
        before = self.show()['blob1']
        resp = self.put('/blob1', b'second',
                        headers={'Content-MD5': 'a' * 32})
        self.assertEqual(400, resp.status_int)
        self.assertEqual(before, self.show()['blob1'])
        self.assertEqual(b'first',
                         self.request('GET', self.url + '/blob1').body)
        self.assertEqual([b'first'], self.stored())

    def test_replacement_deletes_the_old_data(self):
        self.assertEqual(204, self.put('/blob1', b'first').status_int)
        self.assertEqual(204, self.put('/blob1', b'second').status_int)
        self.assertEqual([b'second'], self.stored())
        self.assertEqual(b'second',
                         self.request('GET', self.url + '/blob1').body)

    def test_declared_size_over_the_field_limit_is_413_before_storing(self):
        resp = self.put('/blob1', b'x', headers={
            'x-openstack-artifact-size': str(2 ** 20 + 1)})
        self.assertEqual(400, resp.status_int)  # size and length differ
        resp = self.put('/blob1', b'x' * (2 ** 20 + 1))
        self.assertError(413, resp, 'larger than the limit of 1048576')
        self.assertEqual([], self.stored())

    def test_streamed_data_over_the_limit_is_413_and_kept_nowhere(self):
        resp = self.put_chunked('/blob1', b'x' * (2 ** 20 + 10))
        self.assertError(413, resp, 'larger than the limit')
        self.assertIsNone(self.show()['blob1'])
        self.assertEqual([], self.stored())
        self.assertEqual(0, self.count_rows(models.blob_uploads))

    def test_glance_image_size_cap_is_an_absolute_cap(self):
        self.addCleanup(CONF.clear_override, 'image_size_cap')
        CONF.set_override('image_size_cap', 10)
        resp = self.put('/blob1', b'x' * 11)
        self.assertError(413, resp, 'limit of 10 bytes')
        resp = self.put_chunked('/blob1', b'x' * 11)
        self.assertError(413, resp, 'limit of 10 bytes')
        self.assertEqual(204, self.put('/blob1', b'x' * 10).status_int)

    def test_an_answer_before_the_body_was_read_says_connection_close(self):
        # Refused before a byte of the body was read: the connection ends
        # after the answer (tests/e2e/test_edge.py shows it under gunicorn).
        resp = self.put('/blob1', b'x' * (2 ** 20 + 1))
        self.assertError(413, resp, 'larger than the limit')
        self.assertEqual('close', resp.headers.get('Connection'))
        resp = self.put('/blob1', b'x', content_type='text/plain')
        self.assertEqual((415, 'close'), (resp.status_int,
                                          resp.headers.get('Connection')))
        # Read to its end, refused or not: the connection can go on.
        resp = self.put('/blob1', b'x', headers={'Content-MD5': '0' * 32})
        self.assertError(400, resp, 'does not match')
        self.assertNotIn('Connection', resp.headers)
        resp = self.put_chunked('/blob1', b'data')
        self.assertEqual(204, resp.status_int)
        self.assertNotIn('Connection', resp.headers)

    def test_bad_size_header_is_400(self):
        resp = self.put('/blob1', b'x', headers={
            'x-openstack-artifact-size': '-1'})
        self.assertError(400, resp, 'must be a number of bytes')

    def test_unknown_blob_and_non_blob_fields_are_404(self):
        for path in ('/nothing', '/str1'):
            resp = self.put(path, b'x')
            self.assertError(404, resp, "has no blob field")
        resp = self.put('/blob1/key', b'x')
        self.assertError(404, resp, "'blob1' is a single blob")

    def test_blob_of_missing_or_other_type_artifact_is_404(self):
        other = self.create('heat_templates', name='h')
        resp = self.request('PUT', '/v2/artifacts/sample_artifacts/%s/'
                            'blob1' % other['id'], raw=b'x',
                            content_type=OCTETS)
        self.assertEqual(404, resp.status_int)

    def test_frozen_after_activation_is_409(self):
        with self.glance.engine.begin() as conn:
            conn.execute(models.artifacts.update().values(status='active'))
        resp = self.put('/blob1', b'x')
        self.assertError(409, resp, 'its blobs are frozen')

    def test_upload_by_another_project_is_refused(self):
        owner = test_base.identity('p1')
        art = self.request('POST', '/v2/artifacts/sample_artifacts',
                           body={'name': 'x', 'visibility': 'community'},
                           identity=owner).json
        self.url = art['self']
        resp = self.put('/blob1', b'x', identity=test_base.identity('p2'))
        self.assertEqual(403, resp.status_int)
        resp = self.put('/blob1', b'x', identity=owner)
        self.assertEqual(204, resp.status_int, resp.text)


class TestBlobDict(BlobTest):

    def test_entries_upload_and_download_by_key(self):
        for key, data in (('main.yaml', b'a'), ('lib_1-x.yaml', b'bb')):
            resp = self.put('/blob_dict/' + key, data)
            self.assertEqual(204, resp.status_int, resp.text)
        entries = self.show()['blob_dict']
        self.assertEqual(['lib_1-x.yaml', 'main.yaml'], sorted(entries))
        self.assertEqual(self.url + '/blob_dict/main.yaml',
                         entries['main.yaml']['url'])
        self.assertEqual(b'bb', self.request(
            'GET', self.url + '/blob_dict/lib_1-x.yaml').body)

    def test_bad_keys_are_400(self):
        for key in ('..', '.hidden', 'a/b', 'a%2Fb', '..%2Fx', '%2e%2e',
                    'sp ace', 'x' * 256, '-dash'):
            resp = self.put('/blob_dict/' + key, b'x')
            self.assertEqual(400, resp.status_int, key)
            self.assertIn('Invalid key', resp.json['message'])
        self.assertEqual({}, self.show()['blob_dict'])

    def test_blob_dict_needs_a_key(self):
        resp = self.put('/blob_dict', b'x')
        self.assertError(400, resp, 'name the entry')

    def test_entry_count_is_limited(self):
        for i in range(10):
            self.assertEqual(204, self.put('/blob_dict/k%d' % i,
                                           b'x').status_int)
        resp = self.put('/blob_dict/k10', b'x')
        self.assertError(400, resp, 'maximum of 10 entries')
        self.assertEqual(204, self.put('/blob_dict/k3', b'y').status_int)


class TestDownload(BlobTest):

    def setUp(self):
        super(TestDownload, self).setUp()
        self.data = bytes(range(256)) * 4
        self.assertEqual(204, self.put('/blob1', self.data).status_int)

    def get(self, headers):
        return self.request('GET', self.url + '/blob1', headers=headers)

    def test_no_data_yet_is_204(self):
        resp = self.request('GET', self.url + '/blob_dict/none')
        self.assertEqual(204, resp.status_int)
        art = self.create('sample_artifacts', name='empty')
        resp = self.request('GET', art['self'] + '/blob1')
        self.assertEqual(204, resp.status_int)

    def test_single_range_is_206_with_content_range(self):
        resp = self.get({'Range': 'bytes=10-19'})
        self.assertEqual(206, resp.status_int)
        self.assertEqual(self.data[10:20], resp.body)
        self.assertEqual('bytes 10-19/1024', resp.headers['Content-Range'])
        self.assertEqual('10', resp.headers['Content-Length'])

    def test_open_and_suffix_ranges(self):
        resp = self.get({'Range': 'bytes=1000-'})
        self.assertEqual((206, self.data[1000:]), (resp.status_int,
                                                   resp.body))
        self.assertEqual('bytes 1000-1023/1024',
                         resp.headers['Content-Range'])
        resp = self.get({'Range': 'bytes=-4'})
        self.assertEqual((206, self.data[-4:]), (resp.status_int, resp.body))
        resp = self.get({'Range': 'bytes=1020-5000'})
        self.assertEqual((206, self.data[1020:]), (resp.status_int,
                                                   resp.body))

    def test_unsatisfiable_range_is_416_with_the_size(self):
        for header in ('bytes=1024-', 'bytes=1024-2000', 'bytes=-0'):
            resp = self.get({'Range': header})
            self.assertError(416, resp, 'lies outside the data (1024 bytes)')
            self.assertEqual('bytes */1024', resp.headers['Content-Range'])

    def test_ranges_that_are_not_served_exactly_get_the_whole_data(self):
        # RFC 9110 14.2: a server may ignore Range; it does for malformed
        # ones, other units, several ranges, and with If-Range (there is
        # no validator to compare it with).
        for headers in ({'Range': 'bytes=x'}, {'Range': 'bytes=-'},
                        {'Range': 'bytes='}, {'Range': 'bytes=5-1'},
                        {'Range': 'bytes=0-1,5-6'}, {'Range': 'items=0-1'},
                        {'Range': 'bytes=\u0661-2'},
                        {'Range': 'bytes=0-1', 'If-Range': '"x"'},
                        {'Content-Range': 'bytes 0-1/1024'},
                        {'Content-Range': 'bytes */*'}):
            resp = self.get(headers)
            self.assertEqual((200, str(len(self.data)), self.data),
                             (resp.status_int, resp.headers['Content-Length'],
                              resp.body), headers)
            self.assertNotIn('Content-Range', resp.headers)

    def test_range_syntax_allows_spaces_case_and_huge_numbers(self):
        for header, part in (('Bytes = 2-3', self.data[2:4]),
                             ('bytes=, 1020-', self.data[1020:]),
                             ('bytes=1000-' + '9' * 30, self.data[1000:]),
                             ('bytes=-' + '9' * 30, self.data)):
            resp = self.get({'Range': header})
            self.assertEqual((206, part, str(len(part))),
                             (resp.status_int, resp.body,
                              resp.headers['Content-Length']), header)
            start = len(self.data) - len(part) if header != 'Bytes = 2-3' \
                else 2
            self.assertEqual('bytes %d-%d/1024' % (start, start + len(part)
                                                   - 1),
                             resp.headers['Content-Range'])
        resp = self.get({'Range': 'bytes=' + '9' * 30 + '-'})
        self.assertError(416, resp, 'lies outside the data')

    def test_empty_blob_is_200_with_no_bytes_and_every_range_416(self):
        self.assertEqual(204, self.put('/blob_dict/empty', b'').status_int)
        resp = self.request('GET', self.url + '/blob_dict/empty')
        self.assertEqual((200, '0', b''), (resp.status_int,
                                           resp.headers['Content-Length'],
                                           resp.body))
        for header in ('bytes=0-0', 'bytes=0-', 'bytes=-1'):
            resp = self.request('GET', self.url + '/blob_dict/empty',
                                headers={'Range': header})
            self.assertError(416, resp, 'lies outside the data (0 bytes)')
            self.assertEqual('bytes */0', resp.headers['Content-Range'])

    def test_deleting_the_artifact_deletes_its_data(self):
        self.assertEqual(204, self.put('/blob_dict/a', b'a').status_int)
        self.assertEqual(2, len(self.stored()))
        self.assertEqual(204, self.request('DELETE', self.url).status_int)
        self.assertEqual([], self.stored())
        self.assertEqual(0, self.count_rows(models.blobs))


class TestServerSendsFiles(BlobTest):
    """Under gunicorn, whose file_wrapper sends a window of a file exactly
    (edge.file_sender), a blob whose file is in a filesystem store goes to
    the server as that file: the server sends it (sendfile). The bytes on
    the wire under a real gunicorn: tests.e2e.test_blobs."""

    def setUp(self):
        super(TestServerSendsFiles, self).setUp()
        self.data = os.urandom(300000)
        resp = self.put('/blob1', self.data,
                        headers={'x-openstack-artifact-store': 'fs2'})
        self.assertEqual(204, resp.status_int, resp.text)
        [name] = os.listdir(self._directory('fs2'))
        self.path = os.path.join(self._directory('fs2'), name)

    def get(self, wrapper=gunicorn_wsgi.FileWrapper, headers=None,
            blob='/blob1'):
        req = webob.Request.blank(self.url + blob,
                                  environ={'wsgi.file_wrapper': wrapper},
                                  headers=headers or {})
        return req.get_response(self.glance.apps[''])

    def test_a_file_store_blob_reaches_gunicorn_as_its_file(self):
        stored = os.stat(self.path)
        for headers, part in (({}, self.data),
                              ({'Range': 'bytes=1000-1999'},
                               self.data[1000:2000]),
                              ({'Range': 'bytes=-5'}, self.data[-5:])):
            resp = self.get(headers=headers)
            self.assertIsInstance(resp.app_iter, gunicorn_wsgi.FileWrapper)
            sent = os.fstat(resp.app_iter.filelike.fileno())
            self.assertEqual((stored.st_dev, stored.st_ino),
                             (sent.st_dev, sent.st_ino))
            self.assertEqual((str(len(part)), part),
                             (resp.headers['Content-Length'], resp.body))

    def test_a_blob_in_another_store_goes_through_glance_store(self):
        # The default store: S3 with GA_TEST_STORE=s3, else a file store.
        self.assertEqual(204, self.put('/blob_dict/k', b'data').status_int)
        resp = self.get(blob='/blob_dict/k')
        self.assertEqual(not self.glance.bucket,
                         isinstance(resp.app_iter, gunicorn_wsgi.FileWrapper))
        self.assertEqual(b'data', resp.body)

    def test_a_file_of_another_size_is_read_as_before_and_ends_early(self):
        os.truncate(self.path, 1000)
        resp = self.get()
        self.assertNotIsInstance(resp.app_iter, gunicorn_wsgi.FileWrapper)
        self.assertEqual('300000', resp.headers['Content-Length'])
        e = self.assertRaises(exception.StoreUnavailable, lambda: resp.body)
        self.assertEqual('The blob data ended early.', str(e))

    def test_other_servers_file_wrappers_are_not_used(self):
        # uWSGI's sends the whole file whatever the range; wsgiref's
        # stands for any other server's.
        resp = self.get(wrapper=wsgiref.util.FileWrapper,
                        headers={'Range': 'bytes=10-19'})
        self.assertNotIsInstance(resp.app_iter, wsgiref.util.FileWrapper)
        self.assertEqual((206, self.data[10:20]),
                         (resp.status_int, resp.body))


class TestUploadMemory(BlobTest):

    def test_an_upload_holds_a_bounded_part_of_its_data_in_memory(self):
        """What glance-api allocates during an upload of 40 MiB stays
        under a bound that does not grow with the data: the chunks the
        request thread has queued for the store and, on S3, two parts
        (one being sent while the next is received) and the chunk that
        boto3 hashes to sign a part."""
        art = self.create('tosca_templates', name='big')
        url = art['self'] + '/template'
        # The first S3 upload of a process loads boto3's models.
        resp = self.request('PUT', url, raw=b'x', content_type=OCTETS)
        self.assertEqual(204, resp.status_int, resp.text)
        data = os.urandom(40 * MiB)
        tracemalloc.start()
        try:
            resp = self.request('PUT', url, raw=data, content_type=OCTETS)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        self.assertEqual(204, resp.status_int, resp.text)
        parts = 2 * S3_PART if self.glance.bucket else 0
        bound = (blobs._Writer.AHEAD + 3) * blobs.CHUNK + parts + 3 * MiB
        self.assertLess(peak, bound, 'peak %.1f MiB' % (peak / MiB))
        self.assertEqual(hashlib.md5(data).hexdigest(), self.request(
            'GET', art['self']).json['template']['checksum'])


class TestBackends(BlobTest):

    def test_default_backend_and_per_type_override(self):
        self.addCleanup(CONF.clear_override, 'default_backend',
                        group='artifacts')
        CONF.set_override('default_backend', 'fs2', group='artifacts')
        self.assertEqual(204, self.put('/blob1', b'two').status_int)
        self.assertEqual([b'two'], self.stored('fs2'))
        self.addCleanup(CONF.clear_override, 'type_backends',
                        group='artifacts')
        CONF.set_override('type_backends', {'sample_artifacts': 'fs'},
                          group='artifacts')
        self.assertEqual(204, self.put('/blob_dict/k', b'one').status_int)
        self.assertEqual([b'one'], self.stored('fs'))
        self.assertEqual(b'two', self.request('GET', self.url +
                                              '/blob1').body)

    def test_request_header_picks_an_enabled_backend(self):
        resp = self.put('/blob1', b'x', headers={
            'x-openstack-artifact-store': 'fs2'})
        self.assertEqual(204, resp.status_int, resp.text)
        self.assertEqual([b'x'], self.stored('fs2'))
        resp = self.put('/blob1', b'y', headers={
            'x-openstack-artifact-store': 'nowhere'})
        self.assertError(400, resp, "Unknown store backend 'nowhere'")
        self.assertEqual([b'x'], self.stored('fs2'))


class TestUploadRecords(BlobTest):

    def record_upload(self, process, heartbeat_age=0, partial=None):
        now = datetime.datetime.utcnow()
        upload_id = '11111111-2222-4333-8444-555555555555'
        with self.glance.engine.begin() as conn:
            conn.execute(models.blob_uploads.insert().values(
                artifact_id=self.art['id'], field='blob1', key='',
                upload_id=upload_id, backend=store.default_backend(),
                process=process,
                started_at=now, heartbeat_at=now - datetime.timedelta(
                    seconds=heartbeat_age)))
        if partial is not None:
            self.write_partial(upload_id, partial)

    def test_a_running_upload_shows_saving_and_blocks_another(self):
        self.record_upload(catalog.this_process())
        self.assertEqual('saving', self.show()['blob1']['status'])
        resp = self.put('/blob1', b'x')
        self.assertError(409, resp, 'Another upload to blob1 is in '
                         'progress')

    def test_upload_of_a_dead_local_process_is_cleaned_on_access(self):
        self.record_upload('%s:999999999:1.000' % catalog.socket
                           .gethostname(), partial=b'partial')
        blob = self.show()['blob1']
        self.assertIsNone(blob)
        self.assertEqual([], self.stored())
        self.assertEqual(0, self.count_rows(models.blob_uploads))

    def test_upload_without_heartbeat_is_cleaned_and_replaced(self):
        self.record_upload('other-host:1:1.000', heartbeat_age=10 ** 6,
                           partial=b'partial')
        resp = self.put('/blob1', b'new')
        self.assertEqual(204, resp.status_int, resp.text)
        self.assertEqual([b'new'], self.stored())

    def test_upload_of_another_live_host_is_left_alone(self):
        self.record_upload('other-host:1:1.000', partial=b'partial')
        self.assertEqual('saving', self.show()['blob1']['status'])
        self.assertEqual([b'partial'], self.stored())
        self.assertEqual(409, self.put('/blob1', b'x').status_int)

    def test_blob_row_and_location_are_not_shown(self):
        self.assertEqual(204, self.put('/blob1', b'x').status_int)
        self.assertNotIn('location', self.show()['blob1'])
        scheme = 's3://' if self.glance.bucket else 'file://'
        self.assertNotIn(scheme, self.request('GET', self.url).text)
        with self.glance.engine.connect() as conn:
            location = conn.execute(sa.select(
                models.blobs.c.location)).scalar()
        self.assertTrue(location.startswith(scheme))


CANARY = b'canary: a file of the host, not artifact data\n'
REFUSED = 'The recorded location of the blob data is refused'


class TestForgedLocations(BlobTest):
    """Blob rows, uploads and pending deletes whose location or backend
    was forged in the database (as a compromised registry or a tampered
    row would have them): glance-api reads and deletes nothing outside
    the artifact data of its backends (OSSA-2014-041)."""

    def setUp(self):
        super(TestForgedLocations, self).setUp()
        outside, cleanup = test_base.make_tempdir('ga-canary-')
        self.addCleanup(cleanup)
        self.canary = self.write_canary(outside, 'canary')

    def write_canary(self, directory, name):
        path = os.path.join(directory, name)
        with open(path, 'wb') as f:
            f.write(CANARY)
        self.addCleanup(lambda: os.path.lexists(path) and os.unlink(path))
        return path

    def forge(self, location, backend='fs', art=None):
        """A blob1 row of ``art`` (ours by default) with data of the
        canary's size at ``location`` in ``backend``."""
        now = datetime.datetime.utcnow()
        with self.glance.engine.begin() as conn:
            conn.execute(models.blobs.insert().values(
                artifact_id=(art or self.art)['id'], field='blob1', key='',
                status='active', size=len(CANARY),
                checksum=hashlib.md5(CANARY).hexdigest(),
                os_hash_algo='sha512',
                os_hash_value=hashlib.sha512(CANARY).hexdigest(),
                content_type=OCTETS, location=location, backend=backend,
                created_at=now, updated_at=now))

    def location_of(self, art):
        with self.glance.engine.connect() as conn:
            return conn.execute(sa.select(
                models.blobs.c.location, models.blobs.c.backend).where(
                    models.blobs.c.artifact_id == art['id'])).one()

    def assertRefused(self, location):
        for headers in (None, {'Range': 'bytes=2-5'}):
            resp = self.request('GET', self.url + '/blob1', headers=headers)
            self.assertError(403, resp, REFUSED)
            self.assertNotIn(location, resp.text)
            self.assertNotIn('canary', resp.text)

    def assertCanary(self, path=None):
        with open(path or self.canary, 'rb') as f:
            self.assertEqual(CANARY, f.read())

    def delete_and_collect(self):
        """DELETE the artifact, then a garbage collection pass."""
        self.assertEqual(204, self.request('DELETE', self.url).status_int)
        gc.collect(0)

    def test_a_file_outside_the_store_is_never_read_or_deleted(self):
        self.forge('file://' + self.canary)
        self.assertRefused(self.canary)
        self.delete_and_collect()
        self.assertCanary()

    def test_a_path_that_climbs_out_of_the_store_is_refused(self):
        # Named as artifact data, beside the store's directory.
        canary = self.write_canary(self.glance.root, store.data_id(
            str(uuid.uuid4())))
        location = 'file://%s/../%s' % (self._directory('fs'),
                                        os.path.basename(canary))
        self.forge(location)
        self.assertRefused(location)
        self.delete_and_collect()
        self.assertCanary(canary)

    def test_a_link_in_the_store_to_a_file_outside_is_refused(self):
        link = os.path.join(self._directory('fs'),
                            store.data_id(str(uuid.uuid4())))
        os.symlink(self.canary, link)
        self.forge('file://' + link)
        self.assertRefused(link)
        self.delete_and_collect()
        self.assertCanary()
        self.assertTrue(os.path.islink(link))

    def test_another_projects_data_under_the_wrong_backend_is_refused(self):
        other = test_base.identity('p2')
        art = self.request('POST', '/v2/artifacts/sample_artifacts',
                           body={'name': 'theirs'}, identity=other).json
        resp = self.request('PUT', art['self'] + '/blob1', raw=b'theirs',
                            content_type=OCTETS, identity=other,
                            headers={'x-openstack-artifact-store': 'fs2'})
        self.assertEqual(204, resp.status_int, resp.text)
        location, backend = self.location_of(art)
        self.assertEqual('fs2', backend)
        self.forge(location, backend='fs')
        self.assertRefused(location)
        self.delete_and_collect()
        self.assertEqual([b'theirs'], self.stored('fs2'))
        self.assertEqual(b'theirs', self.request(
            'GET', art['self'] + '/blob1', identity=other).body)

    def test_an_unknown_or_reserved_backend_is_refused(self):
        self.assertEqual(204, self.put('/blob_dict/real', b'ours').status_int)
        location, _backend = self.location_of(self.art)
        staged = self.write_canary(os.path.join(self.glance.root, 'staging'),
                                   store.data_id(str(uuid.uuid4())))
        for backend, location in (('nowhere', location),
                                  ('os_glance_staging_store',
                                   'file://' + staged)):
            with self.glance.engine.begin() as conn:
                conn.execute(models.blobs.delete().where(
                    models.blobs.c.field == 'blob1'))
            self.forge(location, backend=backend)
            self.assertRefused(location)
            resp = self.request('GET', self.url + '/blob1')
            self.assertIn("its backend '%s' is not a backend of artifacts"
                          % backend, resp.json['message'])
        self.delete_and_collect()
        self.assertCanary(staged)

    def test_a_forged_upload_id_deletes_nothing(self):
        # store/artifact-x/../../NAME is root/NAME once the store has a
        # directory artifact-x.
        canary = self.write_canary(self.glance.root, 'canary-%s'
                                   % uuid.uuid4().hex[:6])
        os.mkdir(os.path.join(self._directory('fs'), 'artifact-x'))
        self.addCleanup(os.rmdir, os.path.join(self._directory('fs'),
                                               'artifact-x'))
        upload_id = 'x/../../' + os.path.basename(canary)
        self.assertTrue(os.path.exists(os.path.join(
            self._directory('fs'), 'artifact-' + upload_id)))
        store.delete_partial('fs', upload_id)
        self.assertCanary(canary)
        # The same id in the record of an upload whose process died.
        now = datetime.datetime.utcnow()
        with self.glance.engine.begin() as conn:
            conn.execute(models.blob_uploads.insert().values(
                artifact_id=self.art['id'], field='blob1', key='',
                upload_id=upload_id, backend='fs',
                process='%s:999999999:1.000' % catalog.socket.gethostname(),
                started_at=now, heartbeat_at=now))
        self.assertIsNone(self.show()['blob1'])     # cleaned up
        self.assertEqual(0, self.count_rows(models.blob_uploads))
        gc.collect(0)
        self.assertCanary(canary)

    def test_a_refused_pending_delete_stays_and_deletes_nothing(self):
        with self.glance.engine.begin() as conn:
            conn.execute(models.pending_deletes.insert().values(
                backend='fs', location='file://' + self.canary,
                delete_after=datetime.datetime(2000, 1, 1)))
        report = gc.collect(0)
        self.assertEqual(0, report['pending_deleted'])
        self.assertEqual(1, self.count_rows(models.pending_deletes))
        self.assertCanary()

    def test_gc_lists_only_data_named_artifact_uuid(self):
        others = ['artifact-x', 'artifact-' + str(uuid.uuid4()).upper()]
        for name in others:
            self.write_named(name, b'not ours')
        report = gc.collect(0)
        counts = report['backends']['s3' if self.glance.bucket else 'fs']
        self.assertEqual((0, 0), (counts['listed'], counts['deleted']))
        self.assertEqual([b'not ours'] * 2, self.stored())

    def write_named(self, name, data):
        if self.glance.bucket:
            s3.client().put_object(Bucket=self.glance.bucket, Key=name,
                                   Body=data)
            return
        with open(os.path.join(self._directory('fs'), name), 'wb') as f:
            f.write(data)

    def test_locations_the_store_writes_pass_the_check(self):
        backends = ['fs', 'fs2'] + (['s3'] if self.glance.bucket else [])
        for backend in backends:
            data = backend.encode() * 100
            resp = self.put('/blob1', data, headers={
                'x-openstack-artifact-store': backend})
            self.assertEqual(204, resp.status_int, resp.text)
            location, recorded = self.location_of(self.art)
            self.assertEqual(backend, recorded)
            self.assertEqual(store.data_name(location),
                             store.check_location(backend, location))
            self.assertEqual(data, self.request('GET', self.url +
                                                '/blob1').body)
            resp = self.request('GET', self.url + '/blob1',
                                headers={'Range': 'bytes=100-199'})
            self.assertEqual((206, data[100:200]), (resp.status_int,
                                                    resp.body))
