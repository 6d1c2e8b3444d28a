"""The HTTP edge against a real glance-api under gunicorn, over raw
sockets: request lines that are not UTF-8, and connections whose request
body was refused before it was read."""

import http.client
import os
import shutil
import socket
import sys
import time

from tests import base
from tests.e2e import server as server_mod
from tests.e2e import test_server

MiB = 1024 * 1024
S = '/v2/artifacts/sample_artifacts'
OCTETS = b'Content-Type: application/octet-stream\r\n'
# Ten times the second (edge.LINGER) that the server gives a client to
# read a refusal before it ends the connection, and short of what six
# refused connections took before: gunicorn closed them one after the
# other, 2 s each (after reading for up to 5 s), accepting nothing
# meanwhile.
PROMPTLY = 10


class ConnectionEnded(AssertionError):
    pass


def read_answer(sock):
    """(status, headers with lower-case names, body) of one response,
    read by its Content-Length and no further."""
    data = b''
    while b'\r\n\r\n' not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionEnded('the connection ended before an '
                                  'answer: %r' % data)
        data += chunk
    head, _sep, body = data.partition(b'\r\n\r\n')
    lines = head.decode('latin-1').split('\r\n')
    headers = dict((k.strip().lower(), v.strip()) for k, _s, v in
                   (line.partition(':') for line in lines[1:]))
    while len(body) < int(headers.get('content-length', 0)):
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split(' ')[1]), headers, body


def exchange(port, request, timeout=30):
    """Send a raw request on a connection of its own, read the answer and
    close."""
    with socket.create_connection(('127.0.0.1', port),
                                  timeout=timeout) as s:
        s.sendall(request)
        return read_answer(s)


class TestNotUTF8(test_server.ServerTest):
    """The filter artifacts-utf8 in the pipeline of glance-api."""

    def setUp(self):
        super(TestNotUTF8, self).setUp()
        status, self.art = self.server.json('POST', S, {'name': 'edge'})
        self.assertEqual(201, status)
        self.addCleanup(self.server.request, 'DELETE', self.art['self'])
        self.url = self.art['self'].encode()

    def get(self, target, method=b'GET', accept=b'application/json'):
        return exchange(self.server.port, b'%s %s HTTP/1.1\r\nHost: x\r\n'
                        b'Accept: %s\r\nContent-Length: 0\r\n\r\n'
                        % (method, target, accept))

    def assertRefused(self, message, answer, target):
        status, headers, body = answer
        self.assertEqual(400, status, (target, body))
        self.assertTrue(headers['content-type'].startswith(
            'application/json'), target)
        self.assertIn(b'"message": "%s' % message.encode(), body, target)

    def test_paths_under_artifacts_that_are_not_utf8_are_400(self):
        for target in (b'/v2/artifacts/%ff', S.encode() + b'/%FF',
                       self.url + b'%ff', self.url + b'/tags/a%ff',
                       self.url + b'/blob_dict/%ffa',
                       S.encode() + b'/%c0%af',        # overlong '/'
                       S.encode() + b'/%ed%a0%80',     # a surrogate
                       S.encode() + b'/%e2%82',        # cut short
                       b'/v2.1/artifacts/sample_artifacts/%ff'):
            for method in (b'GET', b'PUT', b'DELETE'):
                self.assertRefused('The path is not valid UTF-8.',
                                   self.get(target, method), target)
        shown = self.server.json('GET', self.art['self'])[1]
        self.assertEqual(([], {}), (shown['tags'], shown['blob_dict']))

    def test_query_strings_that_are_not_utf8_are_400(self):
        for target in (S.encode() + b'?name=%ff', S.encode() + b'?%ff=a',
                       S.encode() + b'?name=%c0%af',
                       S.encode() + b'?tags=%ed%a0%80',
                       self.url + b'?x=%ff', b'/v2/artifacts?%ff'):
            self.assertRefused('The query string is not valid UTF-8.',
                               self.get(target), target)

    def test_the_refusal_is_a_400_of_the_router_with_its_message(self):
        for accept in (b'application/json', b'text/html'):
            status, headers, router = self.get(S.encode() + b'/%0a',
                                               accept=accept)
            status, edge_headers, edge = self.get(S.encode() + b'/%ff',
                                                  accept=accept)
            self.assertEqual(400, status)
            self.assertEqual(headers['content-type'],
                             edge_headers['content-type'])
            self.assertEqual(router.replace(
                b'The path contains control characters.',
                b'The path is not valid UTF-8.'), edge)

    def test_a_raw_byte_that_is_not_ascii_in_the_request_line_is_400(self):
        # gunicorn refuses such request lines itself.
        for target in (S.encode() + b'/\xff', S.encode() + b'?name=\xff'):
            self.assertEqual(400, self.get(target)[0], target)

    def test_non_utf8_requests_elsewhere_are_answered_as_by_stock_glance(
            self):
        # /v2/images and every other path that is not of artifacts: what
        # glance-api answers with our paste file, it answers with Glance's.
        root, cleanup = base.make_tempdir('ga-e2e-stock-')
        self.addCleanup(cleanup)
        stock = server_mod.make_server(self, root, workers=1)
        # The paste file that the Glance distribution installs.
        shutil.copy(os.path.join(sys.prefix, 'etc', 'glance',
                                 'glance-api-paste.ini'),
                    os.path.join(stock.confdir, 'glance-api-paste.ini'))
        stock.sync()
        stock.start()
        self.addCleanup(stock.stop)

        def answer(server, target):
            try:
                status, _headers, body = exchange(
                    server.port, b'GET %s HTTP/1.1\r\nHost: x\r\nAccept: '
                    b'application/json\r\nConnection: close\r\n\r\n'
                    % target)
            except ConnectionEnded:
                # uWSGI answers nothing when the application fails.
                return 'no answer', b''
            return status, body

        for target in (b'/v2/images/%ff', b'/v2/images/%c0%af',
                       b'/v2/images?name=%ff', b'/v2/images/\xff',
                       b'/v2/images', b'/v2/artifacts%ff', b'/%ff',
                       b'/versions%ff', b'/v2/schemas/image%ed%a0%80'):
            self.assertEqual(answer(stock, target),
                             answer(self.server, target), target)


