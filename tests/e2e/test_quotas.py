"""Quotas through a real Keystone's unified limits: glance-api under
gunicorn in the keystone flavor with [artifacts] use_keystone_limits,
oslo.limit reading registered and project limits of the image service
with glance's service user (tests/keystone.py), real tokens.

Each test works in projects of its own and sets the registered limits it
needs (they are the Keystone's, shared by the tests of this process).
"""

import atexit
import concurrent.futures
import http.client
import http.server
import json
import os
import threading
import time

import requests
import testtools
from testtools import content

from tests import base
from tests import keystone
from tests.e2e import server as server_mod

MiB = 1024 * 1024
S = '/v2/artifacts/sample_artifacts'
DEFAULTS = {'artifact_count_total': 100, 'artifact_size_total': 100,
            'artifact_count_uploading': 10, 'artifact_stage_total': 50}
_servers = {}


def _server(name, extra='', database=None, hostname=None, workers=2):
    """A glance-api in the keystone flavor with quotas on, one per name
    in this process."""
    if name not in _servers:
        root, cleanup = base.make_tempdir('ga-e2e-quotas-')
        atexit.register(cleanup)
        server = server_mod.Server(
            root, flavor='keystone', mode='sqlalchemy', store='file',
            database=database, hostname=hostname, workers=workers,
            extra=keystone.get().glance_options() +
            '\n[artifacts]\nuse_keystone_limits = true\n' + extra)
        if database is None:
            server.sync()
        server.start()
        atexit.register(server.stop)
        _servers[name] = server
    return _servers[name]


def _lines(path, words, last=40):
    """The last lines of the file ``path`` that hold one of ``words``."""
    try:
        with open(path, errors='replace') as f:
            found = [line for line in f if any(w in line for w in words)]
    except FileNotFoundError:
        return '(no %s)\n' % path
    return ''.join(found[-last:])


class QuotaTest(testtools.TestCase):

    def setUp(self):
        super(QuotaTest, self).setUp()
        try:
            self.keystone = keystone.get()
        except keystone.Unavailable as e:
            base.unavailable(e)
        self.keystone.delete_limits()
        for resource, value in DEFAULTS.items():
            self.keystone.set_registered_limit(resource, value)
        self.server = _server('main')
        self.addOnException(self.attach_logs)
        self.project = self.keystone.new_project()

    def attach_logs(self, exc_info):
        """On a failure, what glance-api logged of errors and warnings,
        and what Keystone answered with an error status."""
        self.addDetail('glance-api errors', content.text_content(
            _lines(os.path.join(self.server.root, 'glance-api.log'),
                   (' ERROR ', ' WARNING '))))
        self.addDetail('keystone errors', content.text_content(
            _lines(os.path.join(self.keystone.root, 'access.log'),
                   ('" 4', '" 5')) +
            _lines(os.path.join(self.keystone.root, 'keystone.log'),
                   (' ERROR ',))))

    def call(self, method, path, body=None, project=None, headers=None,
             server=None):
        headers = dict(headers or {})
        headers['X-Auth-Token'] = (project or self.project)['token']
        if isinstance(body, bytes):
            headers.setdefault('Content-Type', 'application/octet-stream')
        status, _h, data = (server or self.server).request(
            method, path, body, headers)
        return status, (json.loads(data) if data and data[:1] in b'{[' else
                        data)

    def create(self, name, project=None, status=201):
        code, body = self.call('POST', S, {'name': name}, project)
        self.assertEqual(status, code, body)
        return body

    def upload(self, art, key, data, status=204, project=None):
        code, body = self.call('PUT', '%s/%s/blob_dict/%s' % (S, art['id'],
                                                              key),
                               data, project)
        self.assertEqual(status, code, body)
        return body

    def usage(self, project=None):
        code, body = self.call('GET', '/v2/artifacts/usage',
                               project=project)
        self.assertEqual(200, code, body)
        return body['usage']


