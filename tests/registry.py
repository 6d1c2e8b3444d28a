"""The artifacts registry service as a real process, for tests.

GA_TEST_DATA_API=registry runs the functional and end-to-end tests with
glance-api's data API going through it (default: sqlalchemy, direct).
"""

import os
import re
import subprocess
import time

import requests

from tests import base

CONF = '''\
[DEFAULT]
log_file = {root}/registry.log

[database]
connection = {database}

[paste_deploy]
flavor = {flavor}

[artifacts]
# The types glance-api serves (the registry leaves images to glance-api).
enabled_types = {types}
'''


def mode():
    return os.environ.get('GA_TEST_DATA_API', 'sqlalchemy')


class Registry(object):
    """glance.db.artifacts.registry.wsgi:application under gunicorn (one
    worker of four threads: each worker loads the application, seconds
    of CPU at every start, and the registry keeps no state of its own
    between requests), on ``database``, migrated with
    glance-artifacts-manage; ``flavor`` of
    etc/glance-artifacts-registry-paste.ini ('' for no auth, 'keystone'),
    ``extra`` appended to glance-artifacts-registry.conf (for the keystone
    flavor, tests/keystone.py's authtoken_options()); ``paste_options``
    replace options of the keystone flavor's app (glance_api_users...);
    ``types``, its [artifacts] enabled_types."""

    def __init__(self, root, database, flavor='', extra='',
                 paste_options=None, types=base.ALL_TYPES):
        from tests.e2e import server as server_mod
        self.confdir = os.path.join(root, 'registry-etc')
        os.makedirs(self.confdir, exist_ok=True)
        with open(os.path.join(self.confdir,
                               'glance-artifacts-registry.conf'), 'w') as f:
            f.write(CONF.format(root=root, database=database,
                                flavor=flavor, types=types) +
                    extra)
        with open(os.path.join(base.ROOT, 'etc',
                               'glance-artifacts-registry-paste.ini')) as f:
            paste = f.read()
        for option, value in (paste_options or {}).items():
            paste, found = re.subn(r'(?m)^%s =.*$' % option,
                                   '%s = %s' % (option, value), paste)
            if not found:
                raise ValueError('no option %s in the paste file' % option)
        with open(os.path.join(self.confdir,
                               'glance-artifacts-registry-paste.ini'),
                  'w') as f:
            f.write(paste)
        base.sync_databases(self.confdir, glance_tables=False,
                            conf_name='glance-artifacts-registry.conf')
        self.access_log = os.path.join(root, 'registry-access.log')
        self.port = server_mod.free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.process = subprocess.Popen(
            [os.path.join(base.BIN, 'gunicorn'), '--bind',
             '127.0.0.1:%d' % self.port, '--workers', '1', '--threads',
             '4', '--access-logfile', self.access_log,
             '--access-logformat', '%(m)s %(U)s token=%({x-auth-token}i)s',
             'glance.db.artifacts.registry.wsgi:application'],
            env=dict(os.environ, OS_GLANCE_CONFIG_DIR=self.confdir),
            stdout=open(os.path.join(root, 'registry.out'), 'ab'),
            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if requests.get(self.url + '/healthcheck',
                                timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError('the registry did not start; see %s' % root)

    def api_options(self):
        """glance-api.conf lines that send the data API here."""
        return ('\n[artifacts]\ndata_api = registry\nregistry_url = %s\n'
                % self.url)

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            self.process.wait(30)
