#!/usr/bin/env python3
"""What content inspection costs a large upload.

    python3 benchmarks/inspection.py [--size-mib 1024] [--rounds 3]
                                     [--compression stored|deflated]

Writes a Murano package of about --size-mib MiB by streaming (a manifest,
a class and one big member of random bytes, so that deflating it gains
nothing), starts two glance-api processes (glance.wsgi.api:application
under gunicorn) on one database and filesystem store, one with
``[artifacts] inspect_content = true`` and one with false, and,
interleaved over the rounds, uploads with curl the same bytes:

* as a Glance image (PUT /v2/images/{id}/file), on the inspecting one;
* as the package of a murano_packages artifact, inspection off;
* as the package of a murano_packages artifact, inspection on (its
  manifest read from the stored zip by byte ranges).

Prints MB/s of each (median of the rounds) and what inspection costs the
upload: 1 - on/off, which must stay under 10%. Run it from a checkout
with .venv (python3 tools/dev.py test makes it): .venv/bin/python
benchmarks/inspection.py.
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks import run as transport  # noqa: E402
from tools import dev  # noqa: E402

MiB = 1024 * 1024
NAME = 'io.example.Bench'
TARGET = 0.10


def write_package(path, size_mib, compression):
    """A Murano package of about ``size_mib`` MiB (under the 1 GiB that
    murano_packages take): a member of random bytes, written a MiB at a
    time."""
    manifest = {'Format': 'MuranoPL/1.0', 'Type': 'Application',
                'FullName': NAME, 'Name': 'Benchmark', 'Version': '1.0',
                'Classes': {NAME: 'Bench.yaml'}, 'Tags': ['bench']}
    with zipfile.ZipFile(path, 'w', compression) as zf:
        zf.writestr('manifest.yaml', json.dumps(manifest))
        zf.writestr('Classes/Bench.yaml', 'Name: %s\n' % NAME)
        with zf.open('Resources/payload.bin', 'w', force_zip64=True) as f:
            for _ in range(size_mib - 1):
                f.write(os.urandom(MiB))
            f.write(os.urandom(MiB - 64 * 1024))
    return os.path.getsize(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size-mib', type=int, default=1024)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--compression', choices=('stored', 'deflated'),
                        default='stored')
    parser.add_argument('--workers', type=int, default=1)
    parser.add_argument('--threads', type=int, default=4)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix='ga-bench-inspect-')
    env = dict(os.environ, PYTHONPATH=ROOT)
    servers, urls = {}, {}
    try:
        for inspect in (True, False):
            confdir = os.path.join(tmp, 'etc-%s' % ('on' if inspect
                                                    else 'off'))
            conf = dev.write_config(confdir, tmp, inspect_content=inspect,
                                    types='murano_packages')
            with open(conf, 'a') as f:
                f.write('\n[DEFAULT]\nimage_size_cap = %d\n'
                        % (args.size_mib * MiB * 2))
            if inspect:
                dev.migrate(conf, use_venv=False)
            port = transport.free_port()
            servers[inspect] = transport.start(
                'glance.wsgi.api:application', port,
                dict(env, OS_GLANCE_CONFIG_DIR=confdir),
                os.path.join(tmp, 'api-%s.log' % inspect), args.workers,
                args.threads)
            urls[inspect] = 'http://127.0.0.1:%d' % port
        payload = os.path.join(tmp, 'package.zip')
        size = write_package(payload, args.size_mib,
                             zipfile.ZIP_STORED if args.compression ==
                             'stored' else zipfile.ZIP_DEFLATED)
        mb = size / 1e6
        results = {'image': [], 'off': [], 'on': []}
        for n in range(args.rounds):
            base = urls[True]
            image = transport.call('POST', base + '/v2/images', {
                'name': 'bench', 'disk_format': 'raw',
                'container_format': 'bare'})
            results['image'].append(mb / transport.upload(
                base + '/v2/images/%s/file' % image['id'], payload))
            transport.call('DELETE', base + '/v2/images/%s' % image['id'])
            for inspect, key in ((False, 'off'), (True, 'on')):
                base = urls[inspect]
                art = transport.call(
                    'POST', base + '/v2/artifacts/murano_packages',
                    {'name': NAME, 'version': '1.0.0'})
                results[key].append(mb / transport.upload(
                    base + art['self'] + '/package', payload))
                shown = transport.call('GET', base + art['self'])
                if inspect and shown['class_definitions'] != [NAME]:
                    raise RuntimeError('the package was not inspected: %r'
                                       % shown)
                transport.call('DELETE', base + art['self'])
            print('round %d: ' % (n + 1) + ', '.join(
                '%s %.0f' % (k, v[-1]) for k, v in results.items()),
                flush=True)
    finally:
        for proc in servers.values():
            os.killpg(proc.pid, 15)
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)

    med = {k: statistics.median(v) for k, v in results.items()}
    cost = 1 - med['on'] / med['off']
    print('\n%.0f MiB Murano package (%s), %d rounds, gunicorn %d '
          'worker(s) x %d threads, median MB/s:'
          % (size / MiB, args.compression, args.rounds, args.workers,
             args.threads))
    print('  upload: image %7.1f   package, inspection off %7.1f   '
          'package, inspection on %7.1f'
          % (med['image'], med['off'], med['on']))
    print('ratios: inspection on/off %.3f, on/image %.2f, off/image %.2f'
          % (med['on'] / med['off'], med['on'] / med['image'],
             med['off'] / med['image']))
    print('inspection costs the upload %.1f%% of its throughput (target '
          '< %d%%): %s' % (100 * cost, 100 * TARGET,
                           'met' if cost < TARGET else 'NOT met'))


if __name__ == '__main__':
    main()
