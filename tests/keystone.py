"""A real Keystone for tests: Keystone 30 (PyPI ``keystone``, in the test
extras), started on a free port of 127.0.0.1 once per test process, on
first use (``get()``), and stopped at exit.

It runs in a temporary directory: a SQLite database, fernet tokens, key
repositories of its own, bootstrapped by keystone-manage, served by
gunicorn (tests/keystone_wsgi.py). Then, through its REST API as the
bootstrap admin:

- roles admin, member, reader (bootstrap makes them, with admin implying
  manager implying member implying reader) and service;
- projects A, B and service; users admin_a (admin, member, reader on A),
  member_a (member, reader on A), reader_a (reader on A), member_b
  (member, reader on B), glance (service and admin on service, reader on
  the system: oslo.limit reads limits with it), glance_svc (service on
  service: glance's service user as secure RBAC has it, without admin)
  and nova (service on service: another service), all with the password
  ``Keystone.password``;
- the service glance, of type image, with a public and an internal
  endpoint in RegionOne (``set_image_endpoint_url`` points them at a
  glance-api).

``Keystone.glance_options()`` is the glance-api.conf part that makes a
glance-api validate tokens here and read unified limits from here.
"""

import atexit
import calendar
import grp
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session
import requests

from tests import base

REGION = 'RegionOne'
ADMIN = 'admin'
IMAGE_PLACEHOLDER = 'http://127.0.0.1:9292'
USERS = {
    # user: (its project, its roles there)
    'admin_a': ('A', ('admin', 'member', 'reader')),
    'member_a': ('A', ('member', 'reader')),
    'reader_a': ('A', ('reader',)),
    'member_b': ('B', ('member', 'reader')),
    'glance': ('service', ('service', 'admin')),
    'glance_svc': ('service', ('service',)),
    'nova': ('service', ('service',)),
}
# A token is taken again this long before it expires.
TOKEN_MARGIN = 300

# keystone-manage's commands in one interpreter: the same entry point as
# the keystone-manage script, without importing Keystone four times
# (about 2 s each). "keys" on stdout once the key repositories exist: the
# server may start then, while the database is made.
_MANAGE = '''\
import os, sys
from keystone.cmd import cli
conf, user, group, url, region = sys.argv[1:]
owner = ['--keystone-user', user, '--keystone-group', group]
for command in (
        ['fernet_setup'] + owner, ['credential_setup'] + owner, None,
        ['db_sync'],
        ['bootstrap', '--bootstrap-username', 'admin',
         '--bootstrap-project-name', 'admin', '--bootstrap-role-name',
         'admin', '--bootstrap-region-id', region,
         '--bootstrap-public-url', url, '--bootstrap-internal-url', url,
         '--bootstrap-admin-url', url]):
    if command is None:
        print('keys', flush=True)
        os.dup2(2, 1)       # the rest of the output to the log
        continue
    cli.CONF.clear()
    cli.main(['keystone-manage', '--config-file', conf] + command)
'''

CONF = '''\
[DEFAULT]
log_file = {root}/keystone.log

[database]
connection = sqlite:///{root}/keystone.sqlite

[token]
provider = fernet

[fernet_tokens]
key_repository = {root}/fernet-keys

[fernet_receipts]
key_repository = {root}/fernet-receipts

[credential]
key_repository = {root}/credential-keys

[identity]
# The cheapest bcrypt allows: every token request checks a password.
password_hash_algorithm = bcrypt
password_hash_rounds = 4

[cache]
# In the server's memory: it runs as one process (of several threads),
# which sees all its own writes.
enabled = true
backend = dogpile.cache.memory
'''


class Unavailable(Exception):
    """Keystone could not be started; the text says why."""


_lock = threading.Lock()
_state = {}


def get():
    """The process-wide Keystone, started on the first call; Unavailable
    when it could not start (and again on every later call, as for any
    other error of the first)."""
    with _lock:
        if 'error' in _state:
            cls, message = _state['error']
            raise cls(message)
        if 'keystone' not in _state:
            try:
                _state['keystone'] = Keystone()
            except Exception as e:
                _state['error'] = (type(e) if isinstance(e, Unavailable)
                                   else RuntimeError, str(e))
                raise
    return _state['keystone']


def start_in_background():
    """Start the process-wide Keystone in a thread of its own, so that it
    starts while the caller does other work; get() waits for it."""
    def start():
        try:
            get()
        except Unavailable:
            pass        # get() raises it again for the caller

    threading.Thread(target=start, daemon=True).start()


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _stop(process):
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(10)


