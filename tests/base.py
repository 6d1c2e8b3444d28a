"""Shared test fixtures: a configured Glance with artifacts, in-process
(through the real paste pipeline of etc/glance-api-paste.ini) or as a real
WSGI server process."""

import configparser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

from tests import databases
from tools import dev

ROOT = dev.ROOT
ALL_TYPES = dev.DEFAULT_TYPES + ',sample_artifacts'
BIN = os.path.dirname(sys.executable)

# A flavor of the stock pipeline for tests: Glance's context middleware
# without authtoken, so that tests send the identity headers that
# keystonemiddleware would set after validating a token.
TEST_AUTH_PIPELINE = ('testauth = cors http_proxy_to_wsgi artifacts-utf8 '
                      'versionnegotiation osprofiler context rootapp\n')


# GA_TEST_ALLOW_UNAVAILABLE=1, in a developer's own run only: a test whose
# server (a database server, RabbitMQ, Keystone, unshare for the host
# namespaces) cannot be reached or started skips instead of failing.
# tools/dev.py test fails on such skips all the same, unless the variable
# is set, and CI never sets it.
ALLOW_UNAVAILABLE = dev.ALLOW_UNAVAILABLE


class ServerUnavailable(AssertionError):
    """A server the test needs cannot be reached or started; the message
    names it."""


def unavailable(error):
    """Raise what a test does when a server it needs is not there: a
    failure naming the server, or a skip where GA_TEST_ALLOW_UNAVAILABLE=1
    allows it."""
    if os.environ.get(ALLOW_UNAVAILABLE) == '1':
        raise unittest.SkipTest('%s (%s=1)' % (error, ALLOW_UNAVAILABLE))
    raise ServerUnavailable('%s; the test needs it (%s=1 lets a '
                            "developer's own run skip instead)"
                            % (error, ALLOW_UNAVAILABLE))


def write_env(root, flavor='', types=ALL_TYPES, extra='',
              more_stores=('fs2',), database=None, s3_bucket=None,
              inspect_content=False):
    """Config and data directories for one glance-api under ``root``
    (stores "fs" in root/store and "fs2" in root/fs2; ``database``, by
    default a SQLite file); returns the config directory. With
    ``s3_bucket``, an S3 backend "s3" on that bucket of the tests' moto
    server is the default backend.

    Content inspection is off unless ``inspect_content``: most tests
    send arbitrary bytes as the data of typed blobs (a Heat template of
    random bytes, say) to test uploads, stores and quotas; the tests of
    inspection turn it on."""
    confdir = os.path.join(root, 'etc')
    conf = dev.write_config(confdir, root, flavor=flavor, types=types,
                            more_stores=more_stores, database=database,
                            inspect_content=inspect_content)
    if s3_bucket:
        use_s3(conf, s3_bucket)
    if extra:
        with open(conf, 'a') as f:
            f.write(extra)
    paste = os.path.join(confdir, 'glance-api-paste.ini')
    with open(paste) as f:
        text = f.read()
    marker = '[composite:rootapp]'
    text = text.replace('\n\n' + marker,
                        '\n' + TEST_AUTH_PIPELINE + '\n' + marker, 1)
    text += ('\n[composite:glance-api-testauth]\n'
             'paste.composite_factory = glance.api:root_app_factory\n'
             '/: api\n'
             '/healthcheck: healthcheck\n')
    with open(paste, 'w') as f:
        f.write(text)
    return confdir


def use_s3(conf, bucket, part_mib=5):
    """Make an S3 backend "s3" on ``bucket`` of the tests' moto server the
    default backend of the glance-api.conf ``conf`` (parts of
    ``part_mib`` MiB; None for glance_store's defaults)."""
    from tests import s3
    with open(conf) as f:
        text = f.read()
    text = text.replace('\nenabled_backends = fs:file',
                        '\nenabled_backends = s3:s3, fs:file', 1)
    text = text.replace('\ndefault_backend = fs\n',
                        '\ndefault_backend = s3\n', 1)
    with open(conf, 'w') as f:
        f.write(text + s3.backend_section('s3', bucket, part_mib))


def sync_databases(confdir, glance_tables=True, artifacts_tables=True,
                   conf_name='glance-api.conf', image_index=False):
    """Migrate the database of ``confdir``'s ``conf_name`` as
    glance-manage and glance-artifacts-manage ``db sync`` do: Glance's
    tables and ours, or one of the two; with ``image_index`` (a
    glance-api in registry mode), Glance's tables and the index of
    Glance's images that glance-artifacts-manage makes beside them. A
    new database is a copy of a template the tools migrated once
    (tests/databases.py)."""
    if not (glance_tables or artifacts_tables):
        return
    conf = os.path.join(confdir, conf_name)
    with open(conf) as f:
        text = f.read()
    database = configparser.ConfigParser(interpolation=None, strict=False)
    database.read_string(text)
    url = database['database']['connection']
    tools = []
    if glance_tables:
        tools.append('glance-manage')
    if artifacts_tables or image_index:
        tools.append('glance-artifacts-manage')

    def migrate(target):
        """Run the tools on ``target`` with ``conf`` otherwise as it is."""
        config = conf
        if target != url:
            config = os.path.join(confdir, 'migrate-template.conf')
            with open(config, 'w') as f:
                f.write(re.sub(r'(?m)^connection = .*$',
                               lambda _m: 'connection = ' + target, text))
        for tool in tools:
            subprocess.run([os.path.join(BIN, tool), '--config-file',
                            config, 'db', 'sync'], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    databases.clone_migrated(
        url, (('glance',) if glance_tables else ()) +
        (('artifacts',) if artifacts_tables else ()) +
        (('image-index',) if image_index else ()), migrate)


def identity(project=None, roles=('reader', 'member'), user=None):
    """The headers keystonemiddleware sets for a validated token."""
    project = project or uuid.uuid4().hex
    return {'X-Identity-Status': 'Confirmed',
            'X-Project-Id': project,
            'X-User-Id': user or uuid.uuid4().hex,
            'X-Roles': ','.join(roles)}


def wait_for(predicate, timeout=30, interval=0.1):
    """Poll ``predicate`` until it is true; AssertionError after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError('condition not met in %ss' % timeout)


def make_tempdir(prefix):
    path = tempfile.mkdtemp(prefix=prefix)
    return path, lambda: shutil.rmtree(path, ignore_errors=True)


def dumps(body):
    return json.dumps(body).encode('utf-8')