# A chunked body that gunicorn and uWSGI refuse alike (uWSGI reads a chunk
# size of 'zz' as 0, the last chunk: tests/e2e/test_blobs.py).
MALFORMED = b'3;\x00\r\nabc\r\n'


def chunked_put(path, body):
    return (b'PUT %s HTTP/1.1\r\nHost: x\r\n%sTransfer-Encoding: chunked'
            b'\r\n\r\n%s' % (path.encode(), OCTETS, body))


def sized_put(path, length, body, content_type=OCTETS):
    return (b'PUT %s HTTP/1.1\r\nHost: x\r\n%sContent-Length: %d\r\n\r\n%s'
            % (path.encode(), content_type, length, body))


class RefusalTest(test_server.ServerTest):
    """glance-api with one worker of four threads."""

    options = {'workers': 1, 'threads': 4,
               'extra': '\n[artifacts]\nupload_idle_timeout = 30\n'
                        'upload_heartbeat_interval = 1\n'}

    def setUp(self):
        super(RefusalTest, self).setUp()
        status, self.art = self.server.json('POST', S, {'name': 'refused'})
        self.assertEqual(201, status)
        self.addCleanup(self.server.request, 'DELETE', self.art['self'])

    def connect(self, request, timeout=30):
        """A new connection that has sent ``request``; it stays open until
        the test ends."""
        sock = socket.create_connection(('127.0.0.1', self.server.port),
                                        timeout=timeout)
        self.addCleanup(sock.close)
        sock.sendall(request)
        return sock

    def refuse(self, request):
        """Send ``request`` on a new connection and read its answer,
        leaving the connection open: (socket, status, body)."""
        sock = self.connect(request)
        status, _headers, body = read_answer(sock)
        return sock, status, body

    def assertEndsUnasked(self, sock, what, deadline=None):
        """The server ends the connection before the client sends anything
        more, by ``deadline`` (time.monotonic()) or within PROMPTLY
        seconds."""
        if deadline is None:
            deadline = time.monotonic() + PROMPTLY
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            rest = sock.recv(65536)
        except socket.timeout:
            self.fail('%s: the connection is still open' % what)
        self.assertEqual(b'', rest, what)

    def assertRefusalsHoldNothing(self, refusals):
        """Send each (request, status) of ``refusals`` on a connection of
        its own, all at once, read the answers and leave the connections
        open: each connection ends, and another client is served, within
        PROMPTLY seconds of the answers."""
        socks = [self.connect(request) for request, _status in refusals]
        for sock, (_request, expected) in zip(socks, refusals):
            status, _headers, body = read_answer(sock)
            self.assertEqual(expected, status, body)
        answered = time.monotonic()
        status, _h, _b = self.server.request('GET', '/v2/artifacts',
                                             timeout=PROMPTLY)
        self.assertEqual(200, status)
        self.assertLess(time.monotonic() - answered, PROMPTLY)
        for i, sock in enumerate(socks):
            self.assertEndsUnasked(sock, 'refusal %d' % i,
                                   answered + PROMPTLY)


