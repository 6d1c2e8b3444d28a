"""Blob data in the stores, against a real glance-api on the filesystem
store and on S3 (a moto server): byte ranges of multipart data, failed
uploads that leave nothing, bounded memory, delayed delete and the
garbage collector, including while uploads run."""

import concurrent.futures
import hashlib
import http.client
import json
import os
import random
import subprocess
import threading
import time
import uuid

import psutil
import testtools

from tests import base
from tests import s3
from tests import websource
from tests.e2e import server as server_mod

MiB = 1024 * 1024
OCTETS = {'Content-Type': 'application/octet-stream'}


def chunked_put(port, path, total, piece=MiB, headers=None):
    """PUT ``total`` bytes of b'c' with chunked transfer encoding (no
    declared size); (status, body)."""
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=300)
    try:
        conn.putrequest('PUT', path)
        for name, value in dict(OCTETS, **(headers or {})).items():
            conn.putheader(name, value)
        conn.putheader('Transfer-Encoding', 'chunked')
        conn.endheaders()
        chunk = b'c' * piece
        sent = 0
        try:
            while sent < total:
                part = chunk[:total - sent]
                conn.send(b'%x\r\n%s\r\n' % (len(part), part))
                sent += len(part)
            conn.send(b'0\r\n\r\n')
        except OSError:
            pass    # the server answered early; read its answer
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


class StoreTest(testtools.TestCase):
    STORE = 'file'
    EXTRA = ''
    TYPE = 'murano_packages'
    FIELD = 'package'

    def setUp(self):
        super(StoreTest, self).setUp()
        self.root, cleanup = base.make_tempdir('ga-e2e-stores-')
        self.addCleanup(cleanup)
        self.server = server_mod.make_server(self, self.root, workers=1,
                                             store=self.STORE,
                                             extra=self.EXTRA)
        self.server.sync(glance_tables=False)
        self.server.start()
        self.addCleanup(self.server.stop)

    def log_excerpt(self, lines=80):
        """The last of glance-api's log lines about errors, deleted data
        and garbage collection (tools/dev.py's configuration logs to
        glance-api.log in the server's root)."""
        path = os.path.join(self.server.root, 'glance-api.log')
        with open(path, errors='replace') as f:
            found = [line for line in f
                     if any(word in line for word in (
                         'ERROR', 'WARNING', 'Deleted', 'Aborted',
                         'Garbage', 'Cleaned', 'ended'))]
        return ''.join(found[-lines:])

    def restart(self, extra, workers=1):
        """The same host again, with more options."""
        self.server.stop()
        self.server = server_mod.make_server(
            self, self.root, workers=workers, store=self.STORE,
            s3_bucket=self.server.bucket,
            database=self.server.artifacts_database, extra=extra)
        self.server.start()
        self.addCleanup(self.server.stop)

    def create(self, name=None):
        status, art = self.server.json(
            'POST', '/v2/artifacts/%s' % self.TYPE,
            {'name': name or 'pkg-%s' % uuid.uuid4().hex[:8]})
        self.assertEqual(201, status, art)
        return art

    def put(self, art, data, headers=None):
        status, _h, body = self.server.request(
            'PUT', '%s/%s' % (art['self'], self.FIELD), data,
            dict(OCTETS, **(headers or {})))
        return status, body

    def get(self, art, headers=None):
        status, hdrs, body = self.server.request(
            'GET', '%s/%s' % (art['self'], self.FIELD), headers=headers)
        return status, hdrs, body

    # -- the default backend's data ------------------------------------

    def data(self):
        """{name: size} of the data in the default backend; an incomplete
        S3 multipart upload shows as 'incomplete NAME'."""
        if self.server.bucket:
            c = s3.client()
            found = {}
            for page in c.get_paginator('list_objects_v2').paginate(
                    Bucket=self.server.bucket):
                for o in page.get('Contents', ()):
                    found[o['Key']] = o['Size']
            for page in c.get_paginator('list_multipart_uploads').paginate(
                    Bucket=self.server.bucket):
                for u in page.get('Uploads', ()):
                    found['incomplete ' + u['Key']] = sum(
                        p['Size'] for p in c.list_parts(
                            Bucket=self.server.bucket, Key=u['Key'],
                            UploadId=u['UploadId']).get('Parts', ()))
            return found
        path = os.path.join(self.root, 'store')
        return {n: os.path.getsize(os.path.join(path, n))
                for n in os.listdir(path)}

    def leave(self, name, data, incomplete=False):
        """Data in the default backend that nothing refers to (what a
        host that died between its store write and its database commit
        leaves); ``incomplete``: an S3 multipart upload with one part."""
        if self.server.bucket:
            c = s3.client()
            if incomplete:
                upload = c.create_multipart_upload(
                    Bucket=self.server.bucket, Key=name)
                c.upload_part(Bucket=self.server.bucket, Key=name,
                              UploadId=upload['UploadId'], PartNumber=1,
                              Body=data)
            else:
                c.put_object(Bucket=self.server.bucket, Key=name,
                             Body=data)
            return
        with open(os.path.join(self.root, 'store', name), 'wb') as f:
            f.write(data)

    def manage(self, *args, status=0):
        result = subprocess.run(
            [os.path.join(base.BIN, 'glance-artifacts-manage'),
             '--config-file', os.path.join(self.server.confdir,
                                           'glance-api.conf')] + list(args),
            capture_output=True, text=True, timeout=300)
        self.assertEqual(status, result.returncode, result.stderr[-3000:])
        return json.loads(result.stdout)

    def gc(self, *args, status=0):
        report = self.manage('store', 'gc', *args, status=status)
        return report, report['backends'][
            's3' if self.server.bucket else 'fs']

    def wait_for(self, predicate, timeout=30):
        base.wait_for(predicate, timeout)


