"""edge.file_sender: gunicorn sends a window of a blob's file itself and
artifact.send follows only when the whole window went out."""

import os
import socket
import tempfile
import threading
import wsgiref.util

from gunicorn.http import wsgi as gunicorn_wsgi
import testtools

from glance.api.v2.artifacts import edge

DATA = os.urandom(3 * 1024 * 1024)


class TestFileSender(testtools.TestCase):

    def setUp(self):
        super(TestFileSender, self).setUp()
        fd, self.path = tempfile.mkstemp()
        self.addCleanup(os.unlink, self.path)
        os.write(fd, DATA)
        os.close(fd)
        self.sent = []

    def body(self, offset, length):
        send = edge.file_sender({'wsgi.file_wrapper':
                                 gunicorn_wsgi.FileWrapper})
        return send(open(self.path, 'rb', buffering=0), offset, length,
                    lambda: self.sent.append(True))

    def sendfile(self, body, length, keep=None):
        """Send ``body`` as gunicorn does (socket.sendfile from the file's
        position, Content-Length bytes) to a peer that reads ``keep``
        bytes (all when None) and then goes away; what the peer read."""
        ours, peer = socket.socketpair()
        received = bytearray()

        def read():
            while keep is None or len(received) < keep:
                chunk = peer.recv(65536)
                if not chunk:
                    break
                received.extend(chunk)
            peer.close()
        reader = threading.Thread(target=read)
        reader.start()
        try:
            fileno = body.filelike.fileno()
            ours.sendfile(body.filelike, os.lseek(fileno, 0, os.SEEK_CUR),
                          length)
        except OSError:
            pass    # the peer went away
        finally:
            ours.close()
            body.close()
            reader.join()
        return bytes(received)

    def test_a_window_sent_whole_is_exact_and_notified_once(self):
        for offset, length in ((0, len(DATA)), (1000, 5000),
                               (len(DATA) - 1, 1)):
            del self.sent[:]
            body = self.body(offset, length)
            self.assertIsInstance(body, gunicorn_wsgi.FileWrapper)
            self.assertEqual(DATA[offset:offset + length],
                             self.sendfile(body, length))
            self.assertEqual([True], self.sent)

    def test_a_send_the_client_broke_off_is_not_notified(self):
        received = self.sendfile(self.body(0, len(DATA)), len(DATA),
                                 keep=65536)
        self.assertTrue(len(received) < len(DATA))
        self.assertEqual([], self.sent)

    def test_read_instead_of_sent_it_ends_at_the_window_and_notifies(self):
        # gunicorn reads the file where it cannot sendfile (TLS).
        body = self.body(100, 200000)
        chunks = list(body)
        self.assertEqual([], self.sent)     # not before the server asks
        body.close()
        self.assertEqual(DATA[100:200100], b''.join(chunks))
        self.assertEqual([True], self.sent)

    def test_a_body_closed_before_it_was_all_read_is_not_notified(self):
        body = self.body(0, len(DATA))
        next(iter(body))
        body.close()
        body = self.body(0, len(DATA))      # a HEAD request: nothing read
        body.close()
        self.assertEqual([], self.sent)

    def test_other_servers_get_no_file_sender(self):
        for environ in ({}, {'wsgi.file_wrapper': wsgiref.util.FileWrapper},
                        {'wsgi.file_wrapper': lambda f, size=0: f}):
            self.assertIsNone(edge.file_sender(environ))
