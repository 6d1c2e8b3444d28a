"""Blob uploads against a real server: killed servers, clients that go
away, competing uploads."""

import hashlib
import http.client
import os
import socket
import threading
import time

import testtools

from tests import base
from tests.e2e import server as server_mod

MiB = 1024 * 1024


class SlowUpload(threading.Thread):
    """PUT ``total`` bytes, 64 KiB at a time, pausing between chunks until
    ``release`` is set; ``result`` is the status (or the error)."""

    def __init__(self, server, path, total, release=None, chunked=False):
        super(SlowUpload, self).__init__(daemon=True)
        self.server, self.path, self.total = server, path, total
        self.release = release or threading.Event()
        self.chunked = chunked
        self.result = None
        self.sent = 0

    def run(self):
        conn = http.client.HTTPConnection('127.0.0.1', self.server.port,
                                          timeout=120)
        try:
            conn.putrequest('PUT', self.path)
            conn.putheader('Content-Type', 'application/octet-stream')
            if self.chunked:
                conn.putheader('Transfer-Encoding', 'chunked')
            else:
                conn.putheader('Content-Length', str(self.total))
            conn.endheaders()
            chunk = b'z' * 65536
            while self.sent < self.total:
                piece = chunk[:self.total - self.sent]
                if self.chunked:
                    conn.send(b'%x\r\n%s\r\n' % (len(piece), piece))
                else:
                    conn.send(piece)
                self.sent += len(piece)
                if not self.release.is_set():
                    time.sleep(0.05)
            if self.chunked:
                conn.send(b'0\r\n\r\n')
            self.result = conn.getresponse().status
        except OSError as e:
            self.result = e
        finally:
            conn.close()


class BlobServerTest(testtools.TestCase):

    def setUp(self):
        super(BlobServerTest, self).setUp()
        self.root, cleanup = base.make_tempdir('ga-e2e-blobs-')
        self.addCleanup(cleanup)
        self.server = server_mod.make_server(self, self.root, workers=1)
        self.server.sync(glance_tables=False)
        self.server.start()
        self.addCleanup(self.server.stop)
        status, art = self.server.json('POST', '/v2/artifacts/heat_templates',
                                       {'name': 'stack'})
        self.assertEqual(201, status)
        self.art = art

    def store_files(self):
        path = os.path.join(self.root, 'store')
        return sorted(os.listdir(path))

    def blob(self):
        return self.server.json('GET', self.art['self'])[1]['template']

    def wait_for(self, predicate, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate():
                return
            time.sleep(0.1)
        self.fail('condition not met in %ss' % timeout)

    def put(self, data):
        return self.server.request(
            'PUT', self.art['self'] + '/template', data,
            {'Content-Type': 'application/octet-stream'})[0]


class TestKilledServer(BlobServerTest):

    def test_sigkill_mid_upload_leaves_no_blob_and_no_data(self):
        upload = SlowUpload(self.server, self.art['self'] + '/template',
                            8 * MiB)
        upload.start()
        self.wait_for(lambda: (self.blob() or {}).get('status') == 'saving'
                      and self.store_files())
        self.wait_for(lambda: upload.sent > MiB)
        self.server.stop(hard=True)       # SIGKILL to master and worker
        upload.join(30)
        self.assertIsInstance(upload.result, OSError)
        self.assertEqual(1, len(self.store_files()))   # the partial data

        self.server.start()
        self.assertIsNone(self.blob())
        self.assertEqual([], self.store_files())
        data = os.urandom(3 * MiB)
        self.assertEqual(204, self.put(data))
        blob = self.blob()
        self.assertEqual(('active', 3 * MiB,
                          hashlib.md5(data).hexdigest()),
                         (blob['status'], blob['size'], blob['checksum']))
        self.assertEqual(data, self.server.request(
            'GET', self.art['self'] + '/template')[2])
        self.assertEqual(1, len(self.store_files()))


class TestClients(BlobServerTest):

    def test_client_that_disconnects_mid_upload_leaves_nothing(self):
        with socket.create_connection(('127.0.0.1', self.server.port)) as s:
            s.sendall(b'PUT %s/template HTTP/1.1\r\nHost: x\r\n'
                      b'Content-Type: application/octet-stream\r\n'
                      b'Content-Length: %d\r\n\r\n'
                      % (self.art['self'].encode(), 10 * MiB))
            s.sendall(b'q' * MiB)
            self.wait_for(lambda: self.store_files())
        self.wait_for(lambda: not self.store_files())
        self.wait_for(lambda: self.blob() is None)
        self.assertEqual(204, self.put(b'after'))

    def test_chunked_client_that_disconnects_leaves_nothing(self):
        with socket.create_connection(('127.0.0.1', self.server.port)) as s:
            s.sendall(b'PUT %s/template HTTP/1.1\r\nHost: x\r\n'
                      b'Content-Type: application/octet-stream\r\n'
                      b'Transfer-Encoding: chunked\r\n\r\n'
                      % self.art['self'].encode())
            s.sendall(b'100000\r\n' + b'q' * MiB + b'\r\n')
            self.wait_for(lambda: self.store_files())
        self.wait_for(lambda: not self.store_files())
        self.wait_for(lambda: self.blob() is None)

    def test_second_upload_while_one_runs_is_409(self):
        first = SlowUpload(self.server, self.art['self'] + '/template',
                           2 * MiB)
        first.start()
        self.wait_for(lambda: (self.blob() or {}).get('status') == 'saving')
        self.assertEqual(409, self.put(b'second'))
        first.release.set()
        first.join(60)
        self.assertEqual(204, first.result)
        self.assertEqual(2 * MiB, self.blob()['size'])

    def test_deleting_the_artifact_during_an_upload_keeps_no_data(self):
        upload = SlowUpload(self.server, self.art['self'] + '/template',
                            2 * MiB, chunked=True)
        upload.start()
        self.wait_for(lambda: (self.blob() or {}).get('status') == 'saving')
        self.assertEqual(204, self.server.request('DELETE',
                                                  self.art['self'])[0])
        upload.release.set()
        upload.join(60)
        self.assertIn(upload.result, (404, 409))
        self.assertEqual([], self.store_files())