class GarbageTests(object):
    """The garbage collector and delayed delete, on either store."""

    def test_gc_deletes_only_unused_artifact_data_and_reports_it(self):
        live = self.create()
        self.assertEqual(204, self.put(live, b'live data')[0])
        orphans = {'artifact-%s' % uuid.uuid4(): b'o' * 1000,
                   'artifact-%s' % uuid.uuid4(): b'p' * 2000}
        for name, data in orphans.items():
            self.leave(name, data)
        image = str(uuid.uuid4())          # an image's data: not ours
        self.leave(image, b'image data')
        expected_bytes = 3000
        if self.server.bucket:
            name = 'artifact-%s' % uuid.uuid4()
            self.leave(name, b'i' * (5 * MiB), incomplete=True)
            orphans['incomplete ' + name] = None
            expected_bytes += 5 * MiB
        before = self.data()
        self.assertEqual(len(orphans) + 2, len(before))

        names = sorted(n.replace('incomplete ', '') for n in orphans)
        report, counts = self.gc('--dry-run', '--older-than', '0')
        self.assertEqual({'listed': len(orphans) + 1,
                          'orphans': len(orphans), 'bytes': expected_bytes,
                          'deleted': 0, 'young': 0, 'orphan_names': names},
                         counts)
        self.assertTrue(report['dry_run'])
        self.assertEqual(before, self.data())

        _report, counts = self.gc('--older-than', '3600')
        self.assertEqual((0, 0, len(orphans)), (
            counts['orphans'], counts['deleted'], counts['young']))
        self.assertEqual(before, self.data())

        # Most of what it lists is unused: the safety belt holds.
        report, counts = self.gc('--older-than', '0', status=1)
        self.assertEqual(0, counts['deleted'])
        self.assertIn('%d of the %d pieces of data listed are unused, more '
                      'than gc_max_delete_fraction (0.1) allows; nothing '
                      'was deleted.' % (len(orphans), len(orphans) + 1),
                      counts['refused'])
        self.assertEqual(before, self.data())

        report, counts = self.gc('--older-than', '0', '--force')
        self.assertEqual({'listed': len(orphans) + 1,
                          'orphans': len(orphans), 'bytes': expected_bytes,
                          'deleted': len(orphans), 'young': 0}, counts)
        self.assertFalse(report['dry_run'])
        remaining = self.data()
        self.assertEqual({image}, set(remaining) - {
            n for n in remaining if n.startswith('artifact-')})
        self.assertEqual(1, len([n for n in remaining
                                 if n.startswith('artifact-')]))
        self.assertEqual(b'live data', self.get(live)[2])

    def test_gc_inside_glance_api_collects_orphans_by_itself(self):
        self.restart('\n[artifacts]\ngc_interval = 1\ngc_grace = 0\n'
                     'gc_max_delete_fraction = 1.0\n')
        live = self.create()
        self.assertEqual(204, self.put(live, b'live')[0])
        orphan = 'artifact-%s' % uuid.uuid4()
        self.leave(orphan, b'orphan')
        self.wait_for(lambda: orphan not in self.data())
        self.assertEqual(1, len(self.data()))
        self.assertEqual(b'live', self.get(live)[2])

    def test_gc_racing_uploads_replacements_and_deletes_loses_nothing(self):
        """Uploads (some larger than an S3 part), replacements and deletes
        on four threads while glance-api collects garbage every second
        with no grace period, and the manage command does too."""
        self.restart('\n[artifacts]\ngc_interval = 1\ngc_grace = 0\n'
                     'gc_max_delete_fraction = 1.0\n', workers=2)
        expected = {}           # artifact -> md5 of its data, or None
        lock = threading.Lock()
        stop = threading.Event()

        def work(seed):
            rnd = random.Random(seed)
            for _ in range(6):
                art = self.create()
                for _round in range(rnd.choice((1, 2))):   # 2: replaced
                    data = os.urandom(rnd.choice((1000, 300000, 6 * MiB)))
                    self.assertEqual(204, self.put(art, data)[0])
                if rnd.random() < 0.3:
                    self.assertEqual(204, self.server.request(
                        'DELETE', art['self'])[0])
                    data = None
                with lock:
                    expected[art['self']] = (
                        hashlib.md5(data).hexdigest() if data else None)

        def collect():
            while not stop.is_set():
                self.gc('--older-than', '0', '--force')

        collector = threading.Thread(target=collect, daemon=True)
        collector.start()
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(work, range(4)))
        stop.set()
        collector.join(300)
        live = {url: md5 for url, md5 in expected.items() if md5}
        for url, md5 in sorted(live.items()):
            try:
                status, _h, body = self.server.request('GET', url + '/' +
                                                       self.FIELD)
            except http.client.IncompleteRead as e:
                self.fail('The data of %s broke off after %d bytes. What '
                          'glance-api logged of errors, deletes and '
                          'collections:\n%s\nThe end of the WSGI '
                          "server's log:\n%s"
                          % (url, len(e.partial), self.log_excerpt(),
                             self.server.output()[-3000:]))
            self.assertEqual((200, md5),
                             (status, hashlib.md5(body).hexdigest()))
        # Nothing else is left once the collector has had its turn.
        _report, counts = self.gc('--older-than', '0', '--force')
        self.assertEqual(len(live), len(self.data()))
        self.assertEqual(len(live), counts['listed'] - counts['deleted'])

    def test_delayed_delete_keeps_data_for_scrub_time_then_gc_deletes_it(
            self):
        self.restart('\n[artifacts]\ndelayed_delete = true\n'
                     'scrub_time = 20\n')
        art = self.create()
        self.assertEqual(204, self.put(art, b'first')[0])
        replaced = time.monotonic()
        self.assertEqual(204, self.put(art, b'second')[0])
        self.assertEqual(b'second', self.get(art)[2])
        self.assertEqual(2, len(self.data()))        # the first is kept
        self.assertEqual(204, self.server.request('DELETE',
                                                  art['self'])[0])
        self.assertEqual(2, len(self.data()))        # both are kept
        report, counts = self.gc('--older-than', '0')
        self.assertLess(time.monotonic() - replaced, 20)
        self.assertEqual((0, 0, 2), (report['pending_deleted'],
                                     counts['orphans'], counts['listed']))
        self.assertEqual(2, len(self.data()))
        time.sleep(max(0, 20.5 - (time.monotonic() - replaced)))
        report, counts = self.gc('--older-than', '0')
        self.assertEqual(2, report['pending_deleted'])
        self.assertEqual({}, self.data())


