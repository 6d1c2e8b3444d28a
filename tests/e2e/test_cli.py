"""The command-line client (client/, ``openstack artifact ...``) and its
Python API against a real glance-api under gunicorn with the artifacts
mount: the real ``openstack`` command of the venv, run as a subprocess,
with no auth (``--os-auth-type none --os-endpoint``, as against
``tools/dev.py serve``) and with a real Keystone (tests/keystone.py:
tokens, the catalog's image endpoint, clouds.yaml, regions and
interfaces).

Each ``openstack`` invocation costs about a second of start-up, so each
test runs a whole session rather than a command. The servers list two
artifacts a page (``[artifacts] limit_param_default = 2``), so that a
list of three follows a next link.
"""

import atexit
import hashlib
import io
import json
import os
import re
import subprocess
import threading
import uuid

import testtools

from glance_artifacts_client import client as client_mod
from glance_artifacts_client import exceptions as client_exc
from tests import base
from tests.e2e import server as server_mod
from tests.e2e import test_readme
from tests.e2e import test_server
from tests import keystone

OPENSTACK = os.path.join(base.BIN, 'openstack')
MiB = 2 ** 20
PAGE_OF_TWO = '\n[artifacts]\nlimit_param_default = 2\n'
HT = 'heat_templates'
# The last state of a finished progress bar on stderr.
DONE_BAR = re.compile(r'100% \[#{30}\] 5\.0/5\.0 MiB  [0-9]+(\.[0-9])? '
                      r'(B|KiB|MiB|GiB)/s  in [0-9]:[0-9]{2}:[0-9]{2}')
FIRST_BAR = ('0% [                              ] 0.0/5.0 MiB  0 B/s  '
             'ETA --:--:--')


