"""The OCI distribution API (flavor 'oci') against a real glance-api: its
HTTP rules as opencontainers/distribution-spec v1.1 writes them, and the
real clients skopeo (Debian) and oras (PyPI) pushing and pulling; a
second glance-api on the same database shows the content through
/v2/artifacts."""

import base64
import concurrent.futures
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid

import testtools

from tests import base
from tests import databases
from tests import keystone
from tests.e2e import server as server_mod
from tests.e2e import test_quotas

OCI_TYPES = base.ALL_TYPES + ',' + server_mod.dev.OCI_TYPES
MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
INDEX = 'application/vnd.oci.image.index.v1+json'
EMPTY = 'application/vnd.oci.empty.v1+json'


def digest_of(data, algorithm='sha256'):
    return '%s:%s' % (algorithm, hashlib.new(algorithm, data).hexdigest())


def path_of(url):
    parts = urllib.parse.urlsplit(url)
    return parts.path + ('?' + parts.query if parts.query else '')


def descriptor(data, media_type='application/octet-stream'):
    return {'mediaType': media_type, 'digest': digest_of(data),
            'size': len(data)}


class OCITest(testtools.TestCase):
    """An OCI glance-api and a /v2/artifacts glance-api on one database,
    for the test class."""

    oci = artifacts = None
    #: The paste flavors of the OCI glance-api and of the other one, and
    #: the data API mode (None: GA_TEST_DATA_API's).
    flavor, api_flavor, mode = 'oci', '', None
    #: More glance-api.conf of both servers.
    extra = ''

    @classmethod
    def more_config(cls, server):
        """More glance-api.conf of ``server``, written before it starts."""
        return ''

    @classmethod
    def setUpClass(cls):
        super(OCITest, cls).setUpClass()
        cls.root, cls.cleanup = base.make_tempdir('ga-e2e-oci-')
        try:
            cls.oci = server_mod.Server(
                os.path.join(cls.root, 'oci'), flavor=cls.flavor,
                types=OCI_TYPES, workers=1, extra=cls.extra, mode=cls.mode)
            cls.oci.sync()
            cls.artifacts = server_mod.Server(
                os.path.join(cls.root, 'api'), flavor=cls.api_flavor,
                types=OCI_TYPES, workers=1, extra=cls.extra, mode=cls.mode,
                database=cls.oci.artifacts_database,
                s3_bucket=cls.oci.bucket)
            for server in (cls.oci, cls.artifacts):
                with open(os.path.join(server.confdir, 'glance-api.conf'),
                          'a') as f:
                    f.write(cls.more_config(server))
                server.start()
        except (databases.Unavailable, keystone.Unavailable) as e:
            cls.tearDownClass()
            base.unavailable(e)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for server in (cls.oci, cls.artifacts):
            if server is not None:
                server.stop()
        cls.cleanup()
        super(OCITest, cls).tearDownClass()

    def setUp(self):
        super(OCITest, self).setUp()
        # A repository of the test's own: the servers live for the class.
        self.repo = 'test/%s' % self.id().rsplit('.', 1)[1].replace(
            'test_', '').replace('_', '-')[:80].strip('-')

    # -- helpers --

    def request(self, method, path, body=None, headers=None):
        # Locations are absolute URLs (the specification allows both):
        # follow them by their path.
        return self.oci.request(method, path_of(path), body, headers)

    def assertError(self, status, code, response):
        got_status, headers, body = response
        self.assertEqual(status, got_status, body)
        self.assertEqual('application/json', headers['Content-Type'])
        errors = json.loads(body)['errors']
        self.assertEqual([code], [e['code'] for e in errors])
        self.assertTrue(errors[0]['message'])
        return errors[0]

    def push_blob(self, data, repo=None):
        status, headers, body = self.request(
            'POST', '/v2/%s/blobs/uploads/?digest=%s'
            % (repo or self.repo, digest_of(data)), data,
            {'Content-Type': 'application/octet-stream'})
        self.assertEqual(201, status, body)
        return descriptor(data)

    def push_manifest(self, reference, parts=(), subject=None,
                      artifact_type=None, annotations=None, repo=None,
                      config=b'{}'):
        config = self.push_blob(config, repo)
        config['mediaType'] = EMPTY
        manifest = {'schemaVersion': 2, 'mediaType': MANIFEST,
                    'config': config,
                    'layers': [self.push_blob(p, repo) for p in parts]}
        if artifact_type:
            manifest['artifactType'] = artifact_type
        if subject:
            manifest['subject'] = subject
        if annotations:
            manifest['annotations'] = annotations
        content = json.dumps(manifest).encode()
        status, headers, body = self.request(
            'PUT', '/v2/%s/manifests/%s' % (repo or self.repo, reference),
            content, {'Content-Type': MANIFEST})
        self.assertEqual(201, status, body)
        self.assertEqual(digest_of(content), headers['Docker-Content-Digest'])
        return content

    def blob_status(self, digest, repo=None):
        return self.request('HEAD', '/v2/%s/blobs/%s'
                            % (repo or self.repo, digest))[0]


