"""The fuzz stage: schemathesis against a live glance-api, with the
OpenAPI document the server itself serves.

For each persona (an administrator, and a member of a project that is
not the owner of everything), schemathesis generates requests from the
document for GA_FUZZ_SECONDS seconds (default 60, which the whole
suite's run uses; the member again for half that with the data API
going through the registry; a longer fuzz is GA_FUZZ_SECONDS=600
tools/dev.py test tests.e2e.test_fuzz): valid and invalid
bodies, parameters and headers, and sequences that follow the links
from a create to everything done with the new artifact. Path
parameters are drawn partly from artifacts, members, tags and keys that
exist, so that requests reach more than 404s. It fails on any 5xx, any
request that takes longer than 30 seconds, any response whose status,
media type, headers or body the document does not describe, any
invalid request that is not refused, and any use of a deleted
artifact. GA_FUZZ_SEED repeats a run.

Schemathesis runs with one worker: with several, Python 3.11's ast.parse,
which hypothesis calls to describe its filters, fails now and then when
two threads call it at once ("AST constructor recursion depth
mismatch"), and the run ends with an error of the tool's own.
"""

import json
import os
import re
import subprocess
import uuid

import testtools
import testtools.content

from glance.artifacts import fields as f
from glance.artifacts import loader
from tests import base
from tests.e2e import server as server_mod

SECONDS = int(os.environ.get('GA_FUZZ_SECONDS', '60'))
CHECKS = ('not_a_server_error', 'status_code_conformance',
          'content_type_conformance', 'response_headers_conformance',
          'response_schema_conformance', 'negative_data_rejection',
          'use_after_free', 'ensure_resource_availability',
          'unsupported_method', 'allow_header_conformance',
          'missing_required_header')
# The first single blob of every type the server serves, where seeds get
# data.
BLOBS = {name: next(n for n, fd in sorted(t.fields.items())
                    if type(fd) is f.Blob)
         for name, t in loader.load_types(
             base.ALL_TYPES.split(',')).items()}
# Refusals of invalid requests, the WSGI server's own (414, 431)
# included.
REFUSALS = [400, 401, 403, 404, 405, 406, 409, 413, 414, 415, 416, 422,
            431]
CONFIG = '''\
base-url = "{url}/v2/artifacts"
max-time = {seconds}
request-timeout = 30
workers = 1
{seed}
[headers]
{headers}

[generation]
database = "none"

[checks]
enabled = false
{checks}
negative_data_rejection.expected-statuses = {refusals}

[phases.examples]
enabled = false

[parameters]
"path.artifact_id" = {{ dictionary = "ids", probability = 0.7 }}
"path.member" = {{ dictionary = "members", probability = 0.5 }}
"path.tag" = {{ dictionary = "tags", probability = 0.5 }}
"path.key" = {{ dictionary = "keys", probability = 0.5 }}

[dictionaries.ids]
values = {ids}

[dictionaries.members]
values = {members}

[dictionaries.tags]
values = ["t1", "t2"]

[dictionaries.keys]
values = ["k1", "main.yaml"]
'''


