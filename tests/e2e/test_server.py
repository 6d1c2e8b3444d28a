"""glance-api with artifacts as a real server process."""

import concurrent.futures
import io
import os
import socket
import subprocess
import sys
import time


import testtools

from tests import base
from tests import databases
from tests.e2e import server as server_mod


class ServerTest(testtools.TestCase):
    """One server for the test class (no auth, all types; more
    Server arguments in ``options``)."""

    server = None
    options = {}

    @classmethod
    def setUpClass(cls):
        super(ServerTest, cls).setUpClass()
        cls.root, cls.cleanup = base.make_tempdir('ga-e2e-')
        try:
            cls.server = server_mod.Server(cls.root, **cls.options)
        except databases.Unavailable as e:
            cls.cleanup()
            base.unavailable(e)
        cls.server.sync()
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.cleanup()
        super(ServerTest, cls).tearDownClass()


class TestOneEndpoint(ServerTest):

    def test_images_and_artifacts_answer_on_the_same_endpoint(self):
        status, body = self.server.json('GET', '/v2/artifacts')
        self.assertEqual(200, status)
        self.assertIn('heat_templates',
                      [t['name'] for t in body['artifact_types']])
        status, body = self.server.json('GET', '/v2/images')
        self.assertEqual(200, status)
        self.assertIn('images', body)
        status, body = self.server.json('GET', '/versions')
        self.assertEqual(200, status)

    def test_glanceclient_images_and_raw_artifact_requests(self):
        from glanceclient import client as glanceclient
        glance = glanceclient.Client('2', endpoint=self.server.url,
                                     token='unused-without-auth')
        image = glance.images.create(name='cirros', disk_format='raw',
                                     container_format='bare')
        data = os.urandom(4096)
        glance.images.upload(image.id, io.BytesIO(data))
        self.assertEqual(data, b''.join(glance.images.data(image.id)))
        self.assertIn(image.id, [i.id for i in glance.images.list()])

        status, art = self.server.json(
            'POST', '/v2/artifacts/heat_templates',
            {'name': 'stack', 'version': '1.0.0', 'tags': ['web']})
        self.assertEqual(201, status)
        status, listed = self.server.json(
            'GET', '/v2/artifacts/heat_templates?tags=web')
        self.assertEqual([art['id']], [a['id'] for a in listed['artifacts']])
        status, patched = self.server.json(
            'PATCH', art['self'],
            [{'op': 'replace', 'path': '/description', 'value': 'd'}],
            headers={'Content-Type': 'application/json-patch+json'})
        self.assertEqual((200, 'd'), (status, patched['description']))
        self.assertEqual(204, self.server.request('DELETE',
                                                  art['self'])[0])

        glance.images.delete(image.id)
        self.assertNotIn(image.id, [i.id for i in glance.images.list()])

    def test_images_made_with_glanceclient_are_artifacts_of_type_images(self):
        from glanceclient import client as glanceclient
        glance = glanceclient.Client('2', endpoint=self.server.url,
                                     token='unused-without-auth')
        made = []
        for name, version in [('debian', '12.0.0'), ('debian', '13.0.0')]:
            image = glance.images.create(
                name=name, disk_format='raw', container_format='bare',
                tags=['linux'], artifact_version=version)
            self.addCleanup(glance.images.delete, image.id)
            glance.images.upload(image.id, io.BytesIO(b'disk ' + name
                                                      .encode()))
            made.append(image.id)
        status, art = self.server.json(
            'POST', '/v2/artifacts/heat_templates',
            {'name': 'debian', 'version': '1.0.0', 'tags': ['linux']})
        self.assertEqual(201, status)
        self.addCleanup(self.server.request, 'DELETE', art['self'])

        status, listed = self.server.json(
            'GET', '/v2/artifacts/images?name=debian&version=latest')
        self.assertEqual(200, status)
        self.assertEqual([(made[1], '13.0.0', 'active', 'raw')],
                         [(a['id'], a['version'], a['status'],
                           a['disk_format']) for a in listed['artifacts']])
        status, listed = self.server.json(
            'GET', '/v2/artifacts/all?tags=linux&name=debian&sort=version:asc')
        self.assertEqual([('heat_templates', art['id']),
                          ('images', made[0]), ('images', made[1])],
                         [(a['type_name'], a['id'])
                          for a in listed['artifacts']])
        status, headers, _body = self.server.request(
            'GET', '/v2/artifacts/images/%s/data' % made[0])
        self.assertEqual((303, '%s/v2/images/%s/file'
                          % (self.server.url, made[0])),
                         (status, headers['Location']))
        self.assertEqual(b'disk debian',
                         b''.join(glance.images.data(made[0])))

    def test_concurrent_creates_of_one_key_give_one_201(self):
        body = {'name': 'race', 'version': '3.1.4'}

        def create(_):
            return self.server.request('POST', '/v2/artifacts/'
                                       'tosca_templates', body)[0]
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            statuses = sorted(pool.map(create, range(16)))
        self.assertEqual([201] + [409] * 15, statuses)
        status, listed = self.server.json(
            'GET', '/v2/artifacts/tosca_templates?name=race')
        self.assertEqual(1, len(listed['artifacts']))

    def test_client_that_disconnects_mid_body_writes_nothing(self):
        with socket.create_connection(('127.0.0.1', self.server.port)) as s:
            s.sendall(b'POST /v2/artifacts/heat_environments HTTP/1.1\r\n'
                      b'Host: x\r\nContent-Type: application/json\r\n'
                      b'Content-Length: 1000\r\n\r\n{"name": "cut')
        time.sleep(0.5)
        status, listed = self.server.json(
            'GET', '/v2/artifacts/heat_environments')
        self.assertEqual((200, []), (status, listed['artifacts']))
        self.assertEqual(201, self.server.request(
            'POST', '/v2/artifacts/heat_environments', {'name': 'ok'})[0])

    def test_errors_are_json_when_json_is_accepted(self):
        status, headers, data = self.server.request(
            'GET', '/v2/artifacts/heat_templates?limit=-1')
        self.assertEqual(400, status)
        self.assertTrue(headers['Content-Type'].startswith(
            'application/json'))
        self.assertIn(b'limit must be zero or more', data)