class TestProtocol(OCITest):
    """The rules of the specification, one by one."""

    # Notifications go to glance-api's log (oslo.messaging's log driver).
    extra = '\n[oslo_messaging_notifications]\ndriver = log\n'

    def test_v2_answers_200_with_the_api_version(self):
        status, headers, body = self.request('GET', '/v2/')
        self.assertEqual(200, status)
        self.assertEqual('registry/2.0',
                         headers['Docker-Distribution-API-Version'])

    def test_monolithic_blob_push_then_head_and_get_give_it_exactly(self):
        data = os.urandom(300000)
        digest = digest_of(data)
        status, headers, _ = self.request(
            'POST', '/v2/%s/blobs/uploads/?digest=%s' % (self.repo, digest),
            data, {'Content-Type': 'application/octet-stream'})
        self.assertEqual(201, status)
        self.assertEqual('/v2/%s/blobs/%s' % (self.repo, digest),
                         path_of(headers['Location']))
        self.assertEqual(digest, headers['Docker-Content-Digest'])
        status, headers, body = self.request(
            'HEAD', '/v2/%s/blobs/%s' % (self.repo, digest))
        self.assertEqual((200, '300000', b''),
                         (status, headers['Content-Length'], body))
        self.assertEqual(digest, headers['Docker-Content-Digest'])
        status, headers, body = self.request(
            'GET', '/v2/%s/blobs/%s' % (self.repo, digest))
        self.assertEqual((200, data), (status, body))
        status, headers, body = self.request(
            'GET', '/v2/%s/blobs/%s' % (self.repo, digest),
            headers={'Range': 'bytes=10-19'})
        self.assertEqual((206, data[10:20]), (status, body))

    def test_a_push_sends_the_catalogs_notifications(self):
        content = self.push_manifest('v1', [b'notified layer'])
        manifest = digest_of(content)
        layer = digest_of(b'notified layer')

        def sent():
            with open(os.path.join(self.oci.root, 'glance-api.log'),
                      errors='replace') as f:
                return [line for line in f
                        if 'oslo.messaging.notification.artifact.' in line]

        def seen(event, text):
            return any('artifact.' + event + ' ' in line and text in line
                       for line in sent())

        base.wait_for(lambda: seen('activate', manifest), 30)
        for event, text in (('create', manifest), ('upload', manifest),
                            ('activate', manifest), ('create', layer),
                            ('upload', layer), ('activate', layer)):
            self.assertTrue(seen(event, text), (event, text))

    def test_blob_with_another_digest_is_refused_and_nothing_is_kept(self):
        data = os.urandom(5000)
        claimed = digest_of(b'something else')
        error = self.assertError(400, 'DIGEST_INVALID', self.request(
            'POST', '/v2/%s/blobs/uploads/?digest=%s' % (self.repo, claimed),
            data, {'Content-Type': 'application/octet-stream'}))
        self.assertIn(digest_of(data), error['message'])
        self.assertEqual(404, self.blob_status(claimed))
        status, listed = self.artifacts.json(
            'GET', '/v2/artifacts/oci_blobs?name=eq:%s' % claimed)
        self.assertEqual([], [a['id'] for a in listed['artifacts']
                              if a['data'] is not None])

    def test_sha512_digests_are_verified_too(self):
        data = os.urandom(1000)
        digest = digest_of(data, 'sha512')
        status, headers, _ = self.request(
            'POST', '/v2/%s/blobs/uploads/?digest=%s' % (self.repo, digest),
            data, {'Content-Type': 'application/octet-stream'})
        self.assertEqual(201, status)
        self.assertEqual(200, self.blob_status(digest))
        self.assertError(400, 'DIGEST_INVALID', self.request(
            'POST', '/v2/%s/blobs/uploads/?digest=md5:%s'
            % (self.repo, hashlib.md5(data).hexdigest()), data,
            {'Content-Type': 'application/octet-stream'}))

    def test_post_then_put_uploads_a_blob(self):
        data = os.urandom(70000)
        status, headers, _ = self.request(
            'POST', '/v2/%s/blobs/uploads/' % self.repo)
        self.assertEqual(202, status)
        location = path_of(headers['Location'])
        self.assertTrue(location.startswith('/v2/%s/blobs/uploads/'
                                            % self.repo), location)
        status, headers, _ = self.request(
            'PUT', location + '?digest=' + digest_of(data), data,
            {'Content-Type': 'application/octet-stream'})
        self.assertEqual(201, status)
        self.assertEqual(data, self.request(
            'GET', '/v2/%s/blobs/%s' % (self.repo, digest_of(data)))[2])
        self.assertError(404, 'BLOB_UPLOAD_UNKNOWN',
                         self.request('GET', location))

    def test_chunked_upload_in_order_and_a_chunk_out_of_order_is_416(self):
        data = os.urandom(200000)
        _, headers, _ = self.request('POST',
                                     '/v2/%s/blobs/uploads/' % self.repo)
        location = headers['Location']
        status, headers, _ = self.request(
            'PATCH', location, data[:120000],
            {'Content-Type': 'application/octet-stream',
             'Content-Range': '0-119999'})
        self.assertEqual(202, status)
        self.assertEqual('0-119999', headers['Range'])
        location = headers['Location']
        error = self.assertError(416, 'BLOB_UPLOAD_INVALID', self.request(
            'PATCH', location, data[150000:],
            {'Content-Type': 'application/octet-stream',
             'Content-Range': '150000-199999'}))
        self.assertIn('send from byte 120000', error['message'])
        status, headers, _ = self.request('GET', location)
        self.assertEqual((204, '0-119999'), (status, headers['Range']))
        status, headers, _ = self.request(
            'PATCH', location, data[120000:],
            {'Content-Type': 'application/octet-stream',
             'Content-Range': '120000-199999'})
        self.assertEqual((202, '0-199999'), (status, headers['Range']))
        status, headers, _ = self.request(
            'PUT', location + '?digest=' + digest_of(data))
        self.assertEqual(201, status)
        self.assertEqual(data, self.request(
            'GET', '/v2/%s/blobs/%s' % (self.repo, digest_of(data)))[2])
        self.assertError(404, 'BLOB_UPLOAD_UNKNOWN',
                         self.request('GET', location))
        status, listed = self.artifacts.json(
            'GET', '/v2/artifacts/oci_uploads?name=%s' % self.repo)
        self.assertEqual([], listed['artifacts'])

    def test_chunked_upload_with_a_wrong_digest_keeps_nothing(self):
        data = os.urandom(1000)
        _, headers, _ = self.request('POST',
                                     '/v2/%s/blobs/uploads/' % self.repo)
        status, headers, _ = self.request(
            'PATCH', headers['Location'], data,
            {'Content-Type': 'application/octet-stream'})
        self.assertEqual(202, status)
        wrong = digest_of(b'other')
        self.assertError(400, 'DIGEST_INVALID', self.request(
            'PUT', headers['Location'] + '?digest=' + wrong))
        self.assertEqual(404, self.blob_status(wrong))
        self.assertEqual(404, self.blob_status(digest_of(data)))

    def test_concurrent_pushes_of_one_blob_all_succeed_and_keep_one(self):
        data = os.urandom(4 * 1024 * 1024)
        path = '/v2/%s/blobs/uploads/?digest=%s' % (
            self.repo, digest_of(data))
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            statuses = list(pool.map(lambda _: self.request(
                'POST', path, data,
                {'Content-Type': 'application/octet-stream'})[0], range(3)))
        self.assertEqual([201, 201, 201], statuses)
        self.assertEqual(data, self.request(
            'GET', '/v2/%s/blobs/%s' % (self.repo, digest_of(data)))[2])
        status, listed = self.artifacts.json(
            'GET', '/v2/artifacts/oci_blobs?name=eq:%s' % digest_of(data))
        self.assertEqual(1, len(listed['artifacts']))

    def test_cross_repository_mount_of_the_projects_blob_is_201(self):
        data = os.urandom(1000)
        self.push_blob(data, repo=self.repo + '/source')
        status, headers, _ = self.request(
            'POST', '/v2/%s/blobs/uploads/?mount=%s&from=%s'
            % (self.repo, digest_of(data), self.repo + '/source'))
        self.assertEqual(201, status)
        self.assertEqual('/v2/%s/blobs/%s' % (self.repo, digest_of(data)),
                         path_of(headers['Location']))
        status, headers, _ = self.request(
            'POST', '/v2/%s/blobs/uploads/?mount=%s&from=%s'
            % (self.repo, digest_of(b'not there'), self.repo + '/source'))
        self.assertEqual(202, status)
        self.assertIn('/blobs/uploads/', headers['Location'])

    def test_manifest_by_tag_and_digest_exact_with_its_media_type(self):
        content = self.push_manifest('v1', [b'layer one'])
        digest = digest_of(content)
        for reference in ('v1', digest):
            status, headers, body = self.request(
                'GET', '/v2/%s/manifests/%s' % (self.repo, reference),
                headers={'Accept': MANIFEST})
            self.assertEqual((200, content), (status, body))
            self.assertEqual(MANIFEST, headers['Content-Type'])
            self.assertEqual(digest, headers['Docker-Content-Digest'])
            status, headers, body = self.request(
                'HEAD', '/v2/%s/manifests/%s' % (self.repo, reference))
            self.assertEqual((200, str(len(content)), b''),
                             (status, headers['Content-Length'], body))
        self.assertError(404, 'MANIFEST_UNKNOWN', self.request(
            'GET', '/v2/%s/manifests/v2' % self.repo))
        self.assertError(404, 'MANIFEST_UNKNOWN', self.request(
            'GET', '/v2/%s/manifests/%s' % (self.repo, digest_of(b'none'))))
        self.assertError(404, 'NAME_UNKNOWN', self.request(
            'GET', '/v2/%s/manifests/v1' % (self.repo + '/nothing')))

    def test_manifest_naming_a_missing_blob_is_refused(self):
        self.push_blob(b'{}')
        manifest = {'schemaVersion': 2, 'mediaType': MANIFEST,
                    'config': descriptor(b'{}', EMPTY),
                    'layers': [descriptor(b'never pushed')]}
        error = self.assertError(400, 'MANIFEST_BLOB_UNKNOWN', self.request(
            'PUT', '/v2/%s/manifests/v1' % self.repo,
            json.dumps(manifest).encode(), {'Content-Type': MANIFEST}))
        self.assertEqual(digest_of(b'never pushed'),
                         error['detail']['digest'])

    def test_manifest_pushed_by_another_digest_or_malformed_is_refused(self):
        self.push_blob(b'{}')
        content = json.dumps({'schemaVersion': 2, 'mediaType': MANIFEST,
                              'config': descriptor(b'{}', EMPTY),
                              'layers': []}).encode()
        self.assertError(400, 'DIGEST_INVALID', self.request(
            'PUT', '/v2/%s/manifests/%s' % (self.repo, digest_of(b'x')),
            content, {'Content-Type': MANIFEST}))
        status, headers, _ = self.request(
            'PUT', '/v2/%s/manifests/%s' % (self.repo, digest_of(content)),
            content, {'Content-Type': MANIFEST})
        self.assertEqual(201, status)
        for bad in (b'{not json', b'[]', json.dumps(
                {'schemaVersion': 2, 'mediaType': MANIFEST,
                 'config': {'digest': 'nope'}, 'layers': []}).encode()):
            self.assertError(400, 'MANIFEST_INVALID', self.request(
                'PUT', '/v2/%s/manifests/bad' % self.repo, bad,
                {'Content-Type': MANIFEST}))
        self.assertError(400, 'MANIFEST_INVALID', self.request(
            'PUT', '/v2/%s/manifests/v1' % self.repo, content,
            {'Content-Type': INDEX}))

    def test_a_tag_moves_to_the_last_manifest_pushed_with_it(self):
        first = self.push_manifest('latest', [b'one'])
        second = self.push_manifest('latest', [b'two'])
        _, headers, body = self.request(
            'GET', '/v2/%s/manifests/latest' % self.repo)
        self.assertEqual(second, body)
        status, _, body = self.request(
            'GET', '/v2/%s/manifests/%s' % (self.repo, digest_of(first)))
        self.assertEqual((200, first), (status, body))

    def test_two_pushes_of_one_tag_at_once_one_wins_nothing_half_written(
            self):
        contents = []
        for n in range(4):
            self.push_blob(b'layer %d' % n)
            contents.append(json.dumps({
                'schemaVersion': 2, 'mediaType': MANIFEST,
                'config': dict(self.push_blob(b'{}'), mediaType=EMPTY),
                'layers': [descriptor(b'layer %d' % n)]}).encode())
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            statuses = list(pool.map(lambda content: self.request(
                'PUT', '/v2/%s/manifests/race' % self.repo, content,
                {'Content-Type': MANIFEST})[0], contents))
        self.assertEqual([201] * 4, statuses)
        _, headers, body = self.request(
            'GET', '/v2/%s/manifests/race' % self.repo)
        self.assertIn(body, contents)
        self.assertEqual(digest_of(body), headers['Docker-Content-Digest'])
        for content in contents:
            status, _, got = self.request(
                'GET', '/v2/%s/manifests/%s' % (self.repo, digest_of(content)))
            self.assertEqual((200, content), (status, got))
        self.assertEqual(['race'], json.loads(self.request(
            'GET', '/v2/%s/tags/list' % self.repo)[2])['tags'])

    def test_tags_list_is_lexical_and_honours_n_and_last(self):
        for tag in ('b', 'a', 'C', '1.0', 'a-2'):
            self.push_manifest(tag)
        status, headers, body = self.request(
            'GET', '/v2/%s/tags/list' % self.repo)
        self.assertEqual(200, status)
        self.assertEqual({'name': self.repo,
                          'tags': ['1.0', 'C', 'a', 'a-2', 'b']},
                         json.loads(body))
        self.assertNotIn('Link', headers)
        status, headers, body = self.request(
            'GET', '/v2/%s/tags/list?n=2' % self.repo)
        self.assertEqual(['1.0', 'C'], json.loads(body)['tags'])
        self.assertEqual('</v2/%s/tags/list?n=2&last=C>; rel="next"'
                         % self.repo, headers['Link'])
        status, headers, body = self.request(
            'GET', '/v2/%s/tags/list?n=2&last=C' % self.repo)
        self.assertEqual(['a', 'a-2'], json.loads(body)['tags'])
        status, headers, body = self.request(
            'GET', '/v2/%s/tags/list?n=0' % self.repo)
        self.assertEqual([], json.loads(body)['tags'])
        status, headers, body = self.request(
            'GET', '/v2/%s/tags/list?last=b' % self.repo)
        self.assertEqual([], json.loads(body)['tags'])

    def test_referrers_list_the_manifests_of_a_subject_by_type(self):
        subject_content = self.push_manifest('v1', [b'image layer'])
        subject = descriptor(subject_content, MANIFEST)
        status, headers, body = self.request(
            'GET', '/v2/%s/referrers/%s' % (self.repo, subject['digest']))
        self.assertEqual((200, INDEX), (status, headers['Content-Type']))
        self.assertEqual([], json.loads(body)['manifests'])
        signature = self.push_manifest(
            'sig', [b'signature'], subject=subject,
            artifact_type='application/vnd.example.signature',
            annotations={'org.example.signed-by': 'tests'})
        sbom = self.push_manifest('sbom', [b'sbom'], subject=subject,
                                  artifact_type='application/spdx+json')
        status, headers, body = self.request(
            'GET', '/v2/%s/referrers/%s' % (self.repo, subject['digest']))
        found = json.loads(body)['manifests']
        self.assertEqual(
            sorted([digest_of(signature), digest_of(sbom)]),
            sorted(d['digest'] for d in found))
        signed = next(d for d in found if d['digest'] == digest_of(signature))
        self.assertEqual({'mediaType': MANIFEST,
                          'digest': digest_of(signature),
                          'size': len(signature),
                          'artifactType': 'application/vnd.example.signature',
                          'annotations': {'org.example.signed-by': 'tests'}},
                         signed)
        status, headers, body = self.request(
            'GET', '/v2/%s/referrers/%s?artifactType=application/spdx%%2Bjson'
            % (self.repo, subject['digest']))
        self.assertEqual([digest_of(sbom)],
                         [d['digest'] for d in json.loads(body)['manifests']])
        self.assertEqual('artifactType', headers['OCI-Filters-Applied'])

    def test_pushing_a_manifest_with_a_subject_answers_oci_subject(self):
        subject = descriptor(self.push_manifest('v1'), MANIFEST)
        self.push_blob(b'{}')
        content = json.dumps({'schemaVersion': 2, 'mediaType': MANIFEST,
                              'config': descriptor(b'{}', EMPTY),
                              'layers': [], 'subject': subject}).encode()
        status, headers, _ = self.request(
            'PUT', '/v2/%s/manifests/%s' % (self.repo, digest_of(content)),
            content, {'Content-Type': MANIFEST})
        self.assertEqual(201, status)
        self.assertEqual(subject['digest'], headers['OCI-Subject'])

    def test_delete_tag_manifest_and_blob(self):
        content = self.push_manifest('v1', [b'layer'])
        self.push_manifest('v2', [b'layer'])
        status, _, _ = self.request('DELETE',
                                    '/v2/%s/manifests/v2' % self.repo)
        self.assertEqual(202, status)
        self.assertError(404, 'MANIFEST_UNKNOWN', self.request(
            'GET', '/v2/%s/manifests/v2' % self.repo))
        status, _, _ = self.request(
            'DELETE', '/v2/%s/manifests/%s' % (self.repo, digest_of(content)))
        self.assertEqual(202, status)
        self.assertError(404, 'MANIFEST_UNKNOWN', self.request(
            'GET', '/v2/%s/manifests/v1' % self.repo))
        self.assertEqual([], json.loads(self.request(
            'GET', '/v2/%s/tags/list' % self.repo)[2])['tags'])
        data = os.urandom(100)
        self.push_blob(data)
        status, _, _ = self.request(
            'DELETE', '/v2/%s/blobs/%s' % (self.repo, digest_of(data)))
        self.assertEqual(202, status)
        self.assertEqual(404, self.blob_status(digest_of(data)))

    def test_invalid_names_digests_and_methods(self):
        self.assertError(400, 'NAME_INVALID', self.request(
            'GET', '/v2/Upper/Case/tags/list'))
        self.push_blob(b'x')
        self.assertError(400, 'DIGEST_INVALID', self.request(
            'GET', '/v2/%s/blobs/sha256:short' % self.repo))
        self.assertError(404, 'BLOB_UNKNOWN', self.request(
            'GET', '/v2/%s/blobs/%s' % (self.repo, digest_of(b'none'))))
        self.assertEqual(404, self.blob_status(digest_of(b'none')))
        status, headers, _ = self.request('POST', '/v2/%s/tags/list'
                                          % self.repo)
        self.assertEqual((405, 'GET, HEAD'), (status, headers['Allow']))

    def test_pushed_content_shows_in_v2_artifacts_and_is_written_only_here(
            self):
        content = self.push_manifest('v1', [b'layer'])
        status, listed = self.artifacts.json(
            'GET', '/v2/artifacts/oci_manifests?name=%s' % self.repo)
        self.assertEqual(200, status)
        [manifest] = listed['artifacts']
        self.assertEqual((digest_of(content), MANIFEST, 'active', EMPTY),
                         (manifest['digest'], manifest['media_type'],
                          manifest['status'], manifest['artifact_type']))
        status, listed = self.artifacts.json(
            'GET', '/v2/artifacts/oci_repositories?name=%s' % self.repo)
        self.assertEqual({'v1': digest_of(content)},
                         listed['artifacts'][0]['tagged'])
        status, _ = self.artifacts.json(
            'POST', '/v2/artifacts/oci_manifests', {'name': 'forged'})
        self.assertEqual(405, status)
        status, _ = self.artifacts.json(
            'DELETE', '/v2/artifacts/oci_manifests/%s' % manifest['id'])
        self.assertEqual(405, status)


