"""Print the skipped tests of a subunit v2 stream (stdin) as JSON: a list
of [test id, reason]. tools/dev.py runs it with the interpreter that has
python-subunit (the test extras) on ``stestr last --subunit``."""

import json
import sys

import subunit
import testtools


def skipped(stream):
    found = []

    def on_test(test):
        if test['status'] == 'skip':
            reason = test['details'].get('reason')
            found.append([test['id'],
                          reason.as_text() if reason is not None else ''])
    result = testtools.StreamToDict(on_test)
    result.startTestRun()
    try:
        subunit.ByteStreamToStreamResult(
            stream, non_subunit_name='stdout').run(result)
    finally:
        result.stopTestRun()
    return found


if __name__ == '__main__':
    json.dump(skipped(sys.stdin.buffer), sys.stdout)
