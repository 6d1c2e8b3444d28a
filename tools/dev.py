#!/usr/bin/env python3
"""Development helper: the README's quick start.

    python3 tools/dev.py serve   # artifacts on 127.0.0.1:9292, OCI on :9494
    python3 tools/dev.py test    # the whole test suite

Both create .venv (once) with Glance and glance-artifacts installed from
this checkout. ``serve`` writes a development configuration into .dev/
(SQLite file, filesystem store, no auth), migrates Glance's and our tables,
and runs ``glance.wsgi.api:application`` under gunicorn (or uWSGI, with
``serve --server uwsgi``), twice: with /v2/artifacts and images, and with
the OCI distribution API (flavor oci). Give --no-venv to use the running
interpreter's environment (tox does).
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import venv

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, '.venv')
DEV = os.path.join(ROOT, '.dev')

CONFIG = """\
[DEFAULT]
debug = {debug}
enabled_backends = {backends}
log_file = {dev}/glance-api.log

[paste_deploy]
flavor = {flavor}

[database]
connection = {database}

[glance_store]
default_backend = fs

[fs]
filesystem_store_datadir = {dev}/store

{more_stores}
[os_glance_staging_store]
filesystem_store_datadir = {dev}/staging

[os_glance_tasks_store]
filesystem_store_datadir = {dev}/tasks

[oslo_policy]
# No auth: Glance's images API then passes its policy through the
# pre-secure-RBAC rules, as its own no-auth development setup does.
enforce_new_defaults = False
enforce_scope = False

[artifacts]
enabled_types = {types}
inspect_content = {inspect_content}
"""

DEFAULT_TYPES = ('heat_templates,heat_environments,murano_packages,'
                 'tosca_templates,images')
# The types of the OCI distribution API, which `serve` enables too.
OCI_TYPES = 'oci_repositories,oci_manifests,oci_blobs,oci_uploads'


# The WSGI servers glance-api is tested and served under.
WSGI_SERVERS = ('gunicorn', 'uwsgi')
# uWSGI's chunked-input-limit: the largest chunk a client may send.
UWSGI_CHUNK_LIMIT = 8 * 1024 * 1024


def server_command(bindir, app, bind, workers, threads, server='gunicorn',
                   read_timeout=60, worker_timeout=120):
    """The command that serves the WSGI ``app`` on ``bind`` under gunicorn
    or uWSGI, as doc/source/admin/wsgi-servers.rst configures them.
    ``read_timeout`` is uWSGI's socket-timeout (how long a read of a
    request body with a Content-Length waits for data: [artifacts]
    upload_idle_timeout); ``worker_timeout`` is gunicorn's timeout."""
    if server == 'uwsgi':
        return [os.path.join(bindir, 'uwsgi'), '--http-socket', bind,
                '--module', app, '--master', '--processes', str(workers),
                '--threads', str(threads), '--lazy-apps', '--need-app',
                '--die-on-term', '--buffer-size', '65535',
                '--add-header', 'Connection: close',
                '--http-chunked-input',
                '--chunked-input-limit', str(UWSGI_CHUNK_LIMIT),
                '--socket-timeout', str(read_timeout)]
    return [os.path.join(bindir, 'gunicorn'), '--bind', bind,
            '--workers', str(workers), '--threads', str(threads),
            '--timeout', str(worker_timeout), app]


def _bin(name, use_venv):
    if use_venv:
        return os.path.join(VENV, 'bin', name)
    return os.path.join(os.path.dirname(sys.executable), name)


