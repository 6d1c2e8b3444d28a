"""tools/dev.py test: skipped tests fail the run unless allowed."""

import io
import subprocess
import sys
import textwrap
import unittest.mock

import fixtures
import testtools

from tests import base
from tools import dev
from tools import skips


class TestSkips(testtools.TestCase):

    def test_skips_and_their_reasons_are_read_from_the_subunit_stream(self):
        module = self.useFixture(fixtures.TempDir()).path
        with open(module + '/test_sample.py', 'w') as f:
            f.write(textwrap.dedent('''
                import unittest

                class T(unittest.TestCase):
                    def test_runs(self):
                        pass

                    def test_skips(self):
                        self.skipTest('no DNS here')
                '''))
        stream = subprocess.run(
            [sys.executable, '-m', 'subunit.run', 'test_sample'],
            cwd=module, capture_output=True, check=True).stdout
        self.assertEqual([['test_sample.T.test_skips', 'no DNS here']],
                         skips.skipped(io.BytesIO(stream)))

    def judge(self, found, allowed=(), env=None):
        self.useFixture(fixtures.EnvironmentVariable(
            'GA_TEST_ALLOW_UNAVAILABLE', env))
        with unittest.mock.patch.object(dev, 'SKIPS_ALLOWED',
                                        list(allowed)), \
                unittest.mock.patch('sys.stdout', new=io.StringIO()) as out:
            return dev._judge_skips(found), out.getvalue()

    def test_a_skip_not_on_the_list_fails_the_run_and_is_printed(self):
        failed, printed = self.judge([['t.a', 'MariaDB is down']])
        self.assertTrue(failed)
        self.assertIn('SKIPPED t.a: MariaDB is down', printed)
        self.assertIn('1 skips not on the list fail the run', printed)

    def test_a_skip_on_the_list_passes_and_the_list_is_printed(self):
        failed, printed = self.judge([['t.a', 'needs DNS']], ['DNS'])
        self.assertFalse(failed)
        self.assertIn('Skips allowed (tools/dev.py SKIPS_ALLOWED): DNS',
                      printed)
        self.assertIn('skipped (allowed) t.a: needs DNS', printed)

    def test_a_developer_may_let_unreachable_servers_skip(self):
        failed, printed = self.judge([['t.a', 'MariaDB is down']],
                                     env='1')
        self.assertFalse(failed)
        self.assertIn('GA_TEST_ALLOW_UNAVAILABLE=1', printed)

    def test_no_skip_passes(self):
        self.assertFalse(self.judge([])[0])

    def test_an_unreachable_server_fails_a_test_naming_it(self):
        self.useFixture(fixtures.EnvironmentVariable(
            'GA_TEST_ALLOW_UNAVAILABLE', None))
        error = self.assertRaises(base.ServerUnavailable, base.unavailable,
                                  Exception('RabbitMQ at 127.0.0.1:1 '
                                            'cannot be reached'))
        self.assertIn('RabbitMQ at 127.0.0.1:1 cannot be reached',
                      str(error))
