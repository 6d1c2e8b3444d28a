"""Two glance-api hosts on one database and one S3 bucket (a moto
server), as behind a load balancer. Each runs in a UTS namespace of its
own under its own host name; host B's clock can run an hour slow."""

import concurrent.futures
import email.utils
import hashlib
import http.client
import os
import subprocess
import time
import uuid

import testtools

from tests import base
from tests import databases
from tests import s3
from tests.e2e import server as server_mod
from tests.e2e import test_blobs

MiB = 1024 * 1024
OCTETS = {'Content-Type': 'application/octet-stream'}
# Uploads are taken for dead after 3 s without a heartbeat.
EXTRA = ('\n[artifacts]\nupload_stale_after = 3\n'
         'upload_heartbeat_interval = 1\n')
CLOCK = os.path.join(base.ROOT, 'tests', 'clock')


class TwoHosts(testtools.TestCase):
    SKEW = 0        # seconds host B's clock is off

    def setUp(self):
        super(TwoHosts, self).setUp()
        probe = subprocess.run(['unshare', '--uts', 'true'],
                               capture_output=True, text=True)
        if probe.returncode:
            base.unavailable('unshare: a UTS namespace per host needs '
                             'root (CAP_SYS_ADMIN): %s'
                             % probe.stderr.strip())
        root, cleanup = base.make_tempdir('ga-e2e-hosts-')
        self.addCleanup(cleanup)
        try:
            database, drop = databases.create(
                root, sqlite_name='artifacts.sqlite')
        except databases.Unavailable as e:
            self.skipTest(str(e))
        self.addCleanup(drop)
        bucket = s3.new_bucket()
        self.bucket = bucket
        self.hosts = []
        for name in ('a', 'b'):
            host_root = os.path.join(root, name)
            os.makedirs(host_root)
            host = server_mod.Server(
                host_root, workers=1, store='s3', s3_bucket=bucket,
                database=database, extra=EXTRA,
                hostname='ga-host-%s' % name)
            self.hosts.append(host)
        self.a, self.b = self.hosts
        self.a.sync(glance_tables=False)
        env = {}
        if self.SKEW:
            env = {'PYTHONPATH': os.pathsep.join(
                [CLOCK] + os.environ.get('PYTHONPATH', '').split(
                    os.pathsep)).rstrip(os.pathsep),
                'GA_TEST_CLOCK_SKEW': str(self.SKEW)}
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            started = [pool.submit(self.a.start),
                       pool.submit(self.b.start, env=env)]
        self.addCleanup(self.a.stop)
        self.addCleanup(self.b.stop)
        for future in started:
            future.result()

    def create(self, host, name='pkg', version='1.0.0'):
        return host.json('POST', '/v2/artifacts/murano_packages',
                         {'name': name, 'version': version})

    def blob(self, host, art):
        return host.json('GET', art['self'])[1]['package']

    def contents(self):
        keys, uploads, parts = s3.contents(self.bucket)
        return keys, uploads, parts

    def wait_for(self, predicate, timeout=30):
        base.wait_for(predicate, timeout)

    def kill_a_mid_upload(self, art):
        """Host A dies with an upload of 8 MiB half done: an incomplete
        S3 upload with a part in the bucket."""
        upload = test_blobs.SlowUpload(self.a, art['self'] + '/package',
                                       8 * MiB)
        upload.start()
        self.wait_for(lambda: self.contents()[2] >= 1)
        self.killed = time.monotonic()
        self.a.stop(hard=True)
        upload.join(30)
        self.assertIsInstance(upload.result, OSError)
        self.assertEqual('saving', self.blob(self.b, art)['status'])

    def assert_b_cleans_up(self, art):
        """Host B takes A's upload for dead once it has left no heartbeat
        for upload_stale_after by the database's clock."""
        self.wait_for(lambda: self.blob(self.b, art) is None, timeout=20)
        # The last heartbeat came at most upload_heartbeat_interval (1 s)
        # before the kill; cleaning up at once would take far less.
        self.assertGreaterEqual(time.monotonic() - self.killed, 1.9)
        self.assertEqual(([], [], 0), self.contents())
        status, _h, _b = self.b.request('PUT', art['self'] + '/package',
                                        b'again', OCTETS)
        self.assertEqual(204, status)
        self.assertEqual(b'again', self.b.request(
            'GET', art['self'] + '/package')[2])