def ensure_venv():
    """Create .venv and install this checkout with its test extras, and
    the client (client/); pip only downloads what changed since the last
    run."""
    python = os.path.join(VENV, 'bin', 'python')
    if not os.path.exists(python):
        print('Creating %s' % VENV, flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = os.path.join(VENV, '.installed')
    inputs = [os.path.join(ROOT, 'setup.cfg'),
              os.path.join(ROOT, 'tests', 'glance_compat',
                           'requirements.txt'),
              os.path.join(ROOT, 'doc', 'requirements.txt'),
              os.path.join(ROOT, 'client', 'setup.cfg')]
    if (not os.path.exists(stamp) or os.path.getmtime(stamp) <
            max(os.path.getmtime(p) for p in inputs)):
        print('Installing Glance and glance-artifacts into .venv '
              '(about a minute the first time)', flush=True)
        subprocess.check_call([python, '-m', 'pip', 'install', '-q',
                               '--upgrade', 'pip'])
        subprocess.check_call([python, '-m', 'pip', 'install', '-q',
                               '-e', ROOT + '[test,mysql,postgresql]',
                               '-e', os.path.join(ROOT, 'client'),
                               '-r', os.path.join(
                                   ROOT, 'tests', 'glance_compat',
                                   'requirements.txt'),
                               '-r', os.path.join(
                                   ROOT, 'doc', 'requirements.txt')])
        with open(stamp, 'w') as f:
            f.write('ok\n')


def write_config(confdir, datadir, flavor='', types=DEFAULT_TYPES,
                 debug=False, more_stores=(), database=None,
                 inspect_content=True):
    """A glance-api.conf and paste file for a development glance-api:
    ``database`` (by default a SQLite file in datadir), filesystem store
    "fs" in datadir/store, and one more filesystem store in datadir/NAME
    for each name in ``more_stores``; ``inspect_content`` is [artifacts]
    inspect_content."""
    database = database or 'sqlite:///%s/glance.sqlite' % datadir
    os.makedirs(confdir, exist_ok=True)
    for sub in ('store', 'staging', 'tasks') + tuple(more_stores):
        os.makedirs(os.path.join(datadir, sub), exist_ok=True)
    backends = ', '.join(['fs:file'] + ['%s:file' % n for n in more_stores])
    sections = ''.join('[%s]\nfilesystem_store_datadir = %s\n\n'
                       % (n, os.path.join(datadir, n)) for n in more_stores)
    with open(os.path.join(confdir, 'glance-api.conf'), 'w') as f:
        f.write(CONFIG.format(dev=datadir, flavor=flavor, types=types,
                              debug=debug, backends=backends,
                              more_stores=sections, database=database,
                              inspect_content=inspect_content))
    shutil.copy(os.path.join(ROOT, 'etc', 'glance-api-paste.ini'),
                os.path.join(confdir, 'glance-api-paste.ini'))
    return os.path.join(confdir, 'glance-api.conf')


def migrate(conf, use_venv):
    for tool in ('glance-manage', 'glance-artifacts-manage'):
        subprocess.check_call([_bin(tool, use_venv), '--config-file', conf,
                               'db', 'sync'],
                              stdout=subprocess.DEVNULL)


def serve(args):
    """glance-api with /v2/artifacts on --bind and, unless --oci-bind is
    empty, a second glance-api of the same configuration with the flavor
    'oci' (the OCI distribution API at the root) on --oci-bind; both end
    when one does or when this process is told to end."""
    dev = os.path.abspath(args.dev_dir)
    types = args.types
    if args.oci_bind:
        types = ','.join([types] + [t for t in OCI_TYPES.split(',')
                                    if t not in types.split(',')])
    conf = write_config(os.path.join(dev, 'etc'), dev, types=types)
    migrate(conf, not args.no_venv)
    bindir = os.path.dirname(_bin('python', not args.no_venv))
    listeners = [('', args.bind, 'etc', '/v2/artifacts')]
    if args.oci_bind:
        write_config(os.path.join(dev, 'etc-oci'), dev, flavor='oci',
                     types=types)
        listeners.append(('oci', args.oci_bind, 'etc-oci',
                          'the OCI distribution API (/v2/)'))
    servers = []
    for flavor, bind, confdir, what in listeners:
        print('glance-api with %s on http://%s (config in %s/%s, log in '
              '%s/glance-api.log)' % (what, bind, dev, confdir, dev),
              flush=True)
        env = dict(os.environ,
                   OS_GLANCE_CONFIG_DIR=os.path.join(dev, confdir))
        servers.append(subprocess.Popen(
            server_command(bindir, 'glance.wsgi.api:application', bind, 2,
                           4, args.server, worker_timeout=600), env=env))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while all(s.poll() is None for s in servers):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for server in servers:
            if server.poll() is None:
                server.terminate()
        for server in servers:
            server.wait()
    return max(s.returncode or 0 for s in servers)


def _last_run(use_venv, repository=None):
    """(passed, failed, skipped) of the last stestr run (of the stestr
    ``repository``, by default .stestr), by subunit-stats, and its skipped
    tests as [test id, reason]."""
    where = ['--repo-url', repository] if repository else []
    stream = subprocess.run([_bin('stestr', use_venv)] + where +
                            ['last', '--subunit'],
                            capture_output=True, cwd=ROOT).stdout
    stats = subprocess.run([_bin('subunit-stats', use_venv)], input=stream,
                           capture_output=True).stdout.decode()
    counts = dict(line.split(':', 1) for line in stats.splitlines()
                  if ':' in line)
    skips = json.loads(subprocess.run(
        [_bin('python', use_venv), os.path.join(ROOT, 'tools', 'skips.py')],
        input=stream, capture_output=True, check=True).stdout)
    return [int(counts.get('%s tests' % k, '0'))
            for k in ('Passed', 'Failed', 'Skipped')], skips


# Skips that do not fail a run: regular expressions that a skip's reason
# must match. None today: a test that cannot run here fails (a server it
# needs is down: tests.base.unavailable), unless a developer's own run sets
# GA_TEST_ALLOW_UNAVAILABLE=1. (Glance's own tests keep their own list of
# what this machine cannot run: tests/glance_compat/run.py.)
SKIPS_ALLOWED = []
# In a developer's own run, =1 lets tests whose server cannot be reached
# skip (tests.base.unavailable), and the run pass; CI never sets it.
ALLOW_UNAVAILABLE = 'GA_TEST_ALLOW_UNAVAILABLE'


def _judge_skips(skips):
    """Print the skipped tests; True when one of them fails the run."""
    refused = [(test, reason) for test, reason in skips
               if not any(re.search(p, reason) for p in SKIPS_ALLOWED)]
    print('Skips allowed (tools/dev.py SKIPS_ALLOWED): %s'
          % (', '.join(SKIPS_ALLOWED) or 'none'))
    for test, reason in skips:
        print('%s %s: %s' % ('SKIPPED' if (test, reason) in refused
                             else 'skipped (allowed)', test, reason))
    if refused and os.environ.get(ALLOW_UNAVAILABLE) == '1':
        print('%d skips not on the list pass: GA_TEST_ALLOW_UNAVAILABLE=1'
              % len(refused))
        return False
    if refused:
        print('%d skips not on the list fail the run' % len(refused))
    return bool(refused)


# The tests whose code paths differ with the database and the data API,
# again in the COMBINATIONS below of database (tests/databases.py) and
# data API mode (tests/registry.py); the whole suite runs on SQLite in
# direct mode first. Those are the functional tests (every data API call
# and its SQL), concurrent writers, and one endpoint serving images and
# artifacts; not the end-to-end tests of HTTP framing, start-up, the
# README or the CLI, whose paths are the same on every database. (Filters
# are regular expressions.)
AGAIN = ['tests.functional', 'tests.e2e.test_concurrency',
         r'tests\.e2e\.test_server\.(TestOneEndpoint|TestArtifactsOnlyFlavor)'
         r'\.']
# Functional tests left out of the matrix: content inspection and the
# types' declarations, which read no database.
NO_DATABASE = r'tests\.functional\.(test_inspection|test_types)\.'
# Tests that use no data API, left out of the registry runs: those of
# migrations and plans, and those of the SQL that lists Glance's images
# (glance-api runs it itself in both modes).
NO_DATA_API = (r'tests\.functional\.(test_migrations\.|test_images\.'
               r'TestImage(sListedAsGlanceListsThem|VersionsInTheDatabase))')
# Tests that run glance-api through a registry whatever the mode:
# test_registry (test_registry\. leaves out test_registry_tokens, which
# sets up its own registry) and the registry's checks against a real
# Keystone; on each database server once.
WIRE_TESTS = [r'tests\.e2e\.test_registry\.', r'tests\.e2e\.test_trust\.']
# The blob tests against a real server, through the registry (on SQLite;
# on PostgreSQL they run with S3, below).
REGISTRY_BLOB_TESTS = ['tests.e2e.test_blobs']
# The registry runs on SQLite and PostgreSQL: its own code (the RPC, its
# checks and errors) is the same on every database, and what it runs
# against the database is the direct mode's code, which runs on MariaDB.
# (database, data API, more tests), in the order they start.
COMBINATIONS = [('postgresql', 'registry', WIRE_TESTS),
                ('sqlite', 'registry', REGISTRY_BLOB_TESTS),
                ('mysql', 'sqlalchemy', WIRE_TESTS),
                ('postgresql', 'sqlalchemy', [])]
# Then the blob tests with an S3 bucket as the default backend
# (GA_TEST_STORE=s3, tests/s3.py) on the database servers (on SQLite they
# run on S3 under uWSGI, below), with the garbage collector's tests (its
# SQL; they pick their store themselves, and run on S3 in stage 1) and the
# two-host tests (two hosts on one database and one bucket), and the OCI
# tests (their pushes and pulls on S3, MariaDB, PostgreSQL, the registry;
# not those with Keystone, which run in direct mode on SQLite in stage 1,
# as the other Keystone tests).
BLOB_TESTS = ['tests.functional.test_blobs', 'tests.functional.test_copies',
              'tests.e2e.test_blobs']
STORE_TESTS = BLOB_TESTS + [r'tests\.e2e\.test_stores\.TestGarbageOnFiles\.',
                            'tests.e2e.test_hosts',
                            r'tests\.e2e\.test_oci\.(TestProtocol|TestGarbage|'
                            r'TestClients)\.']
S3_RUNS = [('postgresql', 'registry', STORE_TESTS),
           ('mysql', 'sqlalchemy', STORE_TESTS)]
# Then the end-to-end tests whose behaviour depends on the WSGI server
# (upload framing, broken, idle and killed clients and servers, exact
# lengths and ranges, refused connections, the README walk-through) again
# under uWSGI (GA_TEST_WSGI_SERVER), on SQLite in direct mode, on the file
# store and on S3; not the one of connections kept alive, which uWSGI, as
# configured (Connection: close), does not keep.
UWSGI_TESTS = ['tests.e2e.test_blobs', 'tests.e2e.test_edge',
               'tests.e2e.test_server', 'tests.e2e.test_readme']
UWSGI_RUNS = [('file', UWSGI_TESTS), ('s3', ['tests.e2e.test_blobs'])]
UWSGI_EXCLUDE = r'test_requests_whose_body_was_read_keep_their_connection'


# The stages run side by side, as many test processes at once as SLOTS:
# the first stage with stestr's two workers, every other stage with one
# (its database, registry and servers start once), longest first, so that
# no core waits for the last test of a stage. Each stage has a stestr
# repository and a log of its own in STAGES.
SLOTS = 3
STAGES = os.path.join(ROOT, '.stestr-stages')


def stages():
    """The whole suite: [(title, stestr run arguments or None for
    Glance's own tests, environment, workers)], longest first."""
    found = [('every test on SQLite, data API sqlalchemy', [], {}, 2)]
    runs = [(database, mode, more, False)
            for database, mode, more in COMBINATIONS]
    # The longer stages first: an S3 run, then two combinations.
    for i, (database, mode, tests) in enumerate(S3_RUNS):
        runs.insert(3 * i, (database, mode, tests, True))
    for database, mode, tests, on_s3 in runs:
        env = dict(GA_TEST_DATABASE=database, GA_TEST_DATA_API=mode)
        if on_s3:
            found.append(('blob tests on S3, %s, data API %s'
                          % (database, mode), tests,
                          dict(env, GA_TEST_STORE='s3'), 1))
            continue
        exclude = NO_DATABASE
        if mode == 'registry':
            # The migration and plan tests use no data API: they run with
            # this database in the direct mode (NO_DATA_API).
            exclude += '|' + NO_DATA_API
        arguments = ['--exclude-regex', exclude] + AGAIN + tests
        found.append(('functional and end-to-end tests on %s, data API %s'
                      % (database, mode), arguments, env, 1))
    for store, tests in UWSGI_RUNS:
        found.append(('end-to-end tests under uWSGI, %s store' % store,
                      ['--exclude-regex', UWSGI_EXCLUDE] + tests,
                      dict(GA_TEST_WSGI_SERVER='uwsgi', GA_TEST_STORE=store),
                      1))
    # Glance's own images tests, with and without our mount.
    found.append(("Glance's images tests", None, {}, 1))
    return found


def _start_stage(number, stage, use_venv):
    """The process of a stage, its output going to its log."""
    title, arguments, env, workers = stage
    if arguments is None:
        argv = [_bin('python', use_venv),
                os.path.join(ROOT, 'tests', 'glance_compat', 'run.py')]
    else:
        repository = os.path.join(STAGES, str(number))
        shutil.rmtree(repository, ignore_errors=True)
        os.makedirs(repository)
        argv = ([_bin('stestr', use_venv), '--repo-url', repository,
                 'run', '--concurrency', str(workers)] + arguments)
    with open(os.path.join(STAGES, '%d.log' % number), 'wb') as log:
        return subprocess.Popen(argv, cwd=ROOT, stdout=log,
                                stderr=subprocess.STDOUT,
                                env=dict(os.environ, **env))


def _report_stage(number, stage, code, use_venv):
    """(passed, failed, skipped) of a finished stage and its skips; a
    failed stage's log is printed without its passing tests."""
    title, arguments, _env, _workers = stage
    if arguments is None:
        counts, skips = [0, 1, 0] if code else [1, 0, 0], []
    else:
        counts, skips = _last_run(use_venv,
                                  os.path.join(STAGES, str(number)))
    if code or counts[1]:
        with open(os.path.join(STAGES, '%d.log' % number),
                  errors='replace') as f:
            print('\n== %s FAILED (exit %s); its log without the tests '
                  'that passed:' % (title, code))
            print(''.join(line for line in f
                          if not line.rstrip().endswith('... ok')))
    return counts, skips


def test(args):
    """The whole suite: stestr on SQLite in direct mode; the tests whose
    paths differ with the database and the data API in the other
    combinations of SQLite, MariaDB and PostgreSQL with the direct and
    registry data APIs; the blob and store tests on S3; the WSGI server's
    tests under uWSGI; Glance's own images tests with and without our
    mount. Arguments are a filter for one stestr run on SQLite instead."""
    use_venv = not args.no_venv
    os.chdir(ROOT)
    started = time.monotonic()
    if args.rest:
        code = subprocess.call([_bin('stestr', use_venv), 'run'] +
                               args.rest)
        counts, skips = _last_run(use_venv)
        finished = [('stestr run ' + ' '.join(args.rest),
                     time.monotonic() - started, counts, code)]
    else:
        finished = _run_stages(stages(), use_venv)
        skips = [s for _t, _s, _c, _x, found in finished for s in found]
        finished = [f[:4] for f in finished]
    print('\nStages (seconds; passed, failed, skipped):')
    for title, seconds, counts, _code in finished:
        print('  %6.0f  %-58s %s' % (seconds, title,
                                     ', '.join(str(c) for c in counts)))
    print('  %6.0f  in all' % (time.monotonic() - started))
    passed, failed, skipped = [sum(f[2][i] for f in finished)
                               for i in range(3)]
    refused = _judge_skips(skips)
    print('%d passed, %d failed, %d skipped' % (passed, failed, skipped))
    sys.exit(1 if any(f[3] for f in finished) or failed or not passed or
             refused else 0)


def _run_stages(all_stages, use_venv):
    """Run the stages, SLOTS test processes at a time; [(title, seconds,
    counts, exit code, skips)] in the order they finished."""
    os.makedirs(STAGES, exist_ok=True)
    pending = list(enumerate(all_stages))
    running, finished = {}, []
    print('Running %d stages, %d test processes at a time; each stage\'s '
          'output is in %s/N.log' % (len(pending), SLOTS, STAGES),
          flush=True)
    while pending or running:
        busy = sum(stage[3] for _n, stage, _b in running.values())
        while pending and busy + pending[0][1][3] <= SLOTS:
            number, stage = pending.pop(0)
            print('== %d. %s: started' % (number, stage[0]), flush=True)
            running[_start_stage(number, stage, use_venv)] = (
                number, stage, time.monotonic())
            busy += stage[3]
        time.sleep(1)
        for process in [p for p in running if p.poll() is not None]:
            number, stage, begun = running.pop(process)
            counts, skips = _report_stage(number, stage,
                                          process.returncode, use_venv)
            seconds = time.monotonic() - begun
            print('== %d. %s: %s passed, %s failed, %s skipped in %.0f s'
                  % ((number, stage[0]) + tuple(counts) + (seconds,)),
                  flush=True)
            finished.append((stage[0], seconds, counts, process.returncode,
                             skips))
    return finished


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--no-venv', action='store_true',
                        help='use the environment of the interpreter that '
                             'runs this script, as it is (default: create '
                             '.venv in the checkout once, install or update '
                             'Glance, this checkout and the client in it, '
                             'and use it)')
    sub = parser.add_subparsers(dest='command', required=True)
    serve_help = ('write a development configuration (SQLite database, '
                  'filesystem store, no auth) into --dev-dir, migrate '
                  "Glance's tables and ours, and serve glance-api with "
                  '/v2/artifacts')
    s = sub.add_parser('serve', help=serve_help, description=serve_help)
    s.add_argument('--bind', default='127.0.0.1:9292', metavar='HOST:PORT',
                   help='address and port to listen on (default: '
                        '%(default)s)')
    s.add_argument('--oci-bind', default='127.0.0.1:9494',
                   metavar='HOST:PORT',
                   help='address and port of the OCI distribution API (for '
                        'oras, skopeo and helm), a second glance-api on the '
                        'same data; empty for none (default: %(default)s)')
    s.add_argument('--server', choices=WSGI_SERVERS,
                   default='gunicorn',
                   help='the WSGI server, with 2 workers of 4 threads, '
                        'configured as doc/source/admin/wsgi-servers.rst '
                        'says (default: %(default)s)')
    s.add_argument('--types', default=DEFAULT_TYPES,
                   help='[artifacts] enabled_types: the artifact types to '
                        'serve, comma-separated; the OCI types are added '
                        'when --oci-bind is not empty (default: '
                        '%(default)s)')
    s.add_argument('--dev-dir', default=DEV, metavar='DIR',
                   help='directory for the configuration (DIR/etc, written '
                        'anew at each start), the SQLite database '
                        '(DIR/glance.sqlite), the filesystem store '
                        '(DIR/store) and the log (DIR/glance-api.log); '
                        'created if missing (default: %(default)s)')
    test_help = ('run the whole test suite: stestr on SQLite, then the '
                 'functional and end-to-end tests on the other databases '
                 'and data APIs, the blob tests on S3, the server-dependent '
                 "tests under uWSGI, and Glance's own image tests")
    t = sub.add_parser('test', help=test_help, description=test_help)
    t.add_argument('rest', nargs=argparse.REMAINDER, metavar='ARGS',
                   help='arguments for one "stestr run" on SQLite instead '
                        'of the whole suite, such as a test filter '
                        '(default: none, the whole suite)')
    args = parser.parse_args()
    if not args.no_venv:
        ensure_venv()
    if args.command == 'serve':
        sys.exit(serve(args))
    test(args)


if __name__ == '__main__':
    main()