class TestArtifactsOnlyFlavor(testtools.TestCase):

    def test_artifacts_flavor_serves_only_artifacts(self):
        root, cleanup = base.make_tempdir('ga-e2e-flavor-')
        self.addCleanup(cleanup)
        server = server_mod.make_server(self, root, flavor='artifacts',
                                        workers=1)
        server.sync(glance_tables=False)
        server.start()
        self.addCleanup(server.stop)
        self.assertEqual(200, server.request('GET', '/v2/artifacts')[0])
        self.assertEqual(201, server.request(
            'POST', '/v2/artifacts/heat_templates', {'name': 'n'})[0])
        self.assertEqual(404, server.request('GET', '/v2/images')[0])
        self.assertEqual(200, server.request('GET', '/healthcheck')[0])


class TestStartUp(testtools.TestCase):

    def test_a_broken_type_stops_start_up_naming_it(self):
        root, cleanup = base.make_tempdir('ga-e2e-broken-')
        self.addCleanup(cleanup)
        server = server_mod.make_server(self, root,
                                        types='heat_templates,helm_charts',
                                        workers=1)
        server.sync(glance_tables=False)
        code = server.start(expect_failure=True)
        self.addCleanup(server.stop)
        self.assertNotEqual(0, code)
        # gunicorn prints the error; under uWSGI, Glance logs it.
        with open(os.path.join(root, 'glance-api.log')) as f:
            logged = f.read()
        self.assertIn("artifact type 'helm_charts' from [artifacts] "
                      "enabled_types is not installed",
                      server.output() + logged)

    def test_dev_serve_answers_artifacts_images_and_oci(self):
        # The README's quick start, with this interpreter and a temp dir,
        # under the WSGI server of the run (serve --server).
        root, cleanup = base.make_tempdir('ga-e2e-dev-')
        self.addCleanup(cleanup)
        port, oci_port = server_mod.free_port(), server_mod.free_port()
        proc = subprocess.Popen(
            [sys.executable, os.path.join(base.ROOT, 'tools', 'dev.py'),
             '--no-venv', 'serve', '--bind', '127.0.0.1:%d' % port,
             '--oci-bind', '127.0.0.1:%d' % oci_port,
             '--dev-dir', root, '--server', server_mod.wsgi_server()],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True)
        self.addCleanup(lambda: (os.killpg(proc.pid, 9), proc.wait()))
        probe = server_mod.Server.__new__(server_mod.Server)
        probe.port = port
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                if probe.request('GET', '/v2/artifacts')[0] == 200:
                    break
            except OSError:
                time.sleep(0.3)
        self.assertEqual(200, probe.request('GET', '/v2/artifacts')[0])
        self.assertEqual(200, probe.request('GET', '/v2/images')[0])
        status, listed = probe.json('GET', '/v2/artifacts')
        self.assertIn('oci_repositories',
                      [t['name'] for t in listed['artifact_types']])
        probe.port = oci_port
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if probe.request('GET', '/v2/')[0] == 200:
                    break
            except OSError:
                time.sleep(0.3)
        status, headers, _ = probe.request('GET', '/v2/')
        self.assertEqual((200, 'registry/2.0'), (
            status, headers['Docker-Distribution-API-Version']))