class TestGarbage(OCITest):
    """Garbage collection of OCI content (glance-artifacts-manage store
    gc), in servers of its own: it takes what every test left."""

    # A grace period of 1 s: a blob is taken for old (made young again
    # when a manifest names it) once its second of change is more than
    # half a second ago (the catalog's times are in whole seconds).
    extra = '\n[artifacts]\ngc_grace = 1\n'

    def gc(self):
        result = subprocess.run(
            [os.path.join(base.BIN, 'glance-artifacts-manage'),
             '--config-file', os.path.join(self.oci.confdir,
                                           'glance-api.conf'),
             'store', 'gc', '--older-than', '0'],
            capture_output=True, text=True, timeout=300)
        self.assertEqual(0, result.returncode, result.stderr[-3000:])
        return json.loads(result.stdout)

    def test_blobs_no_manifest_names_and_idle_uploads_are_collected(self):
        # A config of its own: blobs are the project's, and other
        # manifests name the empty one.
        content = self.push_manifest('v1', [b'named layer'],
                                     config=b'{"gc": 1}')
        loose = self.push_blob(os.urandom(100))
        _, headers, _ = self.request('POST',
                                     '/v2/%s/blobs/uploads/' % self.repo)
        session = headers['Location']
        report = self.gc()
        self.assertEqual({'uploads': 1, 'blobs': 1}, report['oci'])
        self.assertEqual(404, self.blob_status(loose['digest']))
        self.assertError(404, 'BLOB_UPLOAD_UNKNOWN',
                         self.request('GET', session))
        self.assertEqual(200, self.blob_status(digest_of(b'named layer')))
        self.assertEqual(200, self.blob_status(digest_of(b'{"gc": 1}')))
        self.assertEqual(content, self.request(
            'GET', '/v2/%s/manifests/v1' % self.repo)[2])
        # Once the manifest is deleted, nothing names its blobs.
        self.request('DELETE', '/v2/%s/manifests/%s'
                     % (self.repo, digest_of(content)))
        self.assertEqual({'uploads': 0, 'blobs': 2}, self.gc()['oci'])
        self.assertEqual(404, self.blob_status(digest_of(b'named layer')))
        self.assertEqual(404, self.blob_status(digest_of(b'{"gc": 1}')))

    def test_a_manifest_push_makes_the_old_blobs_it_names_young(self):
        layer = self.push_blob(b'an old layer')
        before = self.blob_artifact(layer['digest'])
        time.sleep(1.6)     # older than half the grace period
        self.push_manifest('v1', [b'an old layer'])
        after = self.blob_artifact(layer['digest'])
        self.assertGreater(after['updated_at'], before['updated_at'])

    def blob_artifact(self, digest):
        status, listed = self.artifacts.json(
            'GET', '/v2/artifacts/oci_blobs?name=eq:%s' % digest)
        [found] = listed['artifacts']
        return found


