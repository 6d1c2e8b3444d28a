#!/usr/bin/env python3
"""One garbage-collection pass over a store of many objects.

    python3 benchmarks/gc.py [--store s3|file] [--n 100000]
                             [--orphans-percent 10]

Seeds a store (an S3 bucket of a moto server started here, or the
filesystem store) with N tiny objects named as artifact data
(``artifact-<uuid>``): for all but ``--orphans-percent`` of them, an
artifact and a blob row using it are inserted straight into the database
(SQLite); the rest are orphans, data that nothing uses. Then times one
``glance-artifacts-manage store gc --older-than 0`` and checks, from its
report and from the store, that exactly the orphans were deleted. Prints
the seeding times, the report, the time of the pass (target: 300 s
for 100000 objects) and its peak resident memory, which stays the same
for any N: the pass streams the listing and looks up names in batches.
With --profile FILE the pass runs under cProfile and its statistics go
to FILE (the time then includes the profiler's
overhead).
"""

import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

from oslo_utils import timeutils
import sqlalchemy as sa

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from glance.db.artifacts import models  # noqa: E402
from tests import base  # noqa: E402

BIN = os.path.dirname(sys.executable)
#: Seconds between readings of the pass's memory.
POLL = 0.02
PREFIX = 'artifact-'
TARGET_SECONDS = 300
# The blob rows' backend, by store (tests/base.py write_env names them).
BACKEND = {'s3': 's3', 'file': 'fs'}


def seed_s3(bucket, names, threads):
    """PUT a tiny object for each name, ``threads`` at a time."""
    import boto3
    from botocore import config as boto_config
    from tests import s3
    client = boto3.client(
        's3', endpoint_url=s3.endpoint(), aws_access_key_id=s3.ACCESS_KEY,
        aws_secret_access_key=s3.SECRET_KEY, region_name='us-east-1',
        config=boto_config.Config(s3={'addressing_style': 'path'},
                                  max_pool_connections=threads))

    def put(name):
        client.put_object(Bucket=bucket, Key=name, Body=b'x')

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(put, names, chunksize=256):
            pass


def seed_file(directory, names):
    for name in names:
        with open(os.path.join(directory, name), 'wb') as f:
            f.write(b'x')


def stored_s3(bucket):
    from tests import s3
    keys, uploads, _parts = s3.contents(bucket)
    return set(keys) | set(uploads)


def stored_file(directory):
    return set(os.listdir(directory))


def insert_rows(database, locations, backend):
    """An artifact (tosca_templates) and its blob 'template' at each
    location, in one transaction."""
    now = timeutils.utcnow()
    artifacts, blobs = [], []
    for n, location in enumerate(locations):
        artifact_id = str(uuid.uuid4())
        artifacts.append({
            'id': artifact_id, 'type_name': 'tosca_templates',
            'type_version': '1.0', 'name': 'gc-%d' % n,
            'version': '0.0.0', 'version_key': '0.0.0', 'owner': '',
            'visibility': 'private', 'status': 'drafted',
            'protected': False, 'created_at': now, 'updated_at': now})
        blobs.append({
            'artifact_id': artifact_id, 'field': 'template', 'key': '',
            'status': 'active', 'size': 1, 'content_type':
            'application/octet-stream', 'location': location,
            'backend': backend, 'created_at': now, 'updated_at': now,
            # As blob_upload_finish records it.
            'data_name': location.rstrip('/').rsplit('/', 1)[-1]})
    engine = sa.create_engine(database)
    with engine.begin() as conn:
        conn.execute(models.artifacts.insert(), artifacts)
        conn.execute(models.blobs.insert(), blobs)
    engine.dispose()


