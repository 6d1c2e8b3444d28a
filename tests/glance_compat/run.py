#!/usr/bin/env python3
"""Glance's own images functional tests, with and without /v2/artifacts.

    pip install -r tests/glance_compat/requirements.txt
    python tests/glance_compat/run.py [--jobs N]

Runs glance/tests/functional/v2/test_images.py, as shipped in the installed
glance package, twice: as Glance ships it, and with our mount added to the
paste config of Glance's test harness. Mounting artifacts must change
nothing for images, so both runs must pass exactly the same tests.

How the mount gets in, without touching Glance: every test class of that
module derives from glance.tests.functional.SynchronousAPIBase, whose setUp()
calls setup_simple_paste() to write glance-api-paste.ini into the test's
temporary directory, and whose start_server() loads the WSGI app from that
file. For the mounted run each test class is subclassed with MountArtifacts
in front; its setup_simple_paste() lets Glance write the file, then adds our
mount exactly as etc/glance-api-paste.ini of this repository ships it (the
"/v2/artifacts: artifacts" line of [composite:rootapp] and the
[app:artifacts] section) with our filter (its section, and its name before
versionnegotiation in each pipeline, or first in a pipeline without
versionnegotiation). Nothing else changes; test ids stay Glance's.

Like Glance's own CI (stestr), each worker runs in the directory that holds
the glance package (the tests open glance/tests/etc/... relative to it) and
first discovers all of glance/tests/functional: importing those modules is
what registers options such as [database] that test_images needs. A worker
then runs its share of the test_images tests.

The mounted run also runs one test of ours, MOUNT_CHECK, which asserts that
GET /v2/artifacts answers 200 and GET /v2/artifacts/%ff our filter's 400
through the same test pipeline, so a mount that silently did not load
cannot pass.

Exits non-zero when the two runs pass different tests, when MOUNT_CHECK did
not pass, when no test ran, when discovery could not import a module, or
when a test failed in both runs without being listed in ALLOWED_FAILURES (so
an environment that breaks every test cannot look like agreement).
"""

import argparse
import configparser
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PASTE_INI = os.path.join(REPO, 'etc', 'glance-api-paste.ini')
MOUNT_PATH = '/v2/artifacts'

DISCOVER = 'glance/tests/functional'
MODULE = 'glance.tests.functional.v2.test_images'
MOUNT_CHECK = 'glance_compat.ArtifactsMount.test_artifacts_api_answers'

_DNS = ("needs DNS: Glance validates web-download URIs by resolving the host "
        "with a trailing dot ('localhost.', 'example.com.'), which /etc/hosts "
        "does not answer; this machine has no DNS resolver")
_QEMU = ("needs qemu-img: apt-get install -y --no-install-recommends "
         "qemu-utils")

# Tests that may fail in BOTH runs, with the reason. They still run: a test
# listed here that passes without the mount must pass with it too.
ALLOWED_FAILURES = {
    MODULE + '.TestImagesSingleStore.test_image_import_using_web_download':
        _DNS,
    MODULE + '.TestImagesSingleStore.test_web_download_redirect_validation':
        _DNS,
    MODULE + '.TestCopyImagePermissions.test_copy_public_image_as_non_admin':
        _DNS,
    MODULE + '.TestCopyImagePermissions.'
             'test_copy_public_image_as_non_admin_permitted': _DNS,
    MODULE + '.TestKeystoneQuotas.test_stage': _DNS,
    MODULE + '.TestImagesSingleStore.'
             'test_image_import_qcow_virtual_size_calculation': _QEMU,
    MODULE + '.TestImagesSingleStore.'
             'test_image_upload_qcow_virtual_size_calculation': _QEMU,
}


# -- the mount ---------------------------------------------------------------

def shipped_mount():
    """(app name, app section, filter name, filter section) of our mount
    in etc/glance-api-paste.ini: the filter is the one before
    versionnegotiation in its default pipeline."""
    ini = configparser.ConfigParser(interpolation=None)
    ini.optionxform = str
    if not ini.read(PASTE_INI):
        raise RuntimeError('cannot read %s' % PASTE_INI)
    app = ini['composite:rootapp'][MOUNT_PATH]
    pipeline = ini['composite:api']['default'].split()
    name = pipeline[pipeline.index('versionnegotiation') - 1]
    return (app, dict(ini['app:' + app]), name,
            dict(ini['filter:' + name]))


class MountArtifacts(object):
    """Put in front of a SynchronousAPIBase test class: adds our mount to the
    paste config that Glance's setup_simple_paste() writes."""

    def setup_simple_paste(self):
        super(MountArtifacts, self).setup_simple_paste()
        app, app_conf, name, filter_conf = shipped_mount()
        with open(self.paste_config) as f:
            paste = f.read()
        rootapp = '[composite:rootapp]\n'
        if paste.count(rootapp) != 1:
            raise RuntimeError('Glance test paste config %s has no single '
                               '[composite:rootapp] section to mount %s in'
                               % (self.paste_config, MOUNT_PATH))
        paste = paste.replace(rootapp,
                              rootapp + '%s: %s\n' % (MOUNT_PATH, app))
        paste = '\n'.join(_with_filter(line, name)
                          for line in paste.split('\n'))
        paste += '\n[app:%s]\n' % app
        paste += ''.join('%s = %s\n' % item for item in app_conf.items())
        paste += '\n[filter:%s]\n' % name
        paste += ''.join('%s = %s\n' % item for item in filter_conf.items())
        with open(self.paste_config, 'w') as f:
            f.write(paste)