class Keystone(object):
    """A started and populated Keystone (use get())."""

    def __init__(self):
        started = time.monotonic()
        self.password = 'ga-%s' % uuid.uuid4().hex
        self._admin_password = 'ga-admin-%s' % uuid.uuid4().hex
        self.root = tempfile.mkdtemp(prefix='ga-keystone-')
        atexit.register(shutil.rmtree, self.root, ignore_errors=True)
        self.port = _free_port()
        self.url = 'http://127.0.0.1:%d/v3' % self.port
        self.conf = os.path.join(self.root, 'keystone.conf')
        with open(self.conf, 'w') as f:
            f.write(CONF.format(root=self.root))
        self.log = os.path.join(self.root, 'keystone.out')
        self.process = None
        self._tokens = {}
        self._tokens_lock = threading.Lock()
        self._projects_of = {}      # user id: its project id
        self._system_session = None
        manage = self._bootstrap()
        self._serve(manage)
        self.timings = {'keystone-manage': self._bootstrapped - started,
                        'server': self._served - started}
        self._populate()
        self.timings['populate'] = time.monotonic() - self._served
        self.timings['total'] = time.monotonic() - started

    # -- start-up --

    def _output(self):
        """The end of Keystone's log and of its processes' output."""
        found = []
        for name in ('keystone.log', 'keystone.out'):
            try:
                with open(os.path.join(self.root, name),
                          errors='replace') as f:
                    found.append('%s:\n%s' % (name, f.read()[-2500:]))
            except FileNotFoundError:
                pass
        return '\n'.join(found)

    def _bootstrap(self):
        """Start keystone-manage; return it once the key repositories
        exist (it goes on making the database)."""
        user = pwd.getpwuid(os.getuid()).pw_name
        group = grp.getgrgid(os.getgid()).gr_name
        manage = subprocess.Popen(
            [sys.executable, '-c', _MANAGE, self.conf, user, group,
             self.url, REGION],
            env=dict(os.environ, OS_BOOTSTRAP_PASSWORD=self._admin_password),
            stdout=subprocess.PIPE, stderr=open(self.log, 'ab'),
            cwd=self.root, start_new_session=True)
        atexit.register(_stop, manage)
        if manage.stdout.readline() != b'keys\n':
            self._manage_done(manage)
        return manage

    def _manage_done(self, manage):
        manage.stdout.read()
        if manage.wait():
            raise Unavailable('Keystone could not start: keystone-manage '
                              'failed (%s) in %s:\n%s'
                              % (manage.returncode, self.root,
                                 self._output()))
        self._bootstrapped = time.monotonic()

    def _serve(self, manage):
        gunicorn = os.path.join(base.BIN, 'gunicorn')
        if not os.path.exists(gunicorn):
            raise Unavailable('Keystone could not start: no %s' % gunicorn)
        self.process = subprocess.Popen(
            [gunicorn, '--bind', '127.0.0.1:%d' % self.port,
             '--workers', '1', '--threads', '8', '--timeout', '120',
             '--access-logfile', os.path.join(self.root, 'access.log'),
             '--pythonpath', base.ROOT, 'tests.keystone_wsgi:application'],
            env=dict(os.environ, OS_KEYSTONE_CONFIG_FILES=self.conf),
            cwd=self.root, stdout=open(self.log, 'ab'),
            stderr=subprocess.STDOUT, start_new_session=True)
        atexit.register(_stop, self.process)
        self._manage_done(manage)
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise Unavailable('Keystone at %s exited with %s:\n%s'
                                  % (self.url, self.process.returncode,
                                     self._output()))
            try:
                if requests.get(self.url, timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                _stop(self.process)
                raise Unavailable('Keystone at %s did not answer in 60 s:'
                                  '\n%s' % (self.url, self._output()))
            time.sleep(0.1)
        self._served = time.monotonic()

    def _populate(self):
        self._admin = requests.Session()
        self._admin.headers['X-Auth-Token'] = self._issue(
            {'user': {'name': ADMIN, 'domain': {'id': 'default'},
                      'password': self._admin_password}},
            {'project': {'name': ADMIN, 'domain': {'id': 'default'}}})[0]
        self.roles = {r['name']: r['id']
                      for r in self._api('GET', '/roles')['roles']}
        if 'service' not in self.roles:
            self.roles['service'] = self._api(
                'POST', '/roles', {'role': {'name': 'service'}})['role']['id']
        self.projects = {name: self._create_project(name)
                         for name in ('A', 'B', 'service')}
        self.users = {}
        for name, (project, roles) in USERS.items():
            self.users[name] = self._create_user(
                name, self.projects[project], roles)
        # oslo.limit reads the limits with glance's system-scoped token.
        self._api('PUT', '/system/users/%s/roles/%s'
                  % (self.users['glance'], self.roles['reader']))
        self.image_service_id = self._api('POST', '/services', {
            'service': {'name': 'glance', 'type': 'image',
                        'enabled': True}})['service']['id']
        self._image_endpoints = {}
        for interface in ('public', 'internal'):
            self._image_endpoints[interface] = self._api(
                'POST', '/endpoints', {'endpoint': {
                    'service_id': self.image_service_id,
                    'interface': interface, 'region_id': REGION,
                    'url': IMAGE_PLACEHOLDER}})['endpoint']['id']
        self.image_endpoint_id = self._image_endpoints['public']

    # -- REST --

    def _api(self, method, path, body=None, session=None):
        resp = (session or self._admin).request(
            method, self.url + path, json=body, timeout=60)
        if resp.status_code >= 400:
            raise RuntimeError('Keystone: %s %s answered %d: %s'
                               % (method, path, resp.status_code,
                                  resp.text[:1000]))
        return resp.json() if resp.content else None

    def _issue(self, identity, scope):
        """(token, expiry as time.time()) for password ``identity``."""
        resp = requests.post(self.url + '/auth/tokens', timeout=60, json={
            'auth': {'identity': {'methods': ['password'],
                                  'password': identity},
                     'scope': scope}})
        if resp.status_code != 201:
            raise RuntimeError('Keystone refused a token: %d %s'
                               % (resp.status_code, resp.text[:1000]))
        expires = resp.json()['token']['expires_at']
        expiry = calendar.timegm(time.strptime(expires[:19],
                                               '%Y-%m-%dT%H:%M:%S'))
        return resp.headers['X-Subject-Token'], expiry

    def _create_project(self, name):
        return self._api('POST', '/projects', {'project': {
            'name': name, 'domain_id': 'default',
            'enabled': True}})['project']['id']

    def _create_user(self, name, project_id, roles):
        user_id = self._api('POST', '/users', {'user': {
            'name': name, 'domain_id': 'default', 'password': self.password,
            'default_project_id': project_id,
            'enabled': True}})['user']['id']
        for role in roles:
            self._api('PUT', '/projects/%s/users/%s/roles/%s'
                      % (project_id, user_id, self.roles[role]))
        self._projects_of[user_id] = project_id
        return user_id

    # -- for tests --

    def token(self, user, project=None):
        """A project-scoped token of ``user`` (a name of ``users`` or a
        user id) on ``project`` (a name of ``projects`` or a project id;
        by default the user's own project), reused until TOKEN_MARGIN
        seconds before it expires."""
        user_id = self.users.get(user, user)
        project_id = self.projects.get(project, project)
        if project_id is None:
            project_id = self._projects_of[user_id]
        key = (user_id, project_id)
        with self._tokens_lock:
            found = self._tokens.get(key)
            if found is None or found[1] - TOKEN_MARGIN < time.time():
                found = self._tokens[key] = self._issue(
                    {'user': {'id': user_id, 'password': self.password}},
                    {'project': {'id': project_id}})
        return found[0]

    def system_admin_session(self):
        """A keystoneauth Session of the bootstrap admin, system-scoped."""
        if self._system_session is None:
            self._system_session = ks_session.Session(auth=v3.Password(
                auth_url=self.url, username=ADMIN,
                password=self._admin_password, user_domain_id='default',
                system_scope='all'))
        return self._system_session

    def new_project(self, roles=('member', 'reader')):
        """A new project with a new user holding ``roles`` there:
        {'project_id', 'user_id', 'user' (its name), 'token'}."""
        suffix = uuid.uuid4().hex[:12]
        project_id = self._create_project('p-' + suffix)
        user_id = self._create_user('u-' + suffix, project_id, roles)
        return {'project_id': project_id, 'user_id': user_id,
                'user': 'u-' + suffix, 'token': self.token(user_id)}

    def _system(self, method, path, body=None):
        resp = self.system_admin_session().request(
            self.url + path, method, json=body, raise_exc=False)
        if resp.status_code >= 400:
            raise RuntimeError('Keystone: %s %s answered %d: %s'
                               % (method, path, resp.status_code,
                                  resp.text[:1000]))
        return resp.json() if resp.content else None

    def set_registered_limit(self, resource, default):
        """Create or update the registered limit ``resource`` of the image
        service in RegionOne."""
        found = self._system('GET', '/registered_limits?service_id=%s&'
                             'region_id=%s&resource_name=%s'
                             % (self.image_service_id, REGION, resource))
        if found['registered_limits']:
            limit = found['registered_limits'][0]
            if limit['default_limit'] != default:
                self._system('PATCH', '/registered_limits/%s' % limit['id'],
                             {'registered_limit': {
                                 'default_limit': default}})
        else:
            self._system('POST', '/registered_limits', {'registered_limits': [
                {'service_id': self.image_service_id, 'region_id': REGION,
                 'resource_name': resource, 'default_limit': default}]})

    def set_project_limit(self, project_id, resource, value):
        """Create or update the limit ``resource`` of the image service in
        RegionOne for ``project_id`` (its registered limit must exist)."""
        found = self._system('GET', '/limits?service_id=%s&region_id=%s&'
                             'resource_name=%s&project_id=%s'
                             % (self.image_service_id, REGION, resource,
                                project_id))
        if found['limits']:
            self._system('PATCH', '/limits/%s' % found['limits'][0]['id'],
                         {'limit': {'resource_limit': value}})
        else:
            self._system('POST', '/limits', {'limits': [
                {'service_id': self.image_service_id, 'region_id': REGION,
                 'project_id': project_id, 'resource_name': resource,
                 'resource_limit': value}]})

    def delete_limits(self):
        """Remove every project limit, then every registered limit."""
        for limit in self._system('GET', '/limits')['limits']:
            self._system('DELETE', '/limits/%s' % limit['id'])
        for limit in self._system('GET',
                                  '/registered_limits')['registered_limits']:
            self._system('DELETE', '/registered_limits/%s' % limit['id'])

    def set_image_endpoint_url(self, url):
        """Point the image service's endpoints at ``url``."""
        for endpoint_id in self._image_endpoints.values():
            self._api('PATCH', '/endpoints/%s' % endpoint_id,
                      {'endpoint': {'url': url}})

    def _password_options(self, username='glance', project='service'):
        return ('auth_url = %s\nauth_type = password\n'
                'user_domain_id = default\nusername = %s\npassword = %s\n'
                'project_domain_id = default\nproject_name = %s\n'
                % (self.url, username, self.password, project))

    def authtoken_options(self):
        """A [keystone_authtoken] section that validates tokens here, as
        the glance service user, with keystonemiddleware's in-process
        token cache (no memcached), taking a service token
        (X-Service-Token) only with the role service."""
        return ('\n[keystone_authtoken]\nwww_authenticate_uri = %s\n'
                '%sregion_name = %s\n'
                'service_token_roles_required = true\n'
                % (self.url, self._password_options(), REGION))

    def registry_auth_options(self, username='glance'):
        """An [artifacts_registry_auth] section: glance-api calls the
        registry with the service token of ``username``."""
        return ('\n[artifacts_registry_auth]\n%s'
                % self._password_options(username))

    def limit_options(self):
        """An [oslo_limit] section: unified limits read from here with
        the glance user's system-scoped token."""
        return ('\n[oslo_limit]\nauth_url = %s\nauth_type = password\n'
                'user_domain_id = default\nusername = glance\n'
                'password = %s\nsystem_scope = all\nendpoint_id = %s\n'
                'endpoint_region_name = %s\n'
                % (self.url, self.password, self.image_endpoint_id, REGION))

    def glance_options(self):
        """glance-api.conf sections: the keystone flavor, tokens
        validated here, and unified limits read from here with the glance
        user's system-scoped token."""
        return ('%s%s\n[paste_deploy]\nflavor = keystone\n'
                % (self.authtoken_options(), self.limit_options()))


if __name__ == '__main__':
    keystone = get()
    print('%s (%s)' % (keystone.url, ', '.join(
        '%s %.1f s' % kv for kv in keystone.timings.items())))
    print('users: %s; password %s'
          % (', '.join(keystone.users), keystone.password))
    sys.stdout.flush()
    keystone.process.wait()
