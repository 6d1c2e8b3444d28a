"""Notifications of artifact events, as a real glance-api sends them
through oslo.messaging to the RabbitMQ of the test machine
(tests/rabbit.py)."""

import hashlib
import http.client
import json
import os
import socket
import threading
import time
import uuid

import testtools
from testtools import content

from glance.artifacts import notifier

from tests import base
from tests import databases
from tests import rabbit
from tests.e2e import server as server_mod

TYPE = '/v2/artifacts/sample_artifacts'
PATCH = 'application/json-patch+json'
DATA = 'application/octet-stream'
MiB = 1024 * 1024


class NotificationTest(testtools.TestCase):
    """One glance-api for the test class (testauth flavor, one worker)
    that sends notifications to a topic of its own; ``extra`` is more
    glance-api.conf text, ``broker_port()`` where the broker answers."""

    extra = ''
    glance_tables = False
    rabbit = server = None

    @classmethod
    def broker_port(cls):
        return rabbit.PORT

    @classmethod
    def setUpClass(cls):
        super(NotificationTest, cls).setUpClass()
        try:
            cls.rabbit = rabbit.Notifications()
        except rabbit.Unavailable as e:
            base.unavailable(e)
        cls.root, cls.cleanup = base.make_tempdir('ga-e2e-notify-')
        try:
            cls.server = server_mod.Server(
                cls.root, flavor='testauth', workers=1,
                extra=cls.rabbit.options(cls.broker_port()) + cls.extra)
            cls.server.sync(glance_tables=cls.glance_tables)
            cls.server.start()
        except databases.Unavailable as e:
            cls.tearDownClass()
            base.unavailable(e)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.server is not None:
            cls.server.stop()
        cls.rabbit.close()
        cls.cleanup()
        super(NotificationTest, cls).tearDownClass()

    def setUp(self):
        super(NotificationTest, self).setUp()
        self.owner = base.identity()
        self.other = base.identity()
        # What earlier tests left (an artifact.send comes after its
        # response).
        self.rabbit.drain(quiet=0.2)

    def call(self, method, path, who, body=None, **headers):
        """(status, headers with lower-case names, body: parsed when it is
        JSON)."""
        status, hdrs, data = self.server.request(method, path, body,
                                                 dict(who, **headers))
        hdrs = {k.lower(): v for k, v in hdrs.items()}
        if hdrs.get('content-type', '').startswith('application/json'):
            data = json.loads(data) if data else None
        return status, hdrs, data

    def create(self, who, **fields):
        status, headers, art = self.call(
            'POST', TYPE, who, dict({'name': uuid.uuid4().hex}, **fields))
        self.assertEqual(201, status, art)
        return art, headers['x-openstack-request-id']

    def show(self, art, who=None):
        status, _h, view = self.call('GET', art['self'], who or self.owner)
        self.assertEqual(200, status, view)
        return view

    def log(self):
        with open(os.path.join(self.root, 'glance-api.log')) as f:
            return f.read()


def _user(who):
    return {'user_id': who['X-User-Id'], 'project_id': who['X-Project-Id']}