class TestGarbageOnFiles(GarbageTests, StoreTest):
    STORE = 'file'


class TestGarbageOnS3(GarbageTests, StoreTest):
    STORE = 's3'


class CopyTests(object):
    """Several stores per blob on a real glance-api: the copy thread of a
    worker, downloads that go on from the next copy, copies dropped."""

    def test_copies_made_in_the_background_serve_when_a_store_fails(self):
        art = self.create()
        data = os.urandom(6 * MiB + 1)
        self.assertEqual(204, self.put(art, data)[0])
        first = 's3' if self.server.bucket else 'fs'
        status, _h, body = self.server.request(
            'POST', '%s/%s/import' % (art['self'], self.FIELD),
            {'method': {'name': 'copy-blob'}, 'stores': ['fs2']})
        self.assertEqual((202, b''), (status, body))
        views = []

        def copied():
            views.append(self.server.json('GET', art['self'])[1][
                self.FIELD])
            return views[-1]['os_glance_importing_to_stores'] == ''
        self.wait_for(copied)
        self.assertEqual(('%s,fs2' % first, ''), (
            views[-1]['stores'], views[-1]['os_glance_failed_import']))
        copies = os.listdir(os.path.join(self.root, 'fs2'))
        self.assertEqual(1, len(copies))
        # The first store loses the data behind glance-api's back.
        name = [n for n in self.data() if n.startswith('artifact-')][0]
        if self.server.bucket:
            s3.client().delete_object(Bucket=self.server.bucket, Key=name)
        else:
            os.unlink(os.path.join(self.root, 'store', name))
        status, _h, body = self.get(art)
        self.assertEqual((200, hashlib.md5(data).hexdigest()),
                         (status, hashlib.md5(body).hexdigest()))
        status, hdrs, body = self.get(art, {'Range': 'bytes=-10'})
        self.assertEqual((206, data[-10:]), (status, body))
        # Dropping the store that lost it leaves the copy, the last one,
        # which stays.
        self.assertEqual(204, self.server.request(
            'DELETE', '/v2/artifacts/stores/%s/%s/%s/%s' % (
                first, self.TYPE, art['id'], self.FIELD))[0])
        status, body = self.server.json(
            'DELETE', '/v2/artifacts/stores/fs2/%s/%s/%s' % (
                self.TYPE, art['id'], self.FIELD))
        self.assertEqual(403, status, body)
        self.assertIn('holds the only copy', body['message'])
        self.assertEqual(data, self.get(art)[2])
        self.assertEqual(204, self.server.request('DELETE',
                                                  art['self'])[0])
        self.assertEqual([], os.listdir(os.path.join(self.root, 'fs2')))