class TestTwoHosts(TwoHosts):

    def test_what_one_host_writes_the_other_reads_at_once(self):
        self.assertEqual(['ga-host-a', 'ga-host-b'], [subprocess.run(
            ['nsenter', '-t', str(host.process.pid), '-u', 'hostname'],
            capture_output=True, text=True).stdout.strip()
            for host in self.hosts])
        status, art = self.create(self.a)
        self.assertEqual(201, status)
        self.assertEqual((200, art), self.b.json('GET', art['self']))
        status, _ = self.b.json(
            'PATCH', art['self'], [{'op': 'replace', 'path': '/description',
                                    'value': 'from b'}],
            {'Content-Type': 'application/openstack-images-v2.1-json-patch'})
        self.assertEqual(200, status)
        self.assertEqual('from b', self.a.json('GET', art['self'])[1][
            'description'])
        data = os.urandom(6 * MiB + 3)
        self.assertEqual(204, self.a.request('PUT', art['self'] + '/package',
                                             data, OCTETS)[0])
        status, hdrs, body = self.b.request('GET', art['self'] + '/package')
        self.assertEqual((200, hashlib.md5(data).hexdigest()),
                         (status, hashlib.md5(body).hexdigest()))
        status, hdrs, body = self.b.request(
            'GET', art['self'] + '/package', headers={'Range': 'bytes=-3'})
        self.assertEqual((206, data[-3:]), (status, body))
        listed = self.b.json('GET', '/v2/artifacts/murano_packages')[1]
        self.assertEqual([art['id']], [a['id'] for a in listed['artifacts']])

    def test_concurrent_creates_and_uploads_over_both_hosts_one_wins(self):
        with concurrent.futures.ThreadPoolExecutor(10) as pool:
            results = list(pool.map(
                lambda i: self.create(self.hosts[i % 2]), range(10)))
        statuses = sorted(status for status, _body in results)
        self.assertEqual([201] + [409] * 9, statuses)
        art = [body for status, body in results if status == 201][0]

        # Six uploads of the blob, three through each host, all begun
        # before any of them has sent its data.
        size = 6 * MiB
        conns = []
        for i in range(6):
            host = self.hosts[i % 2]
            conn = http.client.HTTPConnection('127.0.0.1', host.port,
                                              timeout=60)
            conn.putrequest('PUT', art['self'] + '/package')
            conn.putheader('Content-Type', 'application/octet-stream')
            conn.putheader('Content-Length', str(size))
            conn.endheaders()
            conns.append(conn)
        self.wait_for(lambda: (self.blob(self.a, art) or {}).get(
            'status') == 'saving')
        time.sleep(1)       # the others reach the server too

        def finish(i):
            try:
                conns[i].send(bytes([65 + i]) * size)
            except OSError:
                pass        # refused before the body was sent
            try:
                return conns[i].getresponse().status
            finally:
                conns[i].close()

        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            statuses = list(pool.map(finish, range(6)))
        self.assertEqual([204] + [409] * 5, sorted(statuses))
        winner = statuses.index(204)
        body = self.b.request('GET', art['self'] + '/package')[2]
        self.assertEqual(bytes([65 + winner]) * size, body)
        keys, uploads, _parts = self.contents()
        self.assertEqual((1, []), (len(keys), uploads))

    def test_a_host_killed_mid_upload_is_cleaned_up_by_the_other(self):
        status, art = self.create(self.a)
        self.kill_a_mid_upload(art)
        self.assert_b_cleans_up(art)


class TestClockSkew(TwoHosts):
    """Host B's clock is an hour slow, far more than upload_stale_after.
    Liveness goes by the database server's clock, so neither host takes
    the other's live upload for dead, nor keeps a dead one."""

    SKEW = -3600

    def test_a_live_upload_of_the_slow_host_is_not_taken_for_dead(self):
        dates = [email.utils.parsedate_to_datetime(
            host.request('GET', '/healthcheck')[1]['Date'])
            for host in self.hosts]
        self.assertAlmostEqual(3600, (dates[0] - dates[1]).total_seconds(),
                               delta=5)
        status, art = self.create(self.b, name='slow-%s' % uuid.uuid4().hex)
        self.assertEqual(201, status)
        upload = test_blobs.SlowUpload(self.b, art['self'] + '/package',
                                       8 * MiB)
        upload.start()
        self.wait_for(lambda: (self.blob(self.a, art) or {}).get(
            'status') == 'saving')
        # Host A looks at the upload (each look cleans up dead uploads)
        # for longer than upload_stale_after while it runs.
        # A dead upload would be cleaned up: the blob would be None.
        started = time.monotonic()
        while upload.is_alive() and time.monotonic() - started < 8:
            status = (self.blob(self.a, art) or {}).get('status')
            if status == 'active':      # it has just finished
                break
            self.assertEqual('saving', status)
            time.sleep(0.5)
        self.assertGreater(time.monotonic() - started, 3)
        upload.release.set()
        upload.join(60)
        self.assertEqual(204, upload.result)
        self.assertEqual(('active', 8 * MiB),
                         (self.blob(self.a, art)['status'],
                          self.blob(self.a, art)['size']))

    def test_the_slow_host_cleans_up_after_a_killed_host_in_time(self):
        status, art = self.create(self.a)
        self.kill_a_mid_upload(art)
        self.assert_b_cleans_up(art)