class TestNotifications(NotificationTest):

    def expect(self, expected):
        """The next notifications are ``expected``: [(event type, the
        identity of the request, its request id, the rest of the payload)];
        none comes after them."""
        messages = self.rabbit.wait(len(expected))
        self.assertEqual([e[0] for e in expected],
                         [m['event_type'] for m in messages])
        for message, expectation in zip(messages, expected):
            event, who, request_id, rest = expectation
            self.assertEqual('INFO', message['priority'])
            self.assertEqual('artifacts.localhost', message['publisher_id'])
            self.assertEqual(dict(rest, request_id=request_id, **_user(who)),
                             message['payload'], event)
            context = message['context']
            self.assertEqual((who['X-User-Id'], who['X-Project-Id'],
                              request_id, None),
                             (context['user'], context['project_id'],
                              context['request_id'], context['auth_token']))
            # Where the data is stored never goes out.
            text = json.dumps(message)
            self.assertNotIn(self.root, text)
            self.assertNotIn('location', text)
            self.assertNotIn('file://', text)
        self.assertEqual([], [m['event_type'] for m in self.rabbit.drain()])

    def test_each_change_sends_one_event_with_the_artifact_as_shown(self):
        owner, other = self.owner, self.other
        expected = []
        art, rid = self.create(owner, version='1.0.0', visibility='shared')
        expected.append(('artifact.create', owner, rid, {'artifact': art}))

        status, h, art = self.call(
            'PATCH', art['self'], owner,
            [{'op': 'replace', 'path': '/str_on_activate', 'value': 'on'}],
            **{'Content-Type': PATCH})
        self.assertEqual(200, status, art)
        expected.append(('artifact.update', owner,
                         h['x-openstack-request-id'], {'artifact': art}))

        uploads = [('blob1', None, b'single blob data', None),
                   ('blob_dict', 'k1', b'entry data', 'text/plain')]
        for field, key, data, content_type in uploads:
            headers = {'Content-Type': DATA}
            if content_type:
                headers['X-Openstack-Artifact-Content-Type'] = content_type
            path = '%s/%s%s' % (art['self'], field, '/' + key if key else '')
            status, h, body = self.call('PUT', path, owner, data, **headers)
            self.assertEqual(204, status, body)
            art = self.show(art)
            expected.append(('artifact.upload', owner,
                             h['x-openstack-request-id'], {
                                 'artifact': art,
                                 'blob': {'field': field, 'key': key,
                                          'size': len(data),
                                          'checksum':
                                              hashlib.md5(data).hexdigest(),
                                          'os_hash_algo': 'sha512',
                                          'os_hash_value':
                                              hashlib.sha512(data)
                                              .hexdigest(),
                                          'content_type': content_type or
                                              DATA}}))
        blob1 = expected[-2][3]['blob']
        entry = expected[-1][3]['blob']

        status, h, data = self.call('GET', art['self'] + '/blob1', owner)
        self.assertEqual((200, b'single blob data'), (status, data))
        expected.append(('artifact.send', owner, h['x-openstack-request-id'],
                         {'artifact': art, 'blob': blob1, 'bytes_sent': 16,
                          'range': None, 'destination_ip': '127.0.0.1'}))
        # artifact.send comes once the last byte is out, which is after
        # the client has it: a next request may notify first.
        self.expect(expected)
        expected = []
        status, h, data = self.call('GET', art['self'] + '/blob_dict/k1',
                                    owner, Range='bytes=2-5')
        self.assertEqual((206, b'try '), (status, data))
        expected.append(('artifact.send', owner, h['x-openstack-request-id'],
                         {'artifact': art, 'blob': entry, 'bytes_sent': 4,
                          'range': [2, 6], 'destination_ip': '127.0.0.1'}))
        self.expect(expected)
        expected = []

        for action in ('activate', 'deactivate', 'reactivate'):
            status, h, body = self.call(
                'POST', '%s/actions/%s' % (art['self'], action), owner)
            self.assertEqual(204, status, body)
            art = self.show(art)
            expected.append(('artifact.' + action, owner,
                             h['x-openstack-request-id'], {'artifact': art}))
        self.assertEqual('active', art['status'])

        members = art['self'] + '/members'
        status, h, member = self.call('POST', members, owner,
                                      {'member': other['X-Project-Id']})
        self.assertEqual((200, 'pending'), (status, member['status']))
        expected.append(('artifact.member.create', owner,
                         h['x-openstack-request-id'],
                         {'artifact': art, 'member': member}))
        status, h, member = self.call(
            'PUT', '%s/%s' % (members, other['X-Project-Id']), other,
            {'status': 'accepted'})
        self.assertEqual((200, 'accepted'), (status, member['status']))
        expected.append(('artifact.member.update', other,
                         h['x-openstack-request-id'],
                         {'artifact': art, 'member': member}))
        status, h, body = self.call(
            'DELETE', '%s/%s' % (members, other['X-Project-Id']), owner)
        self.assertEqual(204, status, body)
        expected.append(('artifact.member.delete', owner,
                         h['x-openstack-request-id'],
                         {'artifact': art, 'member': member}))

        art = self.show(art)
        status, h, body = self.call('DELETE', art['self'], owner)
        self.assertEqual(204, status, body)
        expected.append(('artifact.delete', owner,
                         h['x-openstack-request-id'], {'artifact': art}))
        self.expect(expected)

    def test_failed_requests_send_nothing(self):
        owner, other = self.owner, self.other
        art, rid = self.create(owner, version='2.0.0')
        path = art['self']
        patch = {'Content-Type': PATCH}
        failures = [
            (400, owner, 'PATCH', path, [{'op': 'move', 'path': '/name'}],
             patch),
            (403, owner, 'PATCH', path, [{'op': 'replace', 'path': '/status',
                                          'value': 'active'}], patch),
            (409, owner, 'POST', TYPE, {'name': art['name'],
                                        'version': '2.0.0'}, {}),
            (400, owner, 'PUT', path + '/blob1', b'x' * 10,
             {'Content-Type': DATA, 'Content-MD5': '0' * 32}),
            (400, owner, 'POST', path + '/actions/activate', None, {}),
            (403, owner, 'POST', path + '/actions/reactivate', None, {}),
            (403, owner, 'POST', path + '/members',
             {'member': other['X-Project-Id']}, {}),
            (404, owner, 'DELETE', path + '/members/nobody', None, {}),
            (204, owner, 'GET', path + '/blob1', None, {}),
            (404, other, 'DELETE', path, None, {}),
        ]
        for expected, who, method, url, body, headers in failures:
            status, _h, answer = self.call(method, url, who, body,
                                           **headers)
            self.assertEqual(expected, status, (method, url, answer))
        # A change that succeeds comes right after the create.
        status, h, changed = self.call(
            'PATCH', path, owner,
            [{'op': 'replace', 'path': '/description', 'value': 'ok'}],
            **patch)
        self.assertEqual(200, status, changed)
        self.expect([
            ('artifact.create', owner, rid, {'artifact': art}),
            ('artifact.update', owner, h['x-openstack-request-id'],
             {'artifact': changed})])

    def test_a_patch_that_changes_nothing_sends_nothing(self):
        art, rid = self.create(self.owner, description='same')
        status, _h, body = self.call(
            'PATCH', art['self'], self.owner,
            [{'op': 'replace', 'path': '/description', 'value': 'same'}],
            **{'Content-Type': PATCH})
        self.assertEqual((200, art), (status, body))
        self.expect([('artifact.create', self.owner, rid, {'artifact': art})])

    def test_a_download_broken_off_sends_no_send_event(self):
        status, _h, art = self.call('POST', '/v2/artifacts/murano_packages',
                                    self.owner, {'name': 'big'})
        self.assertEqual(201, status, art)
        size = 64 * MiB
        status, _h, body = self.call('PUT', art['self'] + '/package',
                                     self.owner, b'p' * size,
                                     **{'Content-Type': DATA})
        self.assertEqual(204, status, body)
        self.assertEqual(['artifact.create', 'artifact.upload'],
                         [m['event_type'] for m in self.rabbit.wait(2)])
        conn = http.client.HTTPConnection('127.0.0.1', self.server.port,
                                          timeout=30)
        conn.request('GET', art['self'] + '/package', headers=self.owner)
        response = conn.getresponse()
        self.assertEqual(200, response.status)
        self.assertEqual(65536, len(response.read(65536)))
        # Far more than the sockets hold is still to be sent.
        conn.sock.shutdown(socket.SHUT_RDWR)
        conn.close()
        self.assertEqual([], self.rabbit.drain(quiet=1.5))
        # A whole download of the same data does send.
        status, h, data = self.call('GET', art['self'] + '/package',
                                    self.owner)
        self.assertEqual((200, size), (status, len(data)))
        [sent] = self.rabbit.wait(1)
        self.assertEqual(('artifact.send', size, h['x-openstack-request-id']),
                         (sent['event_type'], sent['payload']['bytes_sent'],
                          sent['payload']['request_id']))

    def test_an_empty_blob_downloaded_sends_a_send_event(self):
        art, _rid = self.create(self.owner)
        status, _h, body = self.call('PUT', art['self'] + '/blob1',
                                     self.owner, b'',
                                     **{'Content-Type': DATA})
        self.assertEqual(204, status, body)
        status, h, data = self.call('GET', art['self'] + '/blob1',
                                    self.owner)
        self.assertEqual((200, b''), (status, data))
        messages = self.rabbit.wait(3)
        self.assertEqual(['artifact.create', 'artifact.upload',
                          'artifact.send'],
                         [m['event_type'] for m in messages])
        self.assertEqual((0, None), (messages[2]['payload']['bytes_sent'],
                                     messages[2]['payload']['range']))

    def test_an_import_of_staged_data_sends_an_upload_event_when_done(self):
        art, _rid = self.create(self.owner)
        status, _h, body = self.call('PUT', art['self'] + '/blob1/stage',
                                     self.owner, b'staged data',
                                     **{'Content-Type': DATA})
        self.assertEqual(204, status, body)
        status, _h, body = self.call(
            'POST', art['self'] + '/blob1/import', self.owner,
            {'method': {'name': 'glance-direct'}})
        self.assertEqual(202, status, body)
        messages = self.rabbit.wait(2)
        self.assertEqual(['artifact.create', 'artifact.upload'],
                         [m['event_type'] for m in messages])
        blob = messages[1]['payload']['blob']
        self.assertEqual(('blob1', 11, 'active'), (
            blob['field'], blob['size'],
            messages[1]['payload']['artifact']['blob1']['status']))