def _run_measured(command, tmp):
    """Run ``command``; (stdout, stderr, exit status, its peak resident
    set in KiB). The peak is the process's own VmHWM, read from /proc
    while it runs (its high-water mark only grows, so the last reading
    is the peak, up to the last POLL seconds). Not wait4's ru_maxrss:
    Linux counts in it the memory of this benchmark, from which the
    process was forked before it executed the command."""
    paths = [os.path.join(tmp, 'gc.out'), os.path.join(tmp, 'gc.err')]
    peak = 0
    with open(paths[0], 'w') as out, open(paths[1], 'w') as err:
        proc = subprocess.Popen(command, stdout=out, stderr=err)
        status = '/proc/%d/status' % proc.pid
        while proc.poll() is None:
            try:
                with open(status) as f:
                    for line in f:
                        if line.startswith('VmHWM:'):
                            peak = max(peak, int(line.split()[1]))
            except (FileNotFoundError, ProcessLookupError):
                pass
            time.sleep(POLL)
    with open(paths[0]) as out, open(paths[1]) as err:
        return out.read(), err.read(), proc.returncode, peak


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--store', choices=sorted(BACKEND), default='s3')
    parser.add_argument('--n', type=int, default=100000)
    parser.add_argument('--orphans-percent', type=float, default=10)
    parser.add_argument('--threads', type=int, default=8,
                        help='concurrent PUTs when seeding S3')
    parser.add_argument('--profile', metavar='FILE',
                        help='run the pass under cProfile, stats to FILE')
    parser.add_argument('--keep', action='store_true',
                        help='keep the temporary directory')
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix='ga-gc-bench-')
    database = 'sqlite:///%s/db.sqlite' % tmp
    names = [PREFIX + str(uuid.uuid4()) for _ in range(args.n)]
    orphans = int(args.n * args.orphans_percent / 100)
    live = names[orphans:]
    try:
        if args.store == 's3':
            from tests import s3
            bucket = s3.new_bucket()
            confdir = base.write_env(tmp, database=database,
                                     s3_bucket=bucket)
            # The URI glance/artifacts/store.py _s3_add gives its data.
            prefix = 's3://%s/%s/' % (s3.endpoint()[len('http://'):],
                                      bucket)
            where = 'S3 (moto)'
            started = time.monotonic()
            seed_s3(bucket, names, args.threads)
            stored = lambda: stored_s3(bucket)  # noqa: E731
        else:
            confdir = base.write_env(tmp, database=database)
            directory = os.path.join(tmp, 'store')
            prefix = 'file://%s/' % directory
            where = 'the filesystem store'
            started = time.monotonic()
            seed_file(directory, names)
            stored = lambda: stored_file(directory)  # noqa: E731
        print('seeded %d objects (%d orphans) in %s: %.1f s%s'
              % (args.n, orphans, where, time.monotonic() - started,
                 ' (%d threads)' % args.threads
                 if args.store == 's3' else ''), flush=True)
        base.sync_databases(confdir)
        started = time.monotonic()
        insert_rows(database, [prefix + name for name in live],
                    BACKEND[args.store])
        print('inserted %d artifact and blob rows: %.1f s'
              % (len(live), time.monotonic() - started), flush=True)

        command = [os.path.join(BIN, 'glance-artifacts-manage'),
                   '--config-file', os.path.join(confdir, 'glance-api.conf'),
                   'store', 'gc', '--older-than', '0', '--force']
        if args.profile:
            command = [sys.executable, '-m', 'cProfile', '-o',
                       os.path.abspath(args.profile)] + command
        started = time.monotonic()
        stdout, stderr, returncode, peak_kib = _run_measured(command, tmp)
        seconds = time.monotonic() - started
        if returncode:
            raise SystemExit('store gc failed: %s' % stderr[-3000:])
        report = json.loads(stdout[stdout.index('{'):])
        counts = report['backends'][BACKEND[args.store]]
        print('report of backend %s: %s'
              % (BACKEND[args.store], json.dumps(counts, sort_keys=True)))
        print('gc pass over %d objects (%d orphans): %.1f s (target <= %d '
              's), deleted %d, kept %d; peak RSS of the pass %.1f MiB'
              % (args.n, orphans, seconds, TARGET_SECONDS,
                 counts['deleted'], counts['listed'] - counts['deleted'],
                 peak_kib / 1024.0),
              flush=True)

        remaining = stored()
        problems = []
        if counts['listed'] != args.n:
            problems.append('listed %d, not %d' % (counts['listed'],
                                                   args.n))
        if counts['deleted'] != orphans or counts['orphans'] != orphans:
            problems.append('reported %d orphans and %d deleted, not %d'
                            % (counts['orphans'], counts['deleted'],
                               orphans))
        if remaining != set(live):
            problems.append('%d live objects gone, %d orphans left'
                            % (len(set(live) - remaining),
                               len(remaining & set(names[:orphans]))))
        if problems:
            raise SystemExit('WRONG: ' + '; '.join(problems))
        print('checked: the store holds exactly the %d live objects and '
              'none of the orphans' % len(remaining))
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