class TestRawPaths(ServerTest):
    """Paths as a client writes them on the wire, through the WSGI
    server."""

    def raw(self, method, target):
        with socket.create_connection(('127.0.0.1', self.server.port),
                                      timeout=30) as s:
            s.sendall(b'%s %s HTTP/1.1\r\nHost: x\r\nAccept: application/'
                      b'json\r\nContent-Length: 0\r\nContent-Type: '
                      b'application/octet-stream\r\nConnection: close\r\n\r\n'
                      % (method, target))
            data = b''
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        head, _sep, body = data.partition(b'\r\n\r\n')
        return int(head.split(b' ')[1]), body

    def setUp(self):
        super(TestRawPaths, self).setUp()
        status, self.art = self.server.json(
            'POST', '/v2/artifacts/sample_artifacts', {'name': 'raw'})
        self.assertEqual(201, status)
        self.addCleanup(self.server.request, 'DELETE', self.art['self'])
        self.url = self.art['self'].encode()

    def test_empty_segments_are_400_not_another_resource(self):
        for method, target in ((b'PUT', self.url + b'//tags/a'),
                               (b'PUT', self.url + b'/tags//a'),
                               (b'GET', self.url + b'/blob_dict//a'),
                               (b'PUT', self.url + b'/blob_dict//a'),
                               (b'PUT', self.url + b'/blob_dict%2F%2Fa'),
                               (b'DELETE', b'/v2/artifacts//sample_artifacts/'
                                + self.url.rsplit(b'/', 1)[1]),
                               (b'GET', b'http://x' + self.url + b'//tags')):
            status, body = self.raw(method, target)
            self.assertEqual(400, status, target)
            self.assertIn(b'empty segment', body)
        shown = self.server.json('GET', self.art['self'])[1]
        self.assertEqual(([], {}), (shown['tags'], shown['blob_dict']))

    def test_encoded_newline_and_method_override_change_nothing(self):
        for target in (self.url + b'%0a', self.url + b'%0A?x=1',
                       self.url + b'?_method=DELETE'):
            status, _body = self.raw(b'GET', target)
            self.assertIn(status, (200, 400), target)
            if status == 200:
                self.assertTrue(target.endswith(b'_method=DELETE'))
        status, _body = self.raw(b'DELETE', self.url + b'%0a')
        self.assertEqual(400, status)
        self.assertEqual(200, self.server.request('GET',
                                                  self.art['self'])[0])

    def test_percent_encoded_utf8_tag_is_stored_as_its_text(self):
        status, _body = self.raw(b'PUT', self.url + b'/tags/%C3%A9t%C3%A9')
        self.assertEqual(204, status)
        self.assertEqual(['été'], self.server.json(
            'GET', self.art['self'])[1]['tags'])