class TestDisabledNotifications(NotificationTest):
    """A group (artifact.member) and an exact name (artifact.upload)."""

    extra = ('\n[DEFAULT]\n'
             'disabled_notifications = artifact.member,artifact.upload,'
             'artifact.acti\n')

    def test_disabled_groups_and_names_are_not_sent_and_the_others_are(self):
        owner, other = self.owner, self.other
        art, _rid = self.create(owner, visibility='shared',
                                str_on_activate='on')
        status, _h, body = self.call('PUT', art['self'] + '/blob1', owner,
                                     b'data', **{'Content-Type': DATA})
        self.assertEqual(204, status, body)
        members = art['self'] + '/members'
        status, _h, body = self.call('POST', members, owner,
                                     {'member': other['X-Project-Id']})
        self.assertEqual(200, status, body)
        status, _h, body = self.call(
            'PUT', '%s/%s' % (members, other['X-Project-Id']), other,
            {'status': 'accepted'})
        self.assertEqual(200, status, body)
        status, _h, body = self.call(
            'DELETE', '%s/%s' % (members, other['X-Project-Id']), owner)
        self.assertEqual(204, status, body)
        for action in ('activate', 'deactivate'):
            status, _h, body = self.call(
                'POST', '%s/actions/%s' % (art['self'], action), owner)
            self.assertEqual(204, status, body)
        # "artifact.acti" is no group: it disables neither activate nor
        # anything else.
        self.assertEqual(['artifact.create', 'artifact.activate',
                          'artifact.deactivate'],
                         [m['event_type'] for m in self.rabbit.wait(3)])
        self.assertEqual([], self.rabbit.drain())