class TestLimits(QuotaTest):

    def test_registered_limit_caps_the_artifacts_of_each_project(self):
        self.keystone.set_registered_limit('artifact_count_total', 2)
        self.create('one')
        self.create('two')
        body = self.create('three', status=413)
        self.assertIn('Over quota: project %s has 2 artifacts; its '
                      'artifact_count_total limit is 2.'
                      % self.project['project_id'], body['message'])
        other = self.keystone.new_project()
        self.create('one', project=other)
        self.assertEqual({'usage': 2, 'limit': 2},
                         self.usage()['artifact_count_total'])

    def test_project_limit_overrides_the_registered_limit(self):
        self.keystone.set_registered_limit('artifact_count_total', 1)
        self.keystone.set_project_limit(self.project['project_id'],
                                        'artifact_count_total', 3)
        for name in ('a', 'b', 'c'):
            self.create(name)
        self.create('d', status=413)
        other = self.keystone.new_project()
        self.create('a', project=other)
        self.create('b', project=other, status=413)

    def test_deleting_an_artifact_frees_its_place(self):
        self.keystone.set_registered_limit('artifact_count_total', 1)
        art = self.create('first')
        self.create('second', status=413)
        self.assertEqual(204, self.call('DELETE', art['self'])[0])
        self.create('second')

    def test_size_total_counts_exact_bytes(self):
        self.keystone.set_registered_limit('artifact_size_total', 1)
        art = self.create('sized')
        self.upload(art, 'most', b'x' * (MiB - 10))
        body = self.upload(art, 'too-much', b'y' * 11, status=413)
        self.assertIn('Over quota: project %s holds %d bytes of blob data '
                      '(uploads in progress included); 11 bytes more would '
                      'pass its artifact_size_total limit of 1 MiB '
                      '(1048576 bytes).'
                      % (self.project['project_id'], MiB - 10),
                      body['message'])
        self.upload(art, 'rest', b'z' * 10)
        self.assertEqual({'usage': 1, 'usage_bytes': MiB, 'limit': 1},
                         self.usage()['artifact_size_total'])
        code, shown = self.call('GET', art['self'])
        self.assertEqual(['most', 'rest'], sorted(shown['blob_dict']))

    def test_chunked_upload_past_the_size_limit_is_413_and_keeps_nothing(
            self):
        self.keystone.set_registered_limit('artifact_size_total', 1)
        art = self.create('chunked')
        self.upload(art, 'half', b'h' * (MiB // 2))
        conn = http.client.HTTPConnection('127.0.0.1', self.server.port,
                                          timeout=60)
        conn.putrequest('PUT', '%s/%s/blob_dict/over' % (S, art['id']))
        conn.putheader('X-Auth-Token', self.project['token'])
        conn.putheader('Content-Type', 'application/octet-stream')
        conn.putheader('Transfer-Encoding', 'chunked')
        conn.putheader('Accept', 'application/json')
        conn.endheaders()
        try:
            for _ in range(4):
                piece = b'c' * (MiB // 4)
                conn.send(b'%x\r\n%s\r\n' % (len(piece), piece))
            conn.send(b'0\r\n\r\n')
        except OSError:
            pass        # the server may answer before the end
        resp = conn.getresponse()
        body = json.loads(resp.read())
        conn.close()
        self.assertEqual(413, resp.status, body)
        self.assertIn('artifact_size_total limit of 1 MiB', body['message'])
        self.assertEqual({'usage': 0.5, 'usage_bytes': MiB // 2,
                          'limit': 1}, self.usage()['artifact_size_total'])
        self.assertEqual({'usage': 0, 'limit': 10},
                         self.usage()['artifact_count_uploading'])
        code, shown = self.call('GET', art['self'])
        self.assertEqual(['half'], sorted(shown['blob_dict']))

    def test_staged_data_is_limited_by_artifact_stage_total(self):
        self.keystone.set_project_limit(self.project['project_id'],
                                        'artifact_stage_total', 1)
        art = self.create('staged')
        url = '%s/%s/blob_dict/' % (S, art['id'])
        code, body = self.call('PUT', url + 'a/stage', b's' * (MiB // 2))
        self.assertEqual(204, code, body)
        code, body = self.call('PUT', url + 'b/stage', b's' * (MiB // 2 + 1))
        self.assertEqual(413, code, body)
        self.assertIn('Over quota: project %s holds 524288 bytes of staged '
                      'data; 524289 bytes more would pass its '
                      'artifact_stage_total limit of 1 MiB (1048576 bytes).'
                      % self.project['project_id'], body['message'])
        usage = self.usage()
        self.assertEqual(
            (MiB // 2, 0.5, 1, 0),
            (usage['artifact_stage_total']['usage_bytes'],
             usage['artifact_stage_total']['usage'],
             usage['artifact_stage_total']['limit'],
             usage['artifact_size_total']['usage_bytes']))
        self.assertEqual(['a'], sorted(self.call(
            'GET', '%s/%s' % (S, art['id']))[1]['blob_dict']))

    def test_uploads_in_progress_are_limited(self):
        self.keystone.set_registered_limit('artifact_count_uploading', 1)
        first, second = self.create('first'), self.create('second')
        slow = _SlowUpload(self.server, self.project['token'], first, 'k',
                           b'1' * 1000)
        slow.start(500)
        base.wait_for(lambda: self.usage()['artifact_count_uploading']
                      ['usage'] == 1)
        body = self.upload(second, 'k', b'2', status=413)
        self.assertIn('has 1 uploads in progress; its '
                      'artifact_count_uploading limit is 1.',
                      body['message'])
        self.assertEqual(204, slow.finish()[0])
        self.upload(second, 'k', b'2')

    def test_usage_shows_every_limit_from_keystone(self):
        self.keystone.set_project_limit(self.project['project_id'],
                                        'artifact_size_total', 7)
        self.create('u')
        expected = {
            'artifact_count_total': {'usage': 1, 'limit': 100},
            'artifact_size_total': {'usage': 0, 'usage_bytes': 0,
                                    'limit': 7},
            'artifact_count_uploading': {'usage': 0, 'limit': 10},
            'artifact_stage_total': {'usage': 0, 'usage_bytes': 0,
                                     'limit': 50}}
        self.assertEqual(expected, self.usage())

    def test_an_unregistered_limit_counts_as_zero(self):
        self.keystone.delete_limits()
        body = self.create('none', status=413)
        self.assertIn('its artifact_count_total limit is 0.',
                      body['message'])


class _SlowUpload(object):
    """An upload with a declared size that sends its body in two parts."""

    def __init__(self, server, token, art, key, data):
        self.conn = http.client.HTTPConnection('127.0.0.1', server.port,
                                               timeout=60)
        self.path = '%s/%s/blob_dict/%s' % (S, art['id'], key)
        self.token = token
        self.data = data

    def start(self, first):
        self.rest = self.data[first:]
        self.conn.putrequest('PUT', self.path)
        self.conn.putheader('X-Auth-Token', self.token)
        self.conn.putheader('Content-Type', 'application/octet-stream')
        self.conn.putheader('Content-Length', str(len(self.data)))
        self.conn.endheaders()
        self.conn.send(self.data[:first])

    def finish(self):
        try:
            self.conn.send(self.rest)
        except OSError:
            pass        # answered early (413): the answer tells
        resp = self.conn.getresponse()
        body = resp.read()
        self.conn.close()
        return resp.status, body


class TestTwoHosts(QuotaTest):

    def test_concurrent_uploads_on_two_hosts_cannot_pass_the_size_limit(
            self):
        self.keystone.set_registered_limit('artifact_size_total', 2)
        other = _server('second', database=self.server.artifacts_database,
                        hostname='quota-host-b')
        arts = [self.create('c%d' % i) for i in range(6)]
        uploads = [_SlowUpload(self.server if i % 2 else other,
                               self.project['token'], art, 'k',
                               b'%d' % i * (MiB // 2))
                   for i, art in enumerate(arts)]
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            list(pool.map(lambda u: u.start(1000), uploads))
            # Those that fit have begun, and the others were refused,
            # before any ends.
            base.wait_for(lambda: self.usage()['artifact_count_uploading']
                          ['usage'] >= 4)
            time.sleep(0.5)
            results = list(pool.map(lambda u: u.finish(), uploads))
        statuses = sorted(status for status, _body in results)
        self.assertEqual([204] * 4 + [413] * 2, statuses, results)
        self.assertEqual({'usage': 2, 'usage_bytes': 2 * MiB, 'limit': 2},
                         self.usage()['artifact_size_total'])


class TestKeystoneUnreachable(testtools.TestCase):

    def test_limits_that_cannot_be_read_are_503_and_create_nothing(self):
        try:
            ks = keystone.get()
        except keystone.Unavailable as e:
            base.unavailable(e)
        root, cleanup = base.make_tempdir('ga-e2e-quotas-down-')
        self.addCleanup(cleanup)
        dead = 'http://127.0.0.1:%d/v3' % server_mod.free_port()
        server = server_mod.Server(
            root, flavor='keystone', mode='sqlalchemy', store='file',
            extra=ks.glance_options() +
            '\n[artifacts]\nuse_keystone_limits = true\n'
            '[oslo_limit]\nauth_url = %s\n' % dead)
        server.sync()
        server.start()
        self.addCleanup(server.stop)
        project = ks.new_project()
        status, _h, body = server.request('POST', S, {'name': 'x'},
                                          {'X-Auth-Token': project['token']})
        self.assertEqual(503, status, body)
        self.assertIn(b'The quota limits cannot be read from Keystone now',
                      body)
        status, _h, body = server.request('GET', S, None,
                                          {'X-Auth-Token': project['token']})
        self.assertEqual([], json.loads(body)['artifacts'])


class _DroppingProxy(http.server.ThreadingHTTPServer):
    """An HTTP proxy to Keystone on 127.0.0.1 that closes the connection
    of the next ``drop`` requests without an answer (as a server does
    when it closes a kept-alive connection that a client reuses), and
    passes the others on; ``dropped`` counts what it closed."""

    daemon_threads = True

    def __init__(self, upstream):
        self.upstream = upstream.rstrip('/')
        self.drop = self.dropped = 0
        self.lock = threading.Lock()
        super(_DroppingProxy, self).__init__(('127.0.0.1', 0), _Forward)
        self.url = 'http://127.0.0.1:%d' % self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def take_drop(self):
        with self.lock:
            if self.drop:
                self.drop -= 1
                self.dropped += 1
                return True
        return False


class _Forward(http.server.BaseHTTPRequestHandler):

    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def forward(self):
        proxy = self.server
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else None
        if proxy.take_drop():
            self.close_connection = True
            return
        upstream = proxy.upstream.rsplit('/v3', 1)[0]
        resp = requests.request(
            self.command, upstream + self.path, data=body, timeout=60,
            allow_redirects=False,
            headers={k: v for k, v in self.headers.items()
                     if k.lower() not in ('host', 'content-length',
                                          'connection')})
        # Links in Keystone's answers lead back through the proxy.
        data = resp.content.replace(upstream.encode(),
                                    proxy.url.encode())
        self.send_response(resp.status_code)
        for name, value in resp.headers.items():
            if name.lower() not in ('content-length', 'content-encoding',
                                    'transfer-encoding', 'connection'):
                self.send_header(name, value)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_HEAD = forward


class TestKeystoneHiccups(QuotaTest):

    def test_limits_are_read_again_when_keystone_drops_a_connection(self):
        from glance.artifacts import quota
        proxy = _DroppingProxy(self.keystone.url)
        self.addCleanup(proxy.shutdown)
        # One worker, whose oslo.limit session the first write makes.
        self.server = _server(
            'hiccups', workers=1, extra='[oslo_limit]\nauth_url = %s/v3\n'
            'endpoint_override = %s/v3\n' % (proxy.url, proxy.url))
        self.create('first')
        proxy.drop = quota.ATTEMPTS - 1
        self.create('second')
        self.assertEqual(quota.ATTEMPTS - 1, proxy.dropped)
        log = _lines(os.path.join(self.server.root, 'glance-api.log'),
                     ('Reading the limits of project',))
        for attempt in range(1, quota.ATTEMPTS):
            self.assertIn('Reading the limits of project %s from Keystone '
                          'failed (try %d of %d; trying again): '
                          'ConnectFailure' % (self.project['project_id'],
                                              attempt, quota.ATTEMPTS), log)
        proxy.drop = quota.ATTEMPTS
        body = self.create('third', status=503)
        self.assertIn('The quota limits cannot be read from Keystone now',
                      body['message'])
        self.assertEqual(2 * quota.ATTEMPTS - 1, proxy.dropped)
        code, listed = self.call('GET', S)
        self.assertEqual(['first', 'second'],
                         sorted(a['name'] for a in listed['artifacts']))