class TestCopiesOnFiles(CopyTests, StoreTest):
    STORE = 'file'


class TestCopiesOnS3(CopyTests, StoreTest):
    STORE = 's3'


class ImportTests(object):
    """Imports on a real glance-api, into the default store (the file
    store or S3) and the file store fs2: a Heat template from a URL that
    downloads from either store, and an import whose server is killed."""

    def setUp(self):
        self.source = websource.Source()
        self.addCleanup(self.source.stop)
        # The tests' web server is on this host: the operator allows it.
        # (Glance's lists of them are in brackets.)
        self.EXTRA = ('\n[import_filtering_opts]\nallowed_hosts = '
                      '[127.0.0.1]\nallowed_ports = [%d]\n'
                      % self.source.port)
        super(ImportTests, self).setUp()
        self.first = 's3' if self.server.bucket else 'fs'

    def template(self):
        status, art = self.server.json(
            'POST', '/v2/artifacts/heat_templates',
            {'name': 'web-%s' % uuid.uuid4().hex[:8]})
        self.assertEqual(201, status, art)
        return art

    def start_import(self, art, uri, stores):
        status, _h, body = self.server.request(
            'POST', '%s/template/import' % art['self'],
            {'method': {'name': 'web-download', 'uri': uri},
             'stores': stores})
        self.assertEqual((202, b''), (status, body))

    def blob(self, art):
        return self.server.json('GET', art['self'])[1]['template']

    def test_a_template_from_a_url_in_two_stores_downloads_from_either(
            self):
        art = self.template()
        template = (b'heat_template_version: 2021-04-16\nresources: {}\n'
                    + b'#' * (6 * MiB))
        self.start_import(art, self.source.serve('t.yaml', template),
                          [self.first, 'fs2'])
        self.wait_for(lambda: self.blob(art)['status'] == 'active')
        blob = self.blob(art)
        self.assertEqual(('%s,fs2' % self.first, '', '', len(template),
                          'application/x-yaml'),
                         (blob['stores'],
                          blob['os_glance_importing_to_stores'],
                          blob['os_glance_failed_import'], blob['size'],
                          blob['content_type']))
        url = '%s/template' % art['self']
        self.assertEqual(template, self.server.request('GET', url)[2])
        # The first store loses the data: the download reads fs2.
        name = [n for n in self.data() if n.startswith('artifact-')][0]
        if self.server.bucket:
            s3.client().delete_object(Bucket=self.server.bucket, Key=name)
        else:
            os.unlink(os.path.join(self.root, 'store', name))
        status, _h, body = self.server.request('GET', url)
        self.assertEqual((200, hashlib.md5(template).hexdigest()),
                         (status, hashlib.md5(body).hexdigest()))
        self.assertIn('store %r' % self.first, self.log_excerpt())

    def test_an_import_killed_with_its_server_is_cleaned_up_after(self):
        art = self.template()
        self.assertEqual(204, self.server.request(
            'PUT', '%s/template' % art['self'], b'kept', OCTETS)[0])
        # The source sends its first bytes and then nothing.
        self.start_import(art, self.source.url('/stall'),
                          [self.first, 'fs2'])
        self.wait_for(lambda: self.source.requests == ['/stall'])
        self.assertEqual('importing', self.blob(art)['status'])
        self.server.stop(hard=True)
        self.restart(self.EXTRA)
        blob = self.blob(art)
        self.assertEqual(('active', 4, self.first), (
            blob['status'], blob['size'], blob['stores']))
        self.assertEqual(b'kept', self.server.request(
            'GET', '%s/template' % art['self'])[2])
        self.assertEqual([4], [size for name, size in self.data().items()])
        self.assertEqual([], os.listdir(os.path.join(self.root, 'fs2')))


