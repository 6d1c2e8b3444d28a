"""The README's walk-through works as written against a real server."""

import os
import json
import re
import subprocess
import sys
import tempfile

from tests import base
from tests.e2e import test_oci
from tests.e2e import test_server


def walkthrough(heading='## Walk-through'):
    """The first shell block under ``heading`` in the README."""
    with open(os.path.join(base.ROOT, 'README.md')) as f:
        text = f.read()
    section = text.split(heading + '\n', 1)[1].split('\n## ', 1)[0]
    return re.search(r'```sh\n(.*?)```', section, re.S).group(1)


class TestReadme(test_server.ServerTest):
    # As `tools/dev.py serve` runs: content inspection on.
    options = {'inspect_content': True}

    def test_quick_start_has_the_two_commands(self):
        with open(os.path.join(base.ROOT, 'README.md')) as f:
            text = f.read()
        quick = text.split('## Quick start', 1)[1].split('\n## ', 1)[0]
        block = re.search(r'```sh\n(.*?)```', quick, re.S).group(1)
        self.assertEqual(['python3 tools/dev.py serve',
                          'python3 tools/dev.py test'],
                         [line.split('#')[0].strip()
                          for line in block.strip().splitlines()])

    def test_walkthrough_runs_as_written(self):
        script = walkthrough().replace('127.0.0.1:9292', '127.0.0.1:%d'
                                       % self.server.port)
        for _ in range(2):  # it cleans up after itself, so it reruns
            result = subprocess.run(['bash', '-euo', 'pipefail', '-c',
                                     script], capture_output=True,
                                    text=True, timeout=120)
            self.assertEqual(0, result.returncode,
                             result.stdout[-2000:] + result.stderr[-2000:])
        self.assertIn('"name": "wordpress"', result.stdout)
        self.assertIn('"description": "A blog"', result.stdout)
        self.assertIn('heat_template_version: 2018-08-31\n'
                      'heat_template_version', result.stdout)
        self.assertIn('"images": [', result.stdout)
        status, listed = self.server.json(
            'GET', '/v2/artifacts/heat_templates?name=wordpress')
        self.assertEqual([], listed['artifacts'])


class TestReadmeOCI(test_oci.OCITest):

    def test_oci_walkthrough_runs_as_written(self):
        script = walkthrough('### OCI clients').replace(
            '127.0.0.1:9494', '127.0.0.1:%d' % self.oci.port).replace(
            '127.0.0.1:9292', '127.0.0.1:%d' % self.artifacts.port).replace(
            '.venv/bin/python', sys.executable)
        work = tempfile.mkdtemp(dir=self.root)
        env = dict(os.environ, PATH=base.BIN + os.pathsep +
                   os.environ.get('PATH', ''))   # openstack, as installed
        for _ in range(2):  # it runs again over what it left
            result = subprocess.run(['bash', '-euo', 'pipefail', '-c',
                                     script], capture_output=True,
                                    text=True, timeout=120, cwd=work,
                                    env=env)
            self.assertEqual(0, result.returncode,
                             result.stdout[-2000:] + result.stderr[-2000:])
        # skopeo list-tags' JSON first, then skopeo copy's progress, then
        # curl's and the client's.
        tags, _end = json.JSONDecoder().raw_decode(result.stdout)
        self.assertEqual(['v1'], tags['Tags'])
        # curl's JSON ends with no newline: the client's line follows it.
        listed, end = json.JSONDecoder().raw_decode(
            result.stdout.strip().splitlines()[-1])
        version = result.stdout.strip().splitlines()[-1][end:]
        self.assertEqual({'v1'}, set(listed['artifacts'][0]['tagged']))
        status, headers, body = self.request(
            'GET', '/v2/demo/hello/manifests/v1')
        self.assertEqual('0.0.0+' + headers['Docker-Content-Digest'].replace(
            ':', '.'), version)
        manifest = json.loads(body)
        with open(os.path.join(work, 'hello-copy', 'blobs', 'sha256',
                               manifest['layers'][0]['digest'].split(
                                   ':')[1]), 'rb') as f:
            self.assertEqual(b'hello, OCI\n', f.read())
