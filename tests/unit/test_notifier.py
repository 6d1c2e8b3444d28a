"""Which notifications [DEFAULT] disabled_notifications stops, and what a
notification tells of a blob."""

from oslo_config import cfg
import testtools

from glance.artifacts import notifier

CONF = cfg.CONF
EVENTS = ('artifact.create', 'artifact.update', 'artifact.delete',
          'artifact.activate', 'artifact.deactivate', 'artifact.reactivate',
          'artifact.upload', 'artifact.send', 'artifact.member.create',
          'artifact.member.update', 'artifact.member.delete')


class TestDisabledNotifications(testtools.TestCase):

    def sent_with(self, *disabled):
        CONF.set_override('disabled_notifications', list(disabled))
        self.addCleanup(CONF.clear_override, 'disabled_notifications')
        return [e for e in EVENTS if notifier.enabled(e)]

    def test_nothing_is_disabled_by_default(self):
        self.assertEqual([], CONF.disabled_notifications)
        self.assertEqual(list(EVENTS), [e for e in EVENTS
                                        if notifier.enabled(e)])

    def test_a_group_disables_the_events_below_it_at_a_dot(self):
        self.assertEqual([], self.sent_with('artifact'))
        self.assertEqual(list(EVENTS[:8]), self.sent_with('artifact.member'))

    def test_a_name_disables_that_event_only(self):
        self.assertEqual([e for e in EVENTS if e != 'artifact.upload'],
                         self.sent_with('artifact.upload'))
        self.assertEqual([e for e in EVENTS
                          if e != 'artifact.member.update'],
                         self.sent_with('artifact.member.update'))

    def test_a_prefix_that_ends_inside_a_name_disables_nothing(self):
        self.assertEqual(list(EVENTS),
                         self.sent_with('artifact.acti', 'artifact.mem',
                                        'art', 'image', 'artifacts'))


class TestBlobInfo(testtools.TestCase):

    def test_the_location_and_backend_of_the_data_never_go_out(self):
        row = {'field': 'blob_dict', 'key': 'k1', 'size': 3,
               'checksum': 'c', 'os_hash_algo': 'sha512',
               'os_hash_value': 'h', 'content_type': 'text/plain',
               'location': 'file:///secret/path', 'backend': 'fs',
               'status': 'active'}
        self.assertEqual({'field': 'blob_dict', 'key': 'k1', 'size': 3,
                          'checksum': 'c', 'os_hash_algo': 'sha512',
                          'os_hash_value': 'h',
                          'content_type': 'text/plain'},
                         notifier.blob_info(row))
        self.assertIsNone(notifier.blob_info(dict(row, key=''))['key'])