def _with_filter(line, name):
    """A line of a paste config, with the filter ``name`` added if it is a
    pipeline: before versionnegotiation, or first."""
    key, sep, value = line.partition('=')
    if key.strip() != 'pipeline':
        return line
    filters = value.split()
    at = (filters.index('versionnegotiation')
          if 'versionnegotiation' in filters else 0)
    return '%s%s %s' % (key, sep, ' '.join(filters[:at] + [name] +
                                           filters[at:]))


_MOUNTED = {}


def with_mount(test):
    """The same Glance test, as an instance of a MountArtifacts subclass of
    its class (same module and class name, so the same test id)."""
    cls = type(test)
    if cls not in _MOUNTED:
        _MOUNTED[cls] = type(cls.__name__, (MountArtifacts, cls),
                             {'__module__': cls.__module__,
                              '__qualname__': cls.__qualname__})
    return _MOUNTED[cls](test._testMethodName)


def mount_check():
    from glance.tests import functional

    class ArtifactsMount(MountArtifacts, functional.SynchronousAPIBase):
        def test_artifacts_api_answers(self):
            self.start_server()
            resp = self.api_get(MOUNT_PATH)
            self.assertEqual(200, resp.status_code, resp.text)
            self.assertTrue(resp.json['artifact_types'], resp.text)
            resp = self.api_get('/v2/images')
            self.assertEqual(200, resp.status_code, resp.text)
            # The filter is in the pipeline.
            resp = self.api_get(MOUNT_PATH + '/%ff')
            self.assertEqual(400, resp.status_code, resp.text)
            self.assertIn('not valid UTF-8', resp.text)

    # its id is MOUNT_CHECK
    ArtifactsMount.__module__ = 'glance_compat'
    ArtifactsMount.__qualname__ = 'ArtifactsMount'
    return ArtifactsMount('test_artifacts_api_answers')


# -- a worker: one share of one run, in the directory that holds glance ------

class Recorder(unittest.TestResult):
    """Keeps {test id: {'outcome': ..., 'detail': traceback}}."""

    def __init__(self, log):
        super(Recorder, self).__init__()
        self.log = log
        self.outcomes = {}

    def _record(self, test, outcome, detail=''):
        self.outcomes[test.id()] = {'outcome': outcome, 'detail': detail}
        self.log.write('%s %s\n' % (outcome.upper(), test.id()))
        if detail:
            self.log.write(detail + '\n')
        self.log.flush()

    def addSuccess(self, test):
        super(Recorder, self).addSuccess(test)
        self._record(test, 'pass')

    def addFailure(self, test, err):
        super(Recorder, self).addFailure(test, err)
        self._record(test, 'fail', self.failures[-1][1])

    def addError(self, test, err):
        super(Recorder, self).addError(test, err)
        self._record(test, 'error', self.errors[-1][1])

    def addSkip(self, test, reason):
        super(Recorder, self).addSkip(test, reason)
        self._record(test, 'skip', reason)

    def addExpectedFailure(self, test, err):
        super(Recorder, self).addExpectedFailure(test, err)
        self._record(test, 'xfail')

    def addUnexpectedSuccess(self, test):
        super(Recorder, self).addUnexpectedSuccess(test)
        self._record(test, 'fail', 'unexpected success')