def skopeo():
    path = shutil.which('skopeo')
    if path is None:
        raise AssertionError('skopeo is not installed (apt-get install '
                             'skopeo; .ci/run installs it)')
    return path


class TestClients(OCITest):
    """skopeo and oras against the OCI listener."""

    def test_skopeo_copies_a_multi_architecture_index_in_and_out_exactly(
            self):
        work = tempfile.mkdtemp(dir=self.root)
        source = os.path.join(work, 'source')
        subprocess.check_call([sys.executable, os.path.join(
            base.ROOT, 'tests', 'e2e', 'oci_layout.py'), source])
        target = '127.0.0.1:%d/%s' % (self.oci.port, self.repo)
        subprocess.run([skopeo(), 'copy', '--all', '--dest-tls-verify=false',
                        'oci:%s:latest' % source, 'docker://%s:1.0' % target],
                       check=True, capture_output=True)
        out = os.path.join(work, 'out')
        subprocess.run([skopeo(), 'copy', '--all', '--src-tls-verify=false',
                        'docker://%s:1.0' % target, 'oci:%s:1.0' % out],
                       check=True, capture_output=True)
        self.assertEqual(self.blobs_of(source), self.blobs_of(out))
        self.assertEqual(7, len(self.blobs_of(out)))
        listed = subprocess.run(
            [skopeo(), 'list-tags', '--tls-verify=false',
             'docker://' + target], check=True, capture_output=True).stdout
        self.assertEqual(['1.0'], json.loads(listed)['Tags'])
        # skopeo delete deletes the manifest the tag names, by digest.
        subprocess.run([skopeo(), 'delete', '--tls-verify=false',
                        'docker://%s:1.0' % target], check=True,
                       capture_output=True)
        listed = subprocess.run(
            [skopeo(), 'list-tags', '--tls-verify=false',
             'docker://' + target], check=True, capture_output=True).stdout
        self.assertEqual([], json.loads(listed)['Tags'])
        with open(os.path.join(source, 'index.json')) as f:
            index = json.load(f)['manifests'][0]['digest']
        self.assertError(404, 'MANIFEST_UNKNOWN', self.request(
            'GET', '/v2/%s/manifests/%s' % (self.repo, index)))

    @staticmethod
    def blobs_of(layout):
        directory = os.path.join(layout, 'blobs', 'sha256')
        found = {}
        for name in os.listdir(directory):
            with open(os.path.join(directory, name), 'rb') as f:
                found[name] = hashlib.sha256(f.read()).hexdigest()
        return found

    def test_oras_pushes_and_pulls_files_whole_and_in_chunks(self):
        import oras.client
        work = tempfile.mkdtemp(dir=self.root)
        files = []
        for name, size in (('small.txt', 10), ('big.bin', 3 * 1024 * 1024)):
            path = os.path.join(work, name)
            with open(path, 'wb') as f:
                f.write(os.urandom(size))
            files.append(path)
        client = oras.client.OrasClient(
            hostname='127.0.0.1:%d' % self.oci.port, insecure=True)
        target = '127.0.0.1:%d/%s' % (self.oci.port, self.repo)
        old = os.getcwd()
        os.chdir(work)      # oras names the layers by their relative paths
        try:
            response = client.push(target=target + ':whole',
                                   files=[os.path.basename(f)
                                          for f in files])
            self.assertEqual(201, response.status_code)
            response = client.push(target=target + ':chunked',
                                   files=[os.path.basename(f)
                                          for f in files],
                                   do_chunked=True, chunk_size=1000000)
            self.assertEqual(201, response.status_code)
        finally:
            os.chdir(old)
        for tag in ('whole', 'chunked'):
            out = os.path.join(work, 'out-' + tag)
            pulled = client.pull(target=target + ':' + tag, outdir=out)
            self.assertEqual(2, len(pulled))
            for path in files:
                with open(path, 'rb') as f, open(os.path.join(
                        out, os.path.basename(path)), 'rb') as g:
                    self.assertEqual(f.read(), g.read())
        self.assertEqual(['chunked', 'whole'],
                         client.get_tags(target))


