"""A download's data as glance.artifacts.blobs._exactly gives it to the
WSGI server: exactly the promised bytes, and when the store's data fails
or ends early, a broken-off response and a line in glance-api's log that
says which blob, where, after how many bytes and why."""

import fixtures
import testtools

from glance.artifacts import blobs
from glance.artifacts import exception

ROW = {'field': 'package', 'key': None,
       'location': 's3://user:secret@host/bucket/artifact-1'}


class TestBlobReads(testtools.TestCase):

    def setUp(self):
        super(TestBlobReads, self).setUp()
        self.log = self.useFixture(fixtures.FakeLogger(
            name='glance.artifacts.blobs'))
        self.sent = []

    def read(self, chunks, length):
        got = []
        reader = blobs._exactly(chunks, length, ROW,
                                lambda: self.sent.append(True))
        for chunk in reader:
            got.append(chunk)
        return b''.join(got)

    def test_exactly_the_promised_bytes_then_sent(self):
        self.assertEqual(b'abcde', self.read(iter([b'abc', b'defgh']), 5))
        self.assertEqual([True], self.sent)
        self.assertEqual('', self.log.output)

    def test_a_store_read_that_fails_is_logged_and_breaks_off(self):
        def failing():
            yield b'x' * 10
            raise ConnectionResetError('peer reset')
        got = []
        with testtools.ExpectedException(ConnectionResetError):
            for chunk in blobs._exactly(failing(), 30, ROW,
                                        lambda: self.sent.append(True)):
                got.append(chunk)
        self.assertEqual([b'x' * 10], got)
        self.assertEqual([], self.sent)
        self.assertIn("Reading the data of blob package at "
                      "'s3://***@host/bucket/artifact-1' from its store "
                      "failed after 10 of 30 bytes; the download is broken "
                      "off: ConnectionResetError: peer reset",
                      self.log.output)
        self.assertNotIn('secret', self.log.output)

    def test_data_that_ends_early_is_logged_and_breaks_off(self):
        with testtools.ExpectedException(exception.StoreUnavailable,
                                         'The blob data ended early.'):
            self.read(iter([b'abc']), 5)
        self.assertEqual([], self.sent)
        self.assertIn('ended 2 bytes early in its store', self.log.output)
        self.assertNotIn('secret', self.log.output)

    def test_a_client_that_goes_away_is_no_store_error(self):
        reader = blobs._exactly(iter([b'abc', b'def']), 6, ROW,
                                lambda: self.sent.append(True))
        self.assertEqual(b'abc', next(reader))
        reader.close()
        self.assertEqual([], self.sent)
        self.assertEqual('', self.log.output)