def cli_env(**variables):
    """The environment of an ``openstack`` run: this one without OS_*
    variables, the venv's bin first on PATH, and ``variables``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    env['PATH'] = base.BIN + os.pathsep + env.get('PATH', '')
    env.update(variables)
    return env


def digests(data):
    return (hashlib.md5(data).hexdigest(),
            hashlib.sha512(data).hexdigest())


def progress_states(stderr):
    """The states a progress bar went through, in order."""
    return [s.strip() for s in re.split('[\r\n]', stderr) if s.strip()]


class CliMixin(object):
    """Running ``openstack`` as a subprocess (a mixin of TestCases)."""

    def openstack(self, *args, env=None, expect=0, stdin=None):
        """The finished process (stdout bytes, stderr text) of
        ``openstack ARGS``; fails the test unless it exits ``expect``."""
        result = subprocess.run([OPENSTACK] + list(args), input=stdin,
                                capture_output=True, env=env or self.env,
                                cwd=self.workdir, timeout=180)
        result.stderr = result.stderr.decode('utf-8', 'replace')
        self.assertEqual(
            expect, result.returncode,
            'openstack %s exited %s\nstdout: %s\nstderr: %s'
            % (' '.join(args), result.returncode,
               result.stdout[-2000:].decode('utf-8', 'replace'),
               result.stderr[-3000:]))
        return result

    def json_of(self, *args, env=None):
        return json.loads(self.openstack(*(args + ('-f', 'json')),
                                         env=env).stdout)

    def error_of(self, *args, env=None):
        """stderr of ``openstack ARGS``, which must fail with exit 1 and
        without a traceback."""
        result = self.openstack(*args, env=env, expect=1)
        self.assertNotIn('Traceback', result.stderr)
        return result.stderr

    def make_file(self, name, data):
        path = os.path.join(self.workdir, name)
        with open(path, 'wb') as f:
            f.write(data)
        return path

    def read_file(self, name):
        with open(os.path.join(self.workdir, name), 'rb') as f:
            return f.read()

    def create_versions(self, name, versions, *options, env=None):
        """Create artifact ``name`` in each of ``versions``; their ids."""
        return [self.openstack('artifact', 'create', HT, '--name', name,
                               '--artifact-version', v, '-f', 'value',
                               '-c', 'id', *options, env=env)
                .stdout.decode().strip() for v in versions]

    def check_upload_with_progress(self, name, data, env=None):
        """Upload ``data`` (5 MiB) as the template of ``name`` 2.0.0 with
        --progress: the blob the command shows, and the bar it drew."""
        path = self.make_file(name + '.yaml', data)
        result = self.openstack(
            'artifact', 'upload', HT, name, 'template', '--file', path,
            '--artifact-version', '2.0.0', '--progress', '-f', 'json',
            env=env)
        blob = json.loads(result.stdout)
        md5, sha512 = digests(data)
        self.assertEqual(
            {'status': 'active', 'size': len(data), 'checksum': md5,
             'os_hash_algo': 'sha512', 'os_hash_value': sha512,
             'content_type': 'application/octet-stream', 'stores': 'fs',
             'os_glance_importing_to_stores': '',
             'os_glance_failed_import': ''},
            {k: v for k, v in blob.items() if k != 'url'})
        states = progress_states(result.stderr)
        self.assertEqual(FIRST_BAR, states[0])
        self.assertRegex(states[-1], '^%s$' % DONE_BAR.pattern)
        self.assertTrue(result.stderr.endswith('\n'))
        return blob

    def check_list_of_three_pages(self, name, ids, env=None, long=False):
        """``artifact list --name`` shows the three versions of ``name``
        (two pages); with --limit 1 only the newest. The rows."""
        rows = self.json_of('artifact', 'list', HT, '--name', name,
                            *(('--long',) if long else ()), env=env)
        self.assertEqual(
            [(ids[2], name, '2.0.0', 'drafted'),
             (ids[1], name, '1.1.0', 'drafted'),
             (ids[0], name, '1.0.0', 'drafted')],
            [(r['ID'], r['Name'], r['Version'], r['Status']) for r in rows])
        limited = self.json_of('artifact', 'list', HT, '--name', name,
                               '--limit', '1', env=env)
        self.assertEqual([ids[2]], [r['ID'] for r in limited])
        return rows


class TestCliWithoutAuth(CliMixin, test_server.ServerTest):
    """``openstack --os-auth-type none --os-endpoint URL artifact ...``
    against a no-auth glance-api with a filesystem store."""

    options = {'store': 'file', 'extra': PAGE_OF_TWO}

    def setUp(self):
        super(TestCliWithoutAuth, self).setUp()
        self.workdir, cleanup = base.make_tempdir('ga-cli-')
        self.addCleanup(cleanup)
        self.env = cli_env(OS_AUTH_TYPE='none', OS_ENDPOINT=self.server.url)

    def store_files(self):
        return set(os.listdir(os.path.join(self.root, 'store')))

    def status_of(self, art_id):
        return self.server.json('GET', '/v2/artifacts/%s/%s'
                                % (HT, art_id))[1]['status']

    def test_create_upload_list_show_activate_download_share_delete(self):
        name = 'wordpress-%s' % uuid.uuid4().hex[:8]
        # The global options do what OS_AUTH_TYPE and OS_ENDPOINT do.
        first = self.openstack(
            '--os-auth-type', 'none', '--os-endpoint', self.server.url,
            'artifact', 'create', HT, '--name', name, '--artifact-version',
            '1.0.0', '--tag', 'web', '-f', 'value', '-c', 'id',
            env=cli_env()).stdout.decode().strip()
        ids = [first] + self.create_versions(name, ['1.1.0'], '--tag', 'web')
        created = self.json_of(
            'artifact', 'create', HT, '--name', name,
            '--artifact-version', '2.0.0', '--tag', 'web', '--tag', 'blog',
            '--description', 'A blog', '--metadata', 'team=web',
            '--property', 'default_envs=["prod"]')
        ids.append(created['id'])
        self.assertEqual(
            {'name': name, 'version': '2.0.0', 'status': 'drafted',
             'tags': ['blog', 'web'], 'description': 'A blog',
             'metadata': {'team': 'web'}, 'default_envs': ['prod'],
             'template': None, 'visibility': 'private'},
            {k: created[k] for k in ('name', 'version', 'status', 'tags',
                                     'description', 'metadata',
                                     'default_envs', 'template',
                                     'visibility')})

        data = os.urandom(5 * MiB)
        self.check_upload_with_progress(name, data)
        # From stdin, into an entry of a blob dict, in another store.
        nested = b'heat_template_version: 2018-08-31\n'
        fs2 = os.path.join(self.root, 'fs2')
        before = set(os.listdir(fs2))
        self.openstack('artifact', 'upload', HT, ids[2],
                       'nested_templates/db.yaml', '--file', '-',
                       '--store', 'fs2', stdin=nested)
        stored, = set(os.listdir(fs2)) - before
        with open(os.path.join(fs2, stored), 'rb') as f:
            self.assertEqual(nested, f.read())

        self.check_list_of_three_pages(name, ids)
        self.assertEqual(
            "3 heat_templates artifacts are named '%s', of versions 1.0.0, "
            "1.1.0, 2.0.0: give a version (or 'latest'), or an id\n" % name,
            self.error_of('artifact', 'show', HT, name))
        shown = self.json_of('artifact', 'show', HT, name,
                             '--artifact-version', 'latest')
        self.assertEqual((ids[2], '2.0.0'), (shown['id'], shown['version']))
        self.assertEqual(len(data), shown['template']['size'])
        self.assertEqual(['db.yaml'], sorted(shown['nested_templates']))

        self.openstack('artifact', 'activate', HT, name,
                       '--artifact-version', 'latest')
        self.assertEqual('active', self.status_of(ids[2]))
        self.openstack('artifact', 'deactivate', HT, ids[2])
        self.assertEqual('deactivated', self.status_of(ids[2]))
        self.openstack('artifact', 'reactivate', HT, name,
                       '--artifact-version', '2.0.0')
        self.assertEqual('active', self.status_of(ids[2]))
        result = self.openstack('artifact', 'download', HT, name, 'template',
                                '--artifact-version', '2.0.0', '--file',
                                'copy.yaml', '--progress')
        self.assertEqual(data, self.read_file('copy.yaml'))
        self.assertEqual(b'', result.stdout)
        self.assertRegex(progress_states(result.stderr)[-1],
                         '^%s$' % DONE_BAR.pattern)
        self.assertEqual(['copy.yaml', name + '.yaml'],
                         sorted(os.listdir(self.workdir)))
        result = self.openstack('artifact', 'download', HT, ids[2],
                                'nested_templates/db.yaml')
        self.assertEqual(nested, result.stdout)

        self.openstack('artifact', 'set', HT, ids[2], '--visibility',
                       'shared')
        member = self.json_of('artifact', 'member', 'add', HT, ids[2],
                              'project-b')
        self.assertEqual(('project-b', 'pending', ids[2]),
                         (member['member_id'], member['status'],
                          member['artifact_id']))
        self.assertEqual(
            [['project-b', 'pending']],
            [[m['Member ID'], m['Status']] for m in self.json_of(
                'artifact', 'member', 'list', HT, ids[2])])
        self.openstack('artifact', 'member', 'delete', HT, ids[2],
                       'project-b')
        self.assertEqual([], self.server.json(
            'GET', '/v2/artifacts/%s/%s/members' % (HT, ids[2]))[1]
            ['members'])

        self.openstack('artifact', 'delete', HT, *ids)
        self.assertEqual(
            "No heat_templates artifact with the name or id '%s' version "
            "latest\n" % name,
            self.error_of('artifact', 'show', HT, name,
                          '--artifact-version', 'latest'))
        status, listed = self.server.json(
            'GET', '/v2/artifacts/heat_templates?name=%s' % name)
        self.assertEqual([], listed['artifacts'])

    def test_set_and_unset_change_fields_metadata_and_tags(self):
        name = 'tpl-%s' % uuid.uuid4().hex[:8]
        art_id, = self.create_versions(name, ['1.0.0'], '--tag', 'a',
                                       '--metadata', 'team=web')
        self.openstack('artifact', 'set', HT, name, '--description', 'd',
                       '--tag', 'b', '--metadata', 'owner=ops',
                       '--new-artifact-version', '1.0.1', '--protected')
        status, art = self.server.json('GET', '/v2/artifacts/%s/%s'
                                       % (HT, art_id))
        self.assertEqual(('d', ['a', 'b'], {'team': 'web', 'owner': 'ops'},
                          '1.0.1', True),
                         (art['description'], art['tags'], art['metadata'],
                          art['version'], art['protected']))
        self.assertEqual(
            'The artifact %s has no tag c; nothing was changed\n' % art_id,
            self.error_of('artifact', 'unset', HT, name, '--tag', 'c',
                          '--description'))
        self.openstack('artifact', 'unset', HT, name, '--tag', 'a',
                       '--metadata', 'team', '--description')
        self.openstack('artifact', 'set', HT, name, '--unprotected')
        self.openstack('artifact', 'tag', 'add', HT, name, 'x', 'y', 'b')
        self.openstack('artifact', 'tag', 'remove', HT, art_id, 'y')
        status, art = self.server.json('GET', '/v2/artifacts/%s/%s'
                                       % (HT, art_id))
        self.assertEqual((None, ['b', 'x'], {'owner': 'ops'}, False),
                         (art['description'], art['tags'], art['metadata'],
                          art['protected']))
        self.openstack('artifact', 'delete', HT, art_id)

    def test_errors_show_the_servers_message_and_no_traceback(self):
        stderr = self.error_of('artifact', 'create', HT, '--name', 'x',
                               '--artifact-version', '1.0')
        self.assertRegex(
            stderr,
            r"^Invalid value for 'version': '1\.0' is not a Semantic "
            r"Version 2\.0 string such as 1\.0\.0, 2\.1\.0-rc\.1 or "
            r"1\.0\.0\+build\.5 \(HTTP 400\) \(Request-ID: req-[0-9a-f-]+\)"
            r"\n$")
        stderr = self.error_of('artifact', 'list', 'no_such_type')
        self.assertRegex(
            stderr,
            r"^Unknown artifact type 'no_such_type'; the enabled types are: "
            r"heat_environments, heat_templates, images, murano_packages, "
            r"sample_artifacts, tosca_templates \(HTTP 404\) "
            r"\(Request-ID: req-[0-9a-f-]+\)\n$")

    def test_list_by_a_name_pattern_and_any_of_some_tags(self):
        prefix = 'like-%s' % uuid.uuid4().hex[:8]
        ids = {}
        for suffix, tags in (('web', ['web']), ('db', ['db,sql']),
                             ('none', []), ('Web', ['web'])):
            ids[suffix] = self.server.json('POST', '/v2/artifacts/' + HT, {
                'name': '%s-%s' % (prefix, suffix), 'tags': tags})[1]['id']
        rows = self.json_of('artifact', 'list', HT, '--name-like',
                            prefix + '-%', '--sort', 'name:asc')
        self.assertEqual([ids[s] for s in ('Web', 'db', 'none', 'web')],
                         [r['ID'] for r in rows])
        rows = self.json_of('artifact', 'list', HT, '--name-like',
                            prefix + '-_e_', '--tag-any', 'web',
                            '--tag-any', 'db,sql', '--sort', 'name:asc')
        self.assertEqual([ids['Web'], ids['web']], [r['ID'] for r in rows])
        rows = self.json_of('artifact', 'list', HT, '--name-like',
                            prefix + '%', '--tag-any', 'db,sql',
                            '--tag-any', 'nothing')
        self.assertEqual([ids['db']], [r['ID'] for r in rows])
        self.assertEqual(
            '--tag-any cannot give a tag with a double quote; use --tag\n',
            self.error_of('artifact', 'list', HT, '--tag-any', 'a"b'))

    def test_import_copies_to_a_store_and_store_delete_drops_a_copy(self):
        name = 'copied-%s' % uuid.uuid4().hex[:8]
        art_id = self.server.json('POST', '/v2/artifacts/' + HT,
                                  {'name': name})[1]['id']
        self.openstack('artifact', 'upload', HT, name, 'template', '--file',
                       self.make_file(name, b'heat_template_version: x\n'))
        blob = self.json_of('artifact', 'import', HT, name, 'template',
                            '--store', 'fs2')
        self.assertIn(blob['os_glance_importing_to_stores'], ('fs2', ''))
        base.wait_for(lambda: self.server.json(
            'GET', '/v2/artifacts/%s/%s' % (HT, art_id))[1]['template'][
                'stores'] == 'fs,fs2')
        self.assertEqual(1, len(os.listdir(os.path.join(self.root,
                                                        'fs2'))))
        self.assertIn("already has its data in every store", self.error_of(
            'artifact', 'import', HT, name, 'template', '--all-stores'))
        self.openstack('artifact', 'store', 'delete', 'fs', HT, name,
                       'template')
        self.assertEqual('fs2', self.json_of(
            'artifact', 'show', HT, name)['template']['stores'])
        self.assertIn('holds the only copy', self.error_of(
            'artifact', 'store', 'delete', 'fs2', HT, name, 'template'))
        self.assertEqual(b'heat_template_version: x\n', self.openstack(
            'artifact', 'download', HT, name, 'template', '--file',
            '-').stdout)

    def test_stage_then_glance_direct_import_stores_the_staged_bytes(self):
        name = 'staged-%s' % uuid.uuid4().hex[:8]
        art_id = self.server.json('POST', '/v2/artifacts/' + HT,
                                  {'name': name})[1]['id']
        data = os.urandom(3 * MiB)
        md5, sha512 = digests(data)

        def template():
            return self.server.json('GET', '/v2/artifacts/%s/%s'
                                    % (HT, art_id))[1]['template']

        staged = self.json_of('artifact', 'stage', HT, name, 'template',
                              '--file', self.make_file('staged', data))
        self.assertEqual(('uploading', len(data), md5, sha512),
                         (staged['status'], staged['size'],
                          staged['checksum'], staged['os_hash_value']))
        blob = self.json_of('artifact', 'import', HT, name, 'template',
                            '--method', 'glance-direct')
        self.assertIn(blob['status'], ('importing', 'active'))
        base.wait_for(lambda: template()['status'] == 'active')
        blob = template()
        self.assertEqual((len(data), md5, sha512, 'fs', ''),
                         (blob['size'], blob['checksum'],
                          blob['os_hash_value'], blob['stores'],
                          blob['os_glance_failed_import']))
        self.assertEqual(data, self.openstack(
            'artifact', 'download', HT, name, 'template', '--file',
            '-').stdout)
        # The staged data went with the import.
        self.assertIn('(HTTP 409)', self.error_of(
            'artifact', 'import', HT, name, 'template', '--method',
            'glance-direct'))
        # web-download needs a URI; the client says so before any request.
        self.assertEqual('web-download needs --uri\n', self.error_of(
            'artifact', 'import', HT, name, 'template', '--method',
            'web-download'))
        self.assertEqual('copy-blob needs --store or --all-stores\n',
                         self.error_of('artifact', 'import', HT, name,
                                       'template'))
        self.openstack('artifact', 'delete', HT, art_id)

    def test_a_corrupted_download_fails_and_leaves_no_file(self):
        name = 'corrupt-%s' % uuid.uuid4().hex[:8]
        art_id, = self.create_versions(name, ['1.0.0'])
        data = os.urandom(3 * MiB)
        before = self.store_files()
        self.openstack('artifact', 'upload', HT, name, 'template', '--file',
                       self.make_file('data', data))
        stored, = self.store_files() - before
        # The store's bytes change behind the server's back: one byte in
        # the middle, the size unchanged.
        with open(os.path.join(self.root, 'store', stored), 'r+b') as f:
            f.seek(len(data) // 2)
            f.write(bytes([data[len(data) // 2] ^ 0xff]))
            f.seek(0)
            corrupted = f.read()
        expected_md5, got_md5 = digests(data)[0], digests(corrupted)[0]
        message = ('The data of heat_templates %s template does not match '
                   'its MD5: the server gave %s, the data received has %s\n'
                   % (art_id, expected_md5, got_md5))

        target = os.path.join(self.workdir, 'out', 'template.yaml')
        os.mkdir(os.path.dirname(target))
        self.assertEqual(message, self.error_of(
            'artifact', 'download', HT, name, 'template', '--file', target))
        self.assertEqual([], os.listdir(os.path.dirname(target)))
        # A file that was there is left as it was.
        with open(target, 'wb') as f:
            f.write(b'previous')
        self.assertEqual(message, self.error_of(
            'artifact', 'download', HT, art_id, 'template', '--file',
            target))
        self.assertEqual(['template.yaml'],
                         os.listdir(os.path.dirname(target)))
        with open(target, 'rb') as f:
            self.assertEqual(b'previous', f.read())
        self.openstack('artifact', 'delete', HT, art_id)


class TestCliReadme(CliMixin, test_server.ServerTest):
    """The README's walk-through with the client, against a server with
    content inspection on, as `tools/dev.py serve` runs it."""

    options = {'store': 'file', 'inspect_content': True}

    def setUp(self):
        super(TestCliReadme, self).setUp()
        self.workdir, cleanup = base.make_tempdir('ga-cli-')
        self.addCleanup(cleanup)

    def test_readme_walkthrough_with_the_cli_runs_as_written(self):
        script = readme_cli_block().replace(
            'http://127.0.0.1:9292', self.server.url)
        # Once: its last command deletes what it made (checked below).
        result = subprocess.run(
            ['bash', '-euo', 'pipefail', '-c', script],
            capture_output=True, text=True, timeout=300, env=cli_env(),
            cwd=self.workdir)
        self.assertEqual(0, result.returncode,
                         result.stdout[-3000:] + result.stderr[-3000:])
        self.assertRegex(result.stdout, r'\| name +\| wordpress ')
        self.assertIn('| description | A blog     |\n'
                      "| metadata    | team='web' |\n", result.stdout)
        self.assertIn('heat_template_version: 2018-08-31\n', result.stdout)
        self.assertRegex(result.stdout, r'\| template +\| object +\| '
                                        r'read-only, required_on_activate')
        self.assertRegex(progress_states(result.stderr)[-1],
                         r'^100% \[#{30}\] 34/34 B  ')
        status, listed = self.server.json(
            'GET', '/v2/artifacts/heat_templates?name=wordpress')
        self.assertEqual([], listed['artifacts'])


def readme_cli_block():
    """The second ```sh block of the README's walk-through: the same
    walk-through with the command-line client."""
    with open(os.path.join(base.ROOT, 'README.md')) as f:
        text = f.read()
    section = text.split('## Walk-through', 1)[1].split('\n## ', 1)[0]
    curl, cli = re.findall(r'```sh\n(.*?)```', section, re.S)[:2]
    if curl != test_readme.walkthrough():
        raise AssertionError('The curl walk-through is not the first block')
    return cli


class _KeystoneDeployment(object):
    """One glance-api in Glance's keystone pipeline for the test process,
    whose URL is the image endpoint of the tests' Keystone in RegionOne;
    and a region of its own whose public image endpoint answers nothing
    and whose internal one is the glance-api, with /v2 at its end."""

    _instance = None

    @classmethod
    def get(cls):
        """The deployment; the error of the first try again on every
        later one (an error, not a skip: the venv has Keystone)."""
        if cls._instance is None:
            try:
                cls._instance = cls()
            except Exception as e:
                cls._instance = e
        if isinstance(cls._instance, Exception):
            raise cls._instance
        return cls._instance

    def __init__(self):
        keystone.start_in_background()
        self.root, cleanup = base.make_tempdir('ga-cli-keystone-')
        atexit.register(cleanup)
        self.keystone = ks = keystone.get()
        self.server = server_mod.Server(
            self.root, flavor='keystone', mode='sqlalchemy', store='file',
            extra=ks.glance_options() + PAGE_OF_TWO)
        atexit.register(self.server.stop)
        self.server.sync()
        self.server.start()
        ks.set_image_endpoint_url(self.server.url)
        self.region = 'Region-%s' % uuid.uuid4().hex[:8]
        self.dead_port = server_mod.free_port()
        admin = ks.system_admin_session()
        admin.post(ks.url + '/regions', json={'region': {'id': self.region}})
        for interface, url in (
                ('public', 'http://127.0.0.1:%d' % self.dead_port),
                ('internal', self.server.url + '/v2')):
            admin.post(ks.url + '/endpoints', json={'endpoint': {
                'service_id': ks.image_service_id, 'interface': interface,
                'region_id': self.region, 'url': url}})


class TestCliWithKeystone(CliMixin, testtools.TestCase):
    """``openstack artifact ...`` with real tokens: the endpoint from the
    catalog, the owner's credentials from clouds.yaml (--os-cloud), a
    member's from OS_* variables."""

    def setUp(self):
        super(TestCliWithKeystone, self).setUp()
        deployment = _KeystoneDeployment.get()
        self.keystone = ks = deployment.keystone
        self.server = deployment.server
        self.deployment = deployment
        self.workdir, cleanup = base.make_tempdir('ga-cli-ks-')
        self.addCleanup(cleanup)
        clouds = os.path.join(self.workdir, 'clouds.yaml')
        with open(clouds, 'w') as f:
            json.dump({'clouds': {'owner': {
                'auth': {'auth_url': ks.url, 'username': 'member_a',
                         'password': ks.password, 'project_name': 'A',
                         'user_domain_id': 'default',
                         'project_domain_id': 'default'},
                # The first is the default; OSC refuses any other.
                'regions': [keystone.REGION, deployment.region,
                            'NoSuchRegion'],
                'identity_api_version': '3'}}}, f)   # JSON is YAML
        self.env = cli_env(OS_CLIENT_CONFIG_FILE=clouds, OS_CLOUD='owner')
        self.member_env = cli_env(
            OS_AUTH_URL=ks.url, OS_USERNAME='member_b',
            OS_PASSWORD=ks.password, OS_PROJECT_NAME='B',
            OS_USER_DOMAIN_ID='default', OS_PROJECT_DOMAIN_ID='default',
            OS_REGION_NAME=keystone.REGION, OS_IDENTITY_API_VERSION='3')

    def test_a_whole_session_with_tokens_sharing_with_another_project(self):
        project_a = self.keystone.projects['A']
        project_b = self.keystone.projects['B']
        name = 'wordpress-%s' % uuid.uuid4().hex[:8]
        ids = self.create_versions(name, ['1.0.0', '1.1.0', '2.0.0'])
        data = os.urandom(5 * MiB)
        self.check_upload_with_progress(name, data)
        rows = self.check_list_of_three_pages(name, ids, long=True)
        self.assertEqual([project_a] * 3, [r['Project'] for r in rows])
        usage = self.json_of('artifact', 'usage')
        self.assertIn({'Resource': 'artifact_size_total',
                       'Usage': 5.0, 'Limit': None,
                       'Usage Bytes': 5 * MiB}, usage)
        shown = self.json_of('artifact', 'show', HT, name,
                             '--artifact-version', 'latest')
        self.assertEqual((ids[2], project_a, 'drafted'),
                         (shown['id'], shown['owner'], shown['status']))
        self.openstack('artifact', 'activate', HT, name,
                       '--artifact-version', '2.0.0')

        # Project B sees nothing until the owner shares it.
        self.assertEqual(
            "No heat_templates artifact with the name or id '%s' version "
            "latest\n" % name,
            self.error_of('artifact', 'show', HT, name,
                          '--artifact-version', 'latest',
                          env=self.member_env))
        self.openstack('artifact', 'set', HT, ids[2], '--visibility',
                       'shared')
        member = self.json_of('artifact', 'member', 'add', HT, ids[2],
                              project_b)
        self.assertEqual((project_b, 'pending'),
                         (member['member_id'], member['status']))
        # The member finds it by name while pending, and accepts it for
        # the project of its token.
        shown = self.json_of('artifact', 'show', HT, name,
                             '--artifact-version', 'latest',
                             env=self.member_env)
        self.assertEqual((ids[2], 'active'), (shown['id'], shown['status']))
        accepted = self.json_of('artifact', 'member', 'set', HT, name,
                                '--artifact-version', 'latest', '--accept',
                                env=self.member_env)
        self.assertEqual((project_b, 'accepted'),
                         (accepted['member_id'], accepted['status']))
        self.assertEqual(
            [ids[2]],
            [r['ID'] for r in self.json_of('artifact', 'list', HT, '--name',
                                           name, env=self.member_env)])
        self.openstack('artifact', 'download', HT, name, 'template',
                       '--artifact-version', 'latest', '--file', 'copy',
                       env=self.member_env)
        self.assertEqual(data, self.read_file('copy'))
        self.assertEqual(
            [[project_b, 'accepted']],
            [[m['Member ID'], m['Status']] for m in self.json_of(
                'artifact', 'member', 'list', HT, ids[2])])

        # The member may not delete it; the owner may.
        stderr = self.error_of('artifact', 'delete', HT, ids[2],
                               env=self.member_env)
        self.assertRegex(stderr, r"^Failed to delete artifact with name or "
                                 r"ID '%s': .*\(HTTP 403\)" % ids[2])
        self.assertTrue(stderr.endswith(
            'Failed to delete 1 of 1 artifacts.\n'), stderr)
        self.openstack('artifact', 'delete', HT, *ids)
        self.assertEqual([], self.json_of('artifact', 'list', HT, '--name',
                                          name))

    def test_region_and_interface_choose_the_catalog_endpoint(self):
        region = self.deployment.region
        # Its internal endpoint is the server (with /v2 at its end).
        types = self.json_of('--os-region-name', region, '--os-interface',
                             'internal', 'artifact', 'type', 'list')
        self.assertIn('heat_templates', [t['Name'] for t in types])
        # Its public endpoint, the default interface, answers nothing.
        stderr = self.error_of('--os-region-name', region, 'artifact',
                               'type', 'list')
        self.assertTrue(stderr.startswith(
            'Unable to establish connection to http://127.0.0.1:%d'
            '/v2/artifacts: ' % self.deployment.dead_port), stderr)
        # A region without an image endpoint.
        self.assertEqual(
            'public endpoint for image service in NoSuchRegion region not '
            'found\n',
            self.error_of('--os-region-name', 'NoSuchRegion', 'artifact',
                          'type', 'list'))


class TestPythonApi(test_server.ServerTest):
    """glance_artifacts_client.Client against a no-auth glance-api."""

    options = {'extra': PAGE_OF_TWO}

    def setUp(self):
        super(TestPythonApi, self).setUp()
        self.workdir, cleanup = base.make_tempdir('ga-api-')
        self.addCleanup(cleanup)
        self.client = client_mod.Client(endpoint=self.server.url,
                                        chunk_size=64 * 1024)
        self.art = self.client.create_artifact(
            HT, {'name': 'api-%s' % uuid.uuid4().hex[:8],
                 'version': '1.0.0'})

    def test_upload_and_download_of_several_mib_move_in_chunks(self):
        data = os.urandom(8 * MiB + 123)
        path = os.path.join(self.workdir, 'data')
        with open(path, 'wb') as f:
            f.write(data)
        reads = []

        class Recording(io.FileIO):
            def read(self, size=-1):
                reads.append(size)
                return super(Recording, self).read(size)

        sent = []
        with Recording(path, 'rb') as f:
            blob = self.client.upload_blob(
                HT, self.art['id'], 'template', f,
                progress=lambda done, total: sent.append((done, total)))
        md5, sha512 = digests(data)
        self.assertEqual((len(data), md5, sha512),
                         (blob['size'], blob['checksum'],
                          blob['os_hash_value']))
        # Read twice (checksums, then the body), a chunk at a time.
        self.assertTrue(all(0 < n <= 64 * 1024 for n in reads), reads)
        self.assertGreaterEqual(len(reads), 2 * len(data) // (64 * 1024))
        self.assertEqual((len(data), len(data)), sent[-1])

        download = self.client.download_blob(HT, self.art['id'],
                                             'template')
        self.assertEqual((len(data), md5, 'sha512', sha512),
                         (download.size, download.checksum,
                          download.os_hash_algo, download.os_hash_value))
        hasher, sizes = hashlib.md5(), set()
        for chunk in download:
            hasher.update(chunk)
            sizes.add(len(chunk))
        self.assertEqual(md5, hasher.hexdigest())
        self.assertLessEqual(max(sizes), 64 * 1024)

        copy = os.path.join(self.workdir, 'copy')
        self.client.download_blob_to_file(HT, self.art['id'], 'template',
                                          copy)
        with open(copy, 'rb') as f:
            self.assertEqual(md5, hashlib.md5(f.read()).hexdigest())

    def test_data_from_a_pipe_is_spooled_and_verified_by_the_server(self):
        data = os.urandom(3 * MiB)
        read_end, write_end = os.pipe()

        def write():
            with open(write_end, 'wb') as f:
                f.write(data)

        writer = threading.Thread(target=write)
        writer.start()
        with open(read_end, 'rb') as pipe:
            blob = self.client.upload_blob(HT, self.art['id'],
                                           'nested_templates', pipe,
                                           key='a.yaml',
                                           content_type='text/yaml')
        writer.join()
        self.assertEqual((len(data), digests(data)[0], 'text/yaml'),
                         (blob['size'], blob['checksum'],
                          blob['content_type']))
        with self.client.download_blob(HT, self.art['id'],
                                       'nested_templates', 'a.yaml') as d:
            self.assertEqual(data, b''.join(d))
            self.assertEqual('text/yaml', d.content_type)

    def test_digests_of_other_data_make_the_server_keep_nothing(self):
        client = client_mod.Client(endpoint=self.server.url,
                                   hash_algorithm='sha256')
        e = self.assertRaises(client_exc.BadRequest, client.upload_blob,
                              HT, self.art['id'], 'template', b'data')
        self.assertEqual('The expected sha512 hash does not match the data '
                         'received; nothing was kept.', e.message)
        self.assertIsNone(self.client.get_artifact(HT, self.art['id'])
                          ['template'])
        self.assertRaises(client_exc.NoData, self.client.download_blob,
                          HT, self.art['id'], 'template')

    def test_lists_follow_next_links_and_names_find_versions(self):
        name = self.art['name']
        more = [self.client.create_artifact(HT, {'name': name,
                                                 'version': v})['id']
                for v in ('1.1.0', '2.0.0-rc.1', '2.0.0')]
        # Two pages of two.
        self.assertEqual(2, len(self.server.json(
            'GET', '/v2/artifacts/heat_templates?name=' + name)[1]
            ['artifacts']))
        listed = list(self.client.list_artifacts(
            HT, {'name': name}, sort='version:asc'))
        self.assertEqual([self.art['id']] + more, [a['id'] for a in listed])
        self.assertEqual(
            [more[0], more[1]],
            [a['id'] for a in self.client.list_artifacts(
                HT, {'name': name, 'version': ['gt:1.0.0', 'lt:2.0.0']},
                sort='version:asc')])
        self.assertEqual(3, len(list(self.client.list_artifacts(
            HT, {'name': name}, limit=3))))
        self.assertEqual(more[2], self.client.find_artifact(
            HT, name, 'latest')['id'])
        self.assertEqual(more[1], self.client.find_artifact(
            HT, name, '2.0.0-rc.1')['id'])
        self.assertEqual(self.art['id'], self.client.find_artifact(
            HT, self.art['id'])['id'])
        self.assertRaises(client_exc.NoUniqueMatch,
                          self.client.find_artifact, HT, name)
        e = self.assertRaises(client_exc.NotFound, self.client.get_artifact,
                              HT, str(uuid.uuid4()))
        self.assertEqual(404, e.status_code)
        self.assertRegex(str(e), r"^no artifact with id [0-9a-f-]{36} "
                                 r"\(HTTP 404\) \(Request-ID: req-")