def _flatten(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from _flatten(item)
        else:
            yield item


def worker(args):
    loader = unittest.TestLoader()
    discovered = loader.discover(DISCOVER, top_level_dir='.')
    if loader.errors:
        for error in loader.errors:
            print(error)
        print('discovery of %s failed; pip install -r %s'
              % (DISCOVER, os.path.join(os.path.dirname(__file__),
                                        'requirements.txt')))
        return 3
    tests = [t for t in _flatten(discovered)
             if t.id().startswith(MODULE + '.')]
    tests = tests[args.shard::args.shards]
    if args.mount:
        tests = [with_mount(t) for t in tests]
        if args.shard == 0:
            tests.append(mount_check())
    with open(args.out + '.log', 'w') as log:
        result = Recorder(log)
        unittest.TestSuite(tests).run(result)
    with open(args.out, 'w') as f:
        json.dump(result.outcomes, f, indent=1)
    return 0


# -- the two runs and their comparison -------------------------------------

def run(label, mount, glance_dir, jobs, out_dir, timeout):
    """Run test_images in `jobs` workers.

    Returns ({test id: outcome}, seconds, [problems with the workers]).
    """
    start = time.monotonic()
    workers = []
    for shard in range(jobs):
        out = os.path.join(out_dir, '%s-%d.json' % (label, shard))
        cmd = [sys.executable, os.path.abspath(__file__), '--worker',
               '--shard', str(shard), '--shards', str(jobs), '--out', out]
        if mount:
            cmd.append('--mount')
        output = open(out + '.output', 'w')
        proc = subprocess.Popen(cmd, cwd=glance_dir, stdout=output,
                                stderr=subprocess.STDOUT)
        workers.append((proc, out, output))
    outcomes, broken = {}, []
    for proc, out, output in workers:
        try:
            code = proc.wait(max(1, start + timeout - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            code = 'killed after %d s' % timeout
        proc.wait()
        output.close()
        if code != 0:
            with open(output.name) as f:
                tail = ''.join(f.readlines()[-15:])
            broken.append('%s run: worker exit %s, see %s and %s.log:\n%s'
                          % (label, code, output.name, out, tail))
            continue
        with open(out) as f:
            outcomes.update(json.load(f))
    return outcomes, time.monotonic() - start, broken


def passed(outcomes):
    return {t for t, o in outcomes.items() if o['outcome'] == 'pass'}


def failed(outcomes):
    return {t for t, o in outcomes.items()
            if o['outcome'] not in ('pass', 'skip')}


def last_line(detail):
    lines = [line.strip() for line in detail.splitlines() if line.strip()]
    errors = [line for line in lines if 'Error' in line or 'Exception' in line]
    return (errors or lines or ['?'])[-1][:160]


def compare(plain, mounted, check):
    """Print what failed in both runs; return the problems found."""
    problems = []
    if check['outcome'] != 'pass':
        problems.append('the mounted run did not serve %s: %s'
                        % (MOUNT_PATH, last_line(check['detail'])))
    if not plain or not mounted:
        problems.append('no test ran')
    if set(plain) != set(mounted):
        problems.append('the runs ran different tests: %s'
                        % sorted(set(plain) ^ set(mounted)))
    for test in sorted(passed(plain) - passed(mounted)):
        problems.append('passes only WITHOUT the mount: %s: %s' % (
            test, last_line(mounted.get(test, {}).get('detail', ''))))
    for test in sorted(passed(mounted) - passed(plain)):
        problems.append('passes only WITH the mount: %s: %s' % (
            test, last_line(plain.get(test, {}).get('detail', ''))))

    both = sorted(failed(plain) & failed(mounted))
    if both:
        print('Failing in both runs:')
    for test in both:
        reason = ALLOWED_FAILURES.get(test)
        if not reason:
            reason = 'UNEXPECTED: ' + last_line(plain[test]['detail'])
            problems.append('fails in both runs, not in ALLOWED_FAILURES: '
                            + test)
        print('  %s\n      %s' % (test[len(MODULE) + 1:], reason))
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--jobs', type=int, default=os.cpu_count() or 1,
                        help='workers per run (default: CPU count)')
    parser.add_argument('--timeout', type=int, default=1800,
                        help='seconds one run may take (default: 1800)')
    for hidden in ('--worker', '--mount'):
        parser.add_argument(hidden, action='store_true',
                            help=argparse.SUPPRESS)
    for hidden in ('--shard', '--shards'):
        parser.add_argument(hidden, type=int, help=argparse.SUPPRESS)
    parser.add_argument('--out', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)

    glance_dir = os.path.dirname(os.path.dirname(
        importlib.util.find_spec('glance').origin))
    out_dir = tempfile.mkdtemp(prefix='glance-compat-')
    print('%s from %s, %d workers per run, logs in %s'
          % (MODULE, glance_dir, args.jobs, out_dir), flush=True)
    # glance/tests/__init__.py logs to ./run_tests.log: leave none behind.
    run_log = os.path.join(glance_dir, 'run_tests.log')
    had_run_log = os.path.exists(run_log)
    try:
        plain, plain_s, broken = run('plain', False, glance_dir, args.jobs,
                                     out_dir, args.timeout)
        mounted, mounted_s, broken_m = run('mounted', True, glance_dir,
                                           args.jobs, out_dir, args.timeout)
    finally:
        if not had_run_log and os.path.exists(run_log):
            os.remove(run_log)
    check = mounted.pop(MOUNT_CHECK, {'outcome': 'did not run', 'detail': ''})

    for label, outcomes, seconds in (('without the mount', plain, plain_s),
                                     ('with the mount', mounted, mounted_s)):
        skipped = len(outcomes) - len(passed(outcomes)) - len(failed(outcomes))
        print('  %-18s %d tests: %d passed, %d failed, %d skipped  (%.0f s)'
              % (label + ':', len(outcomes), len(passed(outcomes)),
                 len(failed(outcomes)), skipped, seconds))
    print('  mount check, GET %s through the test pipeline: %s'
          % (MOUNT_PATH, check['outcome']))
    problems = broken + broken_m + compare(plain, mounted, check)
    for problem in problems:
        print('PROBLEM: ' + problem)
    if not problems:
        print('Same %d of %d tests pass with and without the mount.'
              % (len(passed(plain)), len(plain)))
    # No "N passed, N failed" line here: tools/dev.py test closes the whole
    # run with one, counting this comparison as one test.
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