class FuzzTest(testtools.TestCase):

    def setUp(self):
        super(FuzzTest, self).setUp()
        self.admin = base.identity(roles=('admin', 'member', 'reader'))
        self.member = base.identity()
        self.other = base.identity()

    def seed(self, identity, visibility, protected=False, **fields):
        """One artifact of every type, with data and a tag; [(type, id)]."""
        ids = []
        for type_name in sorted(BLOBS):
            if type_name == 'images':
                ids.append((type_name, self.seed_image(
                    identity, visibility, protected)))
                continue
            status, art = self.server.json(
                'POST', '/v2/artifacts/%s' % type_name,
                dict(fields, name='seed-%s' % uuid.uuid4().hex[:8],
                     visibility=visibility, tags=['t1']), identity)
            self.assertEqual(201, status, art)
            status, _h, body = self.server.request(
                'PUT', '%s/%s' % (art['self'], BLOBS[type_name]), b'data',
                dict(identity, **{'Content-Type':
                                  'application/octet-stream'}))
            self.assertEqual(204, status, body)
            if protected:
                self.server.json('PATCH', art['self'], [
                    {'op': 'replace', 'path': '/protected', 'value': True}],
                    dict(identity, **{'Content-Type':
                                      'application/json-patch+json'}))
            ids.append((type_name, art['id']))
        return ids

    def seed_image(self, identity, visibility, protected):
        """An image with data and a tag, made with Glance's /v2/images."""
        status, image = self.server.json(
            'POST', '/v2/images',
            {'name': 'seed-%s' % uuid.uuid4().hex[:8], 'tags': ['t1'],
             'disk_format': 'raw', 'container_format': 'bare',
             'visibility': visibility, 'protected': protected}, identity)
        self.assertEqual(201, status, image)
        status, _h, body = self.server.request(
            'PUT', '/v2/images/%s/file' % image['id'], b'data',
            dict(identity, **{'Content-Type': 'application/octet-stream'}))
        self.assertEqual(204, status, body)
        return image['id']

    def start(self, mode):
        self.root, cleanup = base.make_tempdir('ga-e2e-fuzz-')
        self.addCleanup(cleanup)
        self.server = server_mod.make_server(self, self.root,
                                             flavor='testauth', workers=2,
                                             threads=4, mode=mode)
        self.server.sync()
        self.server.start()
        self.addCleanup(self.server.stop)

    def fuzz(self, identity, mode='sqlalchemy', seconds=SECONDS):
        self.start(mode)
        shared = self.seed(self.member, 'shared')
        for type_name, art_id in shared:
            status, _b = self.server.json(
                'POST', '%s/%s/members' % (
                    '/v2/images' if type_name == 'images'
                    else '/v2/artifacts/' + type_name, art_id),
                {'member': self.other['X-Project-Id']}, self.member)
            self.assertEqual(200, status)
        ids = [art_id for _t, art_id in (
            self.seed(self.admin, 'public', protected=True) + shared +
            self.seed(self.member, 'private', protected=True) +
            self.seed(self.other, 'private'))] + [str(uuid.uuid4())]
        members = [identity['X-Project-Id'], self.other['X-Project-Id'],
                   'someone-else']
        status, _h, document = self.server.request(
            'GET', '/v2/artifacts/openapi.json', headers=identity)
        self.assertEqual(200, status)
        path = os.path.join(self.root, 'openapi.json')
        with open(path, 'wb') as f:
            f.write(document)
        headers = dict(identity, Accept='application/json')
        config = os.path.join(self.root, 'schemathesis.toml')
        seed = os.environ.get('GA_FUZZ_SEED')
        with open(config, 'w') as f:
            f.write(CONFIG.format(
                url=self.server.url, seconds=seconds,
                seed='seed = %d' % int(seed) if seed else '',
                headers='\n'.join('"%s" = "%s"' % kv
                                  for kv in sorted(headers.items())),
                checks='\n'.join('%s.enabled = true' % c for c in CHECKS),
                ids=json.dumps(ids), members=json.dumps(members),
                refusals=json.dumps(REFUSALS)))
        run = subprocess.run(
            [os.path.join(base.BIN, 'st'), '--config-file', config,
             '--no-color', 'run', path],
            capture_output=True, text=True, cwd=self.root,
            timeout=seconds + 600)
        output = run.stdout + run.stderr
        self.addDetail('schemathesis', testtools.content.text_content(
            output[-20000:]))
        self.assertEqual(0, run.returncode, output[-20000:])
        generated = re.search(r'(\d+) generated', output)
        self.assertIsNotNone(generated, output[-3000:])
        # That it generated requests at all, not how fast: a loaded
        # machine generates fewer (tens per second here when quiet).
        self.assertGreaterEqual(int(generated.group(1)), seconds)
        # The server logged no error of its own either.
        self.assertNotIn('Traceback', self.server.output())

    def test_fuzz_as_an_administrator(self):
        self.fuzz(self.admin)

    def test_fuzz_as_a_project_member(self):
        self.fuzz(self.member)

    def test_fuzz_as_a_project_member_through_the_registry(self):
        self.fuzz(self.member, mode='registry', seconds=SECONDS // 2)