class TestRefusedBodies(RefusalTest):

    def test_refused_uploads_left_open_keep_no_one_waiting(self):
        # Six refused uploads whose clients keep their connections open,
        # on a server of four threads: three malformed chunked bodies, and
        # three that declare 1 GiB, more than the field takes, and send 10
        # bytes.
        blob = self.art['self'] + '/blob_dict/k%d'
        refusals = []
        for i in range(3):
            refusals.append((chunked_put(blob % i, MALFORMED), 400))
            refusals.append((sized_put(blob % (i + 3), 1 << 30,
                                       b'0123456789'), 413))
        self.assertRefusalsHoldNothing(refusals)
        self.assertEqual({}, self.server.json(
            'GET', self.art['self'])[1]['blob_dict'])

    def test_each_answer_before_the_body_is_read_ends_the_connection(self):
        blob = self.art['self'] + '/blob1'
        for what, request, status, says in (
                ('malformed chunk', chunked_put(blob, MALFORMED),
                 400, b'could not be read'),
                ('declared size over the limit',
                 sized_put(blob, 1 << 30, b'0123456789'), 413,
                 b'larger than the limit'),
                ('streamed size over the limit',
                 chunked_put(blob, b'%x\r\n%s\r\n0\r\n\r\n'
                             % (2 * MiB, b'a' * 2 * MiB)),
                 413, b'larger than the limit'),
                ('unknown type', sized_put('/v2/artifacts/nothing/x/blob1',
                                           1 << 30, b'0123'), 404,
                 b'Unknown artifact type'),
                ('media type', sized_put(blob, 1 << 30, b'{}', b''), 415,
                 b'application/octet-stream'),
                ('path not UTF-8', sized_put(blob + '%ff', 1 << 30, b'ab'),
                 400, b'The path is not valid UTF-8.'),
                ('JSON body over its limit',
                 b'POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/'
                 b'json\r\nContent-Length: %d\r\n\r\n{"name": "'
                 % (S.encode(), 2 * MiB), 413, b'at most')):
            sock, got, body = self.refuse(request)
            self.assertEqual(status, got, (what, body))
            self.assertIn(says, body, what)
            self.assertEndsUnasked(sock, what)
        self.assertIsNone(self.server.json('GET',
                                           self.art['self'])[1]['blob1'])

    def test_a_refusal_does_not_wait_for_a_read_of_the_body(self):
        # The artifact is deleted while its upload runs; the upload's
        # next heartbeat finds it gone, while the client, which has sent
        # more, stops sending: the 409 comes at once, not after the
        # upload_idle_timeout (30 s) that the read of the body waits.
        status, art = self.server.json(
            'POST', '/v2/artifacts/heat_templates', {'name': 'deleted'})
        blob = art['self'] + '/template'
        # The body is received a MiB at a time.
        piece = b'%x\r\n%s\r\n' % (MiB, b'a' * MiB)
        sock = socket.create_connection(('127.0.0.1', self.server.port),
                                        timeout=PROMPTLY)
        self.addCleanup(sock.close)
        sock.sendall(chunked_put(blob, piece))
        base.wait_for(lambda: (self.server.json('GET', art['self'])[1][
            'template'] or {}).get('status') == 'saving')
        self.assertEqual(204, self.server.request('DELETE',
                                                  art['self'])[0])
        time.sleep(1.5)                   # past the heartbeat interval
        sock.sendall(piece * 2)
        status, _headers, body = read_answer(sock)
        self.assertEqual(409, status, body)
        self.assertIn(b'cancelled', body)
        self.assertEndsUnasked(sock, 'cancelled upload')

    def test_requests_whose_body_was_read_keep_their_connection(self):
        conn = http.client.HTTPConnection('127.0.0.1', self.server.port,
                                          timeout=30)
        self.addCleanup(conn.close)
        answers = []
        for method, path, body, content_type in (
                ('PUT', self.art['self'] + '/blob1', b'data',
                 'application/octet-stream'),
                ('POST', S, b'{"name": 5}', 'application/json'),
                ('PUT', self.art['self'] + '/tags/t', None, None),
                ('GET', self.art['self'] + '/blob1', None, None)):
            headers = {'Accept': 'application/json'}
            if content_type:
                headers['Content-Type'] = content_type
            conn.request(method, path, body, headers)
            if not answers:
                sock = conn.sock
            resp = conn.getresponse()
            answers.append((resp.status, resp.read()))
            self.assertIs(sock, conn.sock, method + ' ' + path)
        self.assertEqual([204, 400, 204, 200],
                         [status for status, _body in answers])
        self.assertEqual(b'data', answers[-1][1])


class TestIdleUpload(RefusalTest):

    options = {'workers': 1, 'threads': 4, 'read_timeout': 2,
               'extra': '\n[artifacts]\nupload_idle_timeout = 2\n'}

    def test_uploads_that_stop_sending_get_408_and_hold_nothing(self):
        # As many as the server has threads.
        blob = self.art['self'] + '/blob_dict/k%d'
        self.assertRefusalsHoldNothing([
            (sized_put(blob % 0, 100000, b'a' * 256), 408),
            (chunked_put(blob % 1, b'100\r\n' + b'a' * 256), 408),
            (sized_put(blob % 2, 100000, b'a' * 256), 408),
            (chunked_put(blob % 3, b'100\r\n' + b'a' * 256), 408)])
