"""Which process recorded an upload, and whether it still runs
(glance.artifacts.catalog.this_process and _process_alive): the clean-up
of dead uploads, by requests and by garbage collection, deletes what an
upload wrote when its process is judged dead."""

import os
import signal
import socket
import subprocess
import time

import psutil
import testtools

from glance.artifacts import catalog


def _record(pid, start):
    return '%s:%d:%.2f' % (socket.gethostname(), pid, start)


class TestUploaderProcess(testtools.TestCase):

    def child(self):
        process = subprocess.Popen(['sleep', '300'])
        self.addCleanup(process.wait)
        self.addCleanup(process.kill)
        return process, _record(process.pid, catalog._stat(process.pid)[1])

    def test_this_process_is_alive(self):
        self.assertIs(True, catalog._process_alive(catalog.this_process()))

    def test_the_start_is_counted_from_boot_not_from_the_epoch(self):
        host, pid, start = catalog.this_process().rsplit(':', 2)
        self.assertEqual((socket.gethostname(), os.getpid()),
                         (host, int(pid)))
        since_boot = time.clock_gettime(time.CLOCK_BOOTTIME)
        self.assertLess(float(start), since_boot)
        # The same moment as psutil's wall-clock create_time().
        self.assertLess(abs(time.time() - since_boot + float(start) -
                            psutil.Process().create_time()), 1.0)

    def test_another_start_of_the_same_pid_is_another_process(self):
        _process, record = self.child()
        host, pid, start = record.rsplit(':', 2)
        self.assertIs(True, catalog._process_alive(record))
        for other in (float(start) + 1, float(start) - 0.01):
            self.assertIs(False, catalog._process_alive(
                '%s:%s:%.2f' % (host, pid, other)))

    def test_a_process_that_is_gone_is_dead(self):
        process, record = self.child()
        process.kill()
        process.wait()
        self.assertIs(False, catalog._process_alive(record))

    def test_a_killed_process_not_yet_reaped_is_dead(self):
        process, record = self.child()
        os.kill(process.pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while catalog._stat(process.pid)[0] != 'Z':
            self.assertLess(time.monotonic(), deadline,
                            'the killed child never became a zombie')
            time.sleep(0.01)
        self.assertIs(False, catalog._process_alive(record))

    def test_what_cannot_be_judged_here_is_left_to_the_heartbeat(self):
        wall_clock = '%s:%d:%.3f' % (socket.gethostname(), os.getpid(),
                                     psutil.Process().create_time())
        for record in (wall_clock, 'other-host:1:1.00', 'no process', ''):
            self.assertIsNone(catalog._process_alive(record), record)