class TestAllArtifactNotificationsDisabled(NotificationTest):

    extra = '\n[DEFAULT]\ndisabled_notifications = artifact\n'
    glance_tables = True

    def test_artifact_group_disables_all_artifact_events_not_images(self):
        art, _rid = self.create(self.owner)
        status, _h, body = self.call('PUT', art['self'] + '/blob1',
                                     self.owner, b'data',
                                     **{'Content-Type': DATA})
        self.assertEqual(204, status, body)
        status, _h, data = self.call('GET', art['self'] + '/blob1',
                                     self.owner)
        self.assertEqual(200, status, data)
        status, _h, body = self.call('DELETE', art['self'], self.owner)
        self.assertEqual(204, status, body)
        # Glance's own notifications go on to the same topic.
        status, _h, image = self.call('POST', '/v2/images', self.owner,
                                      {'name': 'image'})
        self.assertEqual(201, status, image)
        self.assertEqual([('image.create', 'image.localhost')],
                         [(m['event_type'], m['publisher_id'])
                          for m in self.rabbit.drain()])


class TestBrokerRefusing(NotificationTest):
    """Nothing listens where the broker should be."""

    @classmethod
    def broker_port(cls):
        return 1

    def test_requests_succeed_at_once_and_the_log_tells_what_was_lost(self):
        timings = []
        for _ in range(3):
            started = time.monotonic()
            art, rid = self.create(self.owner)
            timings.append(time.monotonic() - started)
            started = time.monotonic()
            status, _h, body = self.call('PUT', art['self'] + '/blob1',
                                         self.owner, b'data',
                                         **{'Content-Type': DATA})
            timings.append(time.monotonic() - started)
            self.assertEqual(204, status, body)
        # No request waited for the broker: none gave up after WAIT
        # seconds (the log would say so). The bound only finds a hang.
        self.assertLess(max(timings), 10 * notifier.WAIT, timings)
        log = self.log()
        self.assertNotIn('was not sent within', log)
        self.assertIn('Could not send notification to %s'
                      % self.rabbit.topic, log)
        self.assertIn("'event_type': 'artifact.create'", log)
        self.assertIn(rid, log)
        self.assertIn("'event_type': 'artifact.upload'", log)
        self.addDetail('timings', content.text_content(
            'creates and uploads with the broker refusing took %s s'
            % ', '.join('%.3f' % t for t in timings)))