class TestImportsOnFiles(ImportTests, StoreTest):
    STORE = 'file'


class TestImportsOnS3(ImportTests, StoreTest):
    STORE = 's3'


class TestS3(StoreTest):
    """What the S3 driver of glance_store does not do by itself."""

    STORE = 's3'

    def test_ranges_of_multipart_data_are_exact(self):
        art = self.create()
        data = os.urandom(12 * MiB + 7)
        self.assertEqual(204, self.put(art, data)[0])
        self.assertEqual(1, len(self.data()))
        for header, start, end in [
                ('bytes=0-0', 0, 0),
                ('bytes=5242879-5242881', 5 * MiB - 1, 5 * MiB + 1),
                ('bytes=12000000-', 12000000, len(data) - 1),
                ('bytes=-10', len(data) - 10, len(data) - 1),
                ('bytes=100-%d' % (10 ** 12), 100, len(data) - 1)]:
            status, hdrs, body = self.get(art, {'Range': header})
            self.assertEqual((206, 'bytes %d-%d/%d' % (start, end,
                                                       len(data))),
                             (status, hdrs['Content-Range']), header)
            self.assertEqual(data[start:end + 1], body, header)
        status, hdrs, _body = self.get(art, {'Range': 'bytes=%d-'
                                             % len(data)})
        self.assertEqual((416, 'bytes */%d' % len(data)),
                         (status, hdrs['Content-Range']))

    def test_failed_multipart_uploads_leave_no_object_and_no_part(self):
        art = self.create()
        self.assertEqual(204, self.put(art, b'old')[0])
        before = self.data()
        data = os.urandom(11 * MiB)
        status, body = self.put(art, data, {'Content-MD5': '0' * 32})
        self.assertEqual(400, status, body)
        self.assertIn(b'does not match the data received', body)
        status, body = self.put(art, data, {
            'x-openstack-artifact-os-hash-value': '0' * 128})
        self.assertEqual(400, status, body)
        # Above the type's size limit, with no size declared: heat
        # templates take 10 MiB.
        status, art2 = self.server.json('POST',
                                        '/v2/artifacts/heat_templates',
                                        {'name': 'big'})
        status, body = chunked_put(self.server.port,
                                   art2['self'] + '/template', 11 * MiB)
        self.assertEqual(413, status, body)
        self.assertEqual(before, self.data())
        self.assertEqual(b'old', self.get(art)[2])

    def test_replaced_and_deleted_data_leaves_the_bucket(self):
        art = self.create()
        self.assertEqual(204, self.put(art, os.urandom(6 * MiB))[0])
        first = set(self.data())
        self.assertEqual(204, self.put(art, b'small')[0])
        self.assertEqual(1, len(self.data()))
        self.assertFalse(first & set(self.data()))
        self.assertEqual(204, self.server.request('DELETE',
                                                  art['self'])[0])
        self.assertEqual({}, self.data())