class TestKeystone(OCITest):
    """Flavor keystone+oci with the tests' Keystone: a challenge for
    requests without credentials, the token endpoint for application
    credentials and passwords, the project of the credential owning what
    it pushes, and anonymous pulls of public repositories."""

    flavor, api_flavor, mode = 'keystone+oci', 'keystone', 'sqlalchemy'

    @classmethod
    def setUpClass(cls):
        keystone.start_in_background()
        super(TestKeystone, cls).setUpClass()

    @classmethod
    def more_config(cls, server):
        cls.keystone = keystone.get()
        # Quotas on; anonymous pulls on the OCI listener.
        return (cls.keystone.authtoken_options() +
                cls.keystone.limit_options() +
                '\n[artifacts]\nuse_keystone_limits = true\n' +
                ('\n[DEFAULT]\nallow_anonymous_access = True\n'
                 if server is cls.oci else ''))

    def setUp(self):
        super(TestKeystone, self).setUp()
        # The registered limits are the Keystone's, shared by the tests
        # of this process (tests/e2e/test_quotas.py sets its own).
        self.keystone.delete_limits()
        for resource, value in test_quotas.DEFAULTS.items():
            self.keystone.set_registered_limit(resource, value)

    def application_credential(self, project):
        """(id, secret) of a new application credential of the user of
        ``project`` (keystone.new_project())."""
        status, _, body = self.keystone_request(
            'POST', '/users/%s/application_credentials' % project['user_id'],
            {'application_credential': {'name': 'oci-' + uuid.uuid4().hex}},
            project['token'])
        self.assertEqual(201, status, body)
        credential = json.loads(body)['application_credential']
        return credential['id'], credential['secret']

    def keystone_request(self, method, path, body, token):
        import requests
        resp = requests.request(method, self.keystone.url + path, json=body,
                                headers={'X-Auth-Token': token}, timeout=60)
        return resp.status_code, resp.headers, resp.content

    def token(self, user, password):
        auth = base64.b64encode(('%s:%s' % (user, password)).encode())
        return self.oci.request('GET', '/token?service=x&scope=repository:'
                                'a:pull', headers={
                                    'Authorization': 'Basic ' +
                                    auth.decode()})

    def test_a_request_without_credentials_is_challenged(self):
        status, headers, body = self.oci.request('GET', '/v2/')
        self.assertEqual(401, status)
        self.assertEqual('Bearer realm="%s/token",service="127.0.0.1:%d"'
                         % (self.oci.url, self.oci.port),
                         headers['WWW-Authenticate'])
        self.assertEqual('UNAUTHORIZED',
                         json.loads(body)['errors'][0]['code'])
        status, headers, body = self.oci.request(
            'PUT', '/v2/team/app/manifests/v1', b'{}',
            {'Content-Type': MANIFEST})
        self.assertEqual(401, status)
        self.assertIn(',scope="repository:team/app:pull,push"',
                      headers['WWW-Authenticate'])

    def test_token_endpoint_takes_application_credentials_and_passwords(
            self):
        project = self.keystone.new_project()
        status, _, body = self.token(*self.application_credential(project))
        self.assertEqual(200, status, body)
        answer = json.loads(body)
        self.assertEqual(answer['token'], answer['access_token'])
        self.assertTrue(3000 < answer['expires_in'] <= 3600 * 24)
        status, headers, _ = self.oci.request(
            'GET', '/v2/', headers={'Authorization':
                                    'Bearer ' + answer['token']})
        self.assertEqual(200, status)
        name = self.keystone._api('GET', '/projects/%s'
                                  % project['project_id'])['project']['name']
        status, _, body = self.token('%s@%s' % (project['user'], name),
                                     self.keystone.password)
        self.assertEqual(200, status, body)
        status, _, body = self.token(project['user'], 'wrong password')
        self.assertEqual(401, status)
        self.assertEqual('UNAUTHORIZED',
                         json.loads(body)['errors'][0]['code'])

    def test_skopeo_with_credentials_and_anonymous_pulls_of_public_ones(
            self):
        owner = self.keystone.new_project()
        other = self.keystone.new_project()
        creds = '%s:%s' % self.application_credential(owner)
        work = tempfile.mkdtemp(dir=self.root)
        source = os.path.join(work, 'source')
        subprocess.check_call([sys.executable, os.path.join(
            base.ROOT, 'tests', 'e2e', 'oci_layout.py'), source])
        target = 'docker://127.0.0.1:%d/owned/app:1.0' % self.oci.port
        subprocess.run([skopeo(), 'copy', '--all', '--dest-tls-verify=false',
                        '--dest-creds', creds, 'oci:%s:latest' % source,
                        target], check=True, capture_output=True)
        # The credential's project owns the repository.
        status, listed = self.artifacts.json(
            'GET', '/v2/artifacts/oci_repositories?name=owned/app',
            headers={'X-Auth-Token': owner['token']})
        [repo] = listed['artifacts']
        self.assertEqual(owner['project_id'], repo['owner'])
        # Another project may neither push to it nor see it.
        other_creds = '%s:%s' % self.application_credential(other)
        pushed = subprocess.run(
            [skopeo(), 'copy', '--all', '--dest-tls-verify=false',
             '--dest-creds', other_creds, 'oci:%s:latest' % source,
             target], capture_output=True)
        self.assertNotEqual(0, pushed.returncode)
        self.assertIn(b'denied', pushed.stderr.lower())
        pull = [skopeo(), 'copy', '--all', '--src-tls-verify=false',
                target, 'oci:%s:1.0' % os.path.join(work, 'out')]
        self.assertNotEqual(0, subprocess.run(
            pull + ['--src-creds', other_creds],
            capture_output=True).returncode)
        self.assertNotEqual(0, subprocess.run(
            pull + ['--src-no-creds'], capture_output=True).returncode)
        # Made public (by an admin, as images), anyone pulls it, without
        # credentials too.
        status, _ = self.artifacts.json(
            'PATCH', '/v2/artifacts/oci_repositories/%s' % repo['id'],
            [{'op': 'replace', 'path': '/visibility', 'value': 'public'}],
            headers={'X-Auth-Token': self.keystone.token('admin_a'),
                     'Content-Type': 'application/'
                                     'openstack-images-v2.1-json-patch'})
        self.assertEqual(200, status)
        pulled = subprocess.run(pull + ['--src-no-creds'],
                                capture_output=True)
        self.assertEqual(0, pulled.returncode, pulled.stderr)
        # A public repository serves only the blobs its manifests name,
        # not the other blobs of its project.
        secret = os.urandom(100)
        owner_bearer = {'Authorization': 'Bearer ' + owner['token'],
                        'Content-Type': 'application/octet-stream'}
        status, _, _ = self.oci.request(
            'POST', '/v2/owned/private/blobs/uploads/?digest=%s'
            % digest_of(secret), secret, owner_bearer)
        self.assertEqual(201, status)
        path = '/v2/owned/app/blobs/%s' % digest_of(secret)
        self.assertEqual(200, self.oci.request('GET', path,
                                               headers=owner_bearer)[0])
        status, _, body = self.oci.request('GET', path, headers={
            'Authorization': 'Bearer ' + other['token']})
        self.assertEqual((404, 'BLOB_UNKNOWN'), (
            status, json.loads(body)['errors'][0]['code']))
        self.assertEqual(401, self.oci.request('GET', path)[0])
        self.assertEqual(TestClients.blobs_of(source),
                         TestClients.blobs_of(os.path.join(work, 'out')))

    def test_a_push_over_quota_is_denied_and_shared_blobs_count_once(self):
        project = self.keystone.new_project()
        self.keystone.set_project_limit(project['project_id'],
                                        'artifact_size_total', 1)
        bearer = {'Authorization': 'Bearer ' + project['token'],
                  'Content-Type': 'application/octet-stream'}
        layer = os.urandom(600 * 1024)
        for repo in ('quota/one', 'quota/two'):
            status, _, body = self.oci.request(
                'POST', '/v2/%s/blobs/uploads/?digest=%s'
                % (repo, digest_of(layer)), layer, bearer)
            self.assertEqual(201, status, body)
        status, usage = self.artifacts.json(
            'GET', '/v2/artifacts/usage',
            headers={'X-Auth-Token': project['token']})
        # In MiB, counted exactly: the layer once, in both repositories.
        self.assertEqual(len(layer) / (1024 * 1024),
                         usage['usage']['artifact_size_total']['usage'])
        other = os.urandom(600 * 1024)
        status, _, body = self.oci.request(
            'POST', '/v2/quota/two/blobs/uploads/?digest=%s'
            % digest_of(other), other, bearer)
        self.assertEqual(413, status, body)
        error = json.loads(body)['errors'][0]
        self.assertEqual('DENIED', error['code'])
        self.assertIn('artifact_size_total', error['message'])
        self.assertEqual(404, self.oci.request(
            'HEAD', '/v2/quota/two/blobs/%s' % digest_of(other),
            headers=bearer)[0])

    def test_oras_logs_in_with_an_application_credential(self):
        import oras.client
        user, secret = self.application_credential(
            self.keystone.new_project())
        host = '127.0.0.1:%d' % self.oci.port
        client = oras.client.OrasClient(hostname=host, insecure=True)
        work = tempfile.mkdtemp(dir=self.root)
        client.login(username=user, password=secret, hostname=host,
                     config_path=os.path.join(work, 'config.json'))
        with open(os.path.join(work, 'app.wasm'), 'wb') as f:
            f.write(os.urandom(5000))
        old = os.getcwd()
        os.chdir(work)
        try:
            response = client.push(target=host + '/logged/in:v1',
                                   files=['app.wasm'])
        finally:
            os.chdir(old)
        self.assertEqual(201, response.status_code)
        pulled = client.pull(target=host + '/logged/in:v1',
                             outdir=os.path.join(work, 'out'))
        with open(pulled[0], 'rb') as f, \
                open(os.path.join(work, 'app.wasm'), 'rb') as g:
            self.assertEqual(g.read(), f.read())

    def test_a_deactivated_repository_is_for_administrators_only(self):
        project = self.keystone.new_project()
        bearer = {'Authorization': 'Bearer ' + project['token'],
                  'Content-Type': 'application/octet-stream'}
        status, _, _ = self.oci.request(
            'POST', '/v2/shut/down/blobs/uploads/?digest=%s'
            % digest_of(b'data'), b'data', bearer)
        self.assertEqual(201, status)
        status, listed = self.artifacts.json(
            'GET', '/v2/artifacts/oci_repositories?name=shut/down',
            headers={'X-Auth-Token': project['token']})
        [repo] = listed['artifacts']
        admin = {'X-Auth-Token': self.keystone.token('admin_a')}
        status, _ = self.artifacts.json(
            'POST', '/v2/artifacts/oci_repositories/%s/actions/deactivate'
            % repo['id'], headers=admin)
        self.assertEqual(204, status)
        for method, path, body in (
                ('GET', '/v2/shut/down/blobs/%s' % digest_of(b'data'), None),
                ('POST', '/v2/shut/down/blobs/uploads/?digest=%s'
                 % digest_of(b'more'), b'more')):
            status, _, answer = self.oci.request(method, path, body, bearer)
            self.assertEqual(403, status)
            self.assertEqual('DENIED',
                             json.loads(answer)['errors'][0]['code'])
            self.assertIn('deactivated', json.loads(answer)['errors'][0][
                'message'])

    def test_a_repository_shared_with_a_project_is_pulled_by_it(self):
        owner = self.keystone.new_project()
        member = self.keystone.new_project()
        data = os.urandom(1000)
        status, _, _ = self.oci.request(
            'POST', '/v2/shared/app/blobs/uploads/?digest=%s'
            % digest_of(data), data,
            {'Authorization': 'Bearer ' + owner['token'],
             'Content-Type': 'application/octet-stream'})
        self.assertEqual(201, status)
        path = '/v2/shared/app/blobs/%s' % digest_of(data)
        as_member = {'Authorization': 'Bearer ' + member['token']}
        self.assertEqual(404, self.oci.request('GET', path,
                                               headers=as_member)[0])
        status, listed = self.artifacts.json(
            'GET', '/v2/artifacts/oci_repositories?name=shared/app',
            headers={'X-Auth-Token': owner['token']})
        repo = '/v2/artifacts/oci_repositories/' + \
            listed['artifacts'][0]['id']
        for method, url, body, token in (
                ('PATCH', repo, [{'op': 'replace', 'path': '/visibility',
                                  'value': 'shared'}], owner['token']),
                ('POST', repo + '/members',
                 {'member': member['project_id']}, owner['token']),
                ('PUT', repo + '/members/' + member['project_id'],
                 {'status': 'accepted'}, member['token'])):
            headers = {'X-Auth-Token': token}
            if method == 'PATCH':
                headers['Content-Type'] = ('application/openstack-images-'
                                           'v2.1-json-patch')
            status, answer = self.artifacts.json(method, url, body, headers)
            self.assertEqual(200, status, answer)
        # A blob of the repository's project that no manifest names is
        # the owner's only; once a manifest names it, the member pulls it.
        self.assertEqual(404, self.oci.request('GET', path,
                                               headers=as_member)[0])
        self.push_manifest_as(owner, 'shared/app', 'v1', data)
        status, _, got = self.oci.request('GET', path, headers=as_member)
        self.assertEqual((200, data), (status, got))
        status, _, _ = self.oci.request(
            'POST', '/v2/shared/app/blobs/uploads/', headers=as_member)
        self.assertEqual(403, status)

    def push_manifest_as(self, project, repo, tag, layer):
        bearer = {'Authorization': 'Bearer ' + project['token']}
        for blob in (b'{}', layer):
            status, _, _ = self.oci.request(
                'POST', '/v2/%s/blobs/uploads/?digest=%s'
                % (repo, digest_of(blob)), blob,
                dict(bearer, **{'Content-Type': 'application/octet-stream'}))
            self.assertEqual(201, status)
        content = json.dumps({
            'schemaVersion': 2, 'mediaType': MANIFEST,
            'config': descriptor(b'{}', EMPTY),
            'layers': [descriptor(layer)]}).encode()
        status, _, body = self.oci.request(
            'PUT', '/v2/%s/manifests/%s' % (repo, tag), content,
            dict(bearer, **{'Content-Type': MANIFEST}))
        self.assertEqual(201, status, body)