class Blackhole(threading.Thread):
    """A port that takes connections and never answers on them."""

    def __init__(self):
        super(Blackhole, self).__init__(daemon=True)
        self.listener = socket.socket()
        self.listener.bind(('127.0.0.1', 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.connections = []

    def run(self):
        while True:
            try:
                self.connections.append(self.listener.accept()[0])
            except OSError:
                return

    def close(self):
        self.listener.close()
        for conn in self.connections:
            conn.close()


class TestBrokerNotAnswering(NotificationTest):
    """The broker's port takes connections and never answers."""

    @classmethod
    def broker_port(cls):
        cls.blackhole = Blackhole()
        cls.blackhole.start()
        return cls.blackhole.port

    @classmethod
    def tearDownClass(cls):
        super(TestBrokerNotAnswering, cls).tearDownClass()
        cls.blackhole.close()

    def test_one_request_waits_at_most_a_second_later_ones_not_at_all(self):
        timings = []
        for _ in range(4):
            started = time.monotonic()
            self.create(self.owner)
            timings.append(time.monotonic() - started)
        self.addDetail('timings', content.text_content(
            'creates with the broker not answering took %s s'
            % ', '.join('%.3f' % t for t in timings)))
        # The first request waited WAIT seconds for its message (the
        # bound above only finds a hang); the sender is stuck on it, and
        # the three after it did not wait: the log says which did.
        self.assertGreater(timings[0], 0.9 * notifier.WAIT, timings)
        self.assertLess(max(timings), 10 * notifier.WAIT, timings)
        log = self.log()
        self.assertEqual(1, log.count('was not sent within 1.0 seconds'))
        self.assertEqual(3, log.count('waits in a queue: the message broker '
                                      'has not taken an earlier one yet.'))
        self.assertIn('Notification artifact.create of artifact', log)
        self.assertIn('was not sent within 1.0 seconds; it waits in a '
                      'queue while the request goes on.', log)
        self.assertIn('waits in a queue: the message broker has not taken '
                      'an earlier one yet.', log)