class BrokenDataTests(object):
    """Data that a store gives short of the blob's size."""

    def test_data_ending_early_in_its_store_breaks_off_and_is_logged(self):
        art = self.create()
        data = os.urandom(300000)
        self.assertEqual(204, self.put(art, data)[0])
        [name] = self.data()
        self.leave(name, data[:100000])        # the store lost its end
        with testtools.ExpectedException(http.client.IncompleteRead):
            self.get(art)
        self.assertIn('ended 200000 bytes early in its store',
                      self.log_excerpt())
        # A range that the data still holds is whole.
        self.assertEqual((206, data[:10]), self.get(
            art, {'Range': 'bytes=0-9'})[::2])


class TestBrokenDataOnFiles(BrokenDataTests, StoreTest):
    STORE = 'file'


class TestBrokenDataOnS3(BrokenDataTests, StoreTest):
    STORE = 's3'


class MemoryTests(object):

    def test_upload_of_unknown_size_grows_the_server_by_under_64_mib(self):
        art = self.create()
        # A first upload loads what the store needs (boto3's S3 model...).
        self.assertEqual(204, chunked_put(
            self.server.port, '%s/%s' % (art['self'], self.FIELD),
            6 * MiB)[0])
        worker = psutil.Process(self.server.process.pid).children()[0]
        peak = start = worker.memory_info().rss
        result = []
        upload = threading.Thread(target=lambda: result.append(chunked_put(
            self.server.port, '%s/%s' % (art['self'], self.FIELD),
            200 * MiB)))
        upload.start()
        while upload.is_alive():
            peak = max(peak, worker.memory_info().rss)
            time.sleep(0.02)
        self.assertEqual(204, result[0][0], result[0][1])
        status, hdrs, _body = self.get(art, {'Range': 'bytes=0-0'})
        self.assertEqual('bytes 0-0/%d' % (200 * MiB), hdrs['Content-Range'])
        self.assertLess(peak - start, 64 * MiB)


class TestMemoryOnFiles(MemoryTests, StoreTest):
    STORE = 'file'


class TestMemoryOnS3(MemoryTests, StoreTest):
    STORE = 's3'
