#!/usr/bin/env python3
"""OCI push and pull against artifact uploads and Glance images, on one
machine, one database and one store.

    python3 benchmarks/oci.py [--size-mib 1024] [--rounds 3]
                              [--small 1000] [--server gunicorn|uwsgi]

Starts glance-api twice on the same configuration, database and
filesystem store: one with /v2/images and /v2/artifacts, one with the OCI
distribution API (flavor oci), under gunicorn (or uWSGI), one worker of
four threads each. Then, interleaved over the rounds, with the same
payload and curl as the client (as benchmarks/run.py does):

* uploads it as an image and downloads it;
* uploads it as an artifact blob (tosca_templates) and downloads it;
* pushes it as an OCI blob the way oras and skopeo do (POST an upload,
  PUT the data with ?digest=) and pulls it (GET /v2/NAME/blobs/DIGEST);
* pushes it in chunks of 64 MiB (POST, PATCH with Content-Range, PUT).

Then pushes ``--small`` blobs of 1 KiB as OCI blobs and as artifact
blobs, and pulls each set one after another over one kept-alive
connection. Prints MB/s (median of the rounds), the ratios OCI/artifacts
(targets: push >= 0.9, pull >= 0.9) and OCI/images, and the small blobs
pulled per second. Run it from a checkout with .venv (python3
tools/dev.py serve or test makes it): .venv/bin/python benchmarks/oci.py.
"""

import argparse
import hashlib
import http.client
import os
import shutil
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks import run  # noqa: E402
from tools import dev  # noqa: E402

MiB = run.MiB
PUSH_TARGET = 0.9
PULL_TARGET = 0.9
CHUNK_MIB = 64
TYPES = 'tosca_templates,' + dev.OCI_TYPES


def push(base, repo, payload, digest):
    """Seconds of a push as clients do it: POST an upload, PUT the data
    with its digest."""
    location = _post_upload(base, repo)
    return run.curl(['-X', 'PUT', '-T', payload, '-H',
                     'Content-Type: application/octet-stream', '-H',
                     'Expect:', base + location + '?digest=' + digest])


def push_chunked(base, repo, payload, digest, size):
    """Seconds of a chunked push: CHUNK_MIB at a time with PATCH."""
    seconds = 0.0
    location = _post_upload(base, repo)
    chunk = CHUNK_MIB * MiB
    with open(payload, 'rb') as f:
        for start in range(0, size, chunk):
            part = os.path.join(os.path.dirname(payload), 'part')
            with open(part, 'wb') as out:
                out.write(f.read(chunk))
            end = min(start + chunk, size) - 1
            seconds += run.curl([
                '-X', 'PATCH', '-T', part, '-H',
                'Content-Type: application/octet-stream', '-H', 'Expect:',
                '-H', 'Content-Range: %d-%d' % (start, end),
                base + location])
    return seconds + run.curl(['-X', 'PUT', base + location + '?digest=' +
                               digest])


def _post_upload(base, repo):
    host, port = base.split('//')[1].split(':')
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        conn.request('POST', '/v2/%s/blobs/uploads/' % repo)
        resp = conn.getresponse()
        resp.read()
        if resp.status != 202:
            raise RuntimeError('POST upload: %d' % resp.status)
        location = resp.getheader('Location')
    finally:
        conn.close()
    return '/' + location.split('/', 3)[3] if '://' in location \
        else location


def digest_of(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(MiB), b''):
            h.update(block)
    return 'sha256:' + h.hexdigest()


def pull_all(port, paths):
    """Seconds to GET each path in turn over one connection."""
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=60)
    started = time.monotonic()
    try:
        for path in paths:
            conn.request('GET', path)
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                raise RuntimeError('GET %s: %d' % (path, resp.status))
    finally:
        conn.close()
    return time.monotonic() - started


def small_sets(base, oci_port, count):
    """(OCI paths, artifact paths) of ``count`` blobs of 1 KiB each."""
    oci_paths, artifact_paths = [], []
    conn = http.client.HTTPConnection('127.0.0.1', oci_port, timeout=60)
    try:
        for n in range(count):
            data = os.urandom(1024)
            digest = 'sha256:' + hashlib.sha256(data).hexdigest()
            conn.request('POST', '/v2/bench/small/blobs/uploads/?digest='
                         + digest, body=data, headers={
                             'Content-Type': 'application/octet-stream'})
            resp = conn.getresponse()
            resp.read()
            if resp.status != 201:
                raise RuntimeError('small push: %d' % resp.status)
            oci_paths.append('/v2/bench/small/blobs/' + digest)
    finally:
        conn.close()
    for n in range(count):
        art = run.call('POST', base + '/v2/artifacts/tosca_templates',
                       {'name': 'small-%d' % n})
        with tempfile.NamedTemporaryFile() as f:
            f.write(os.urandom(1024))
            f.flush()
            run.upload(base + art['self'] + '/template', f.name)
        artifact_paths.append(art['self'] + '/template')
    return oci_paths, artifact_paths


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size-mib', type=int, default=1024)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--small', type=int, default=1000,
                        help='small blobs to pull (default: %(default)s)')
    parser.add_argument('--server', choices=dev.WSGI_SERVERS,
                        default='gunicorn', help='the WSGI server')
    parser.add_argument('--keep', action='store_true',
                        help='keep the temporary directory')
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix='ga-bench-oci-')
    confs = []
    for confdir, flavor in (('etc', ''), ('etc-oci', 'oci')):
        conf = dev.write_config(os.path.join(tmp, confdir), tmp,
                                flavor=flavor, types=TYPES,
                                inspect_content=False)
        with open(conf, 'a') as f:
            f.write('\n[DEFAULT]\nimage_size_cap = %d\n'
                    % (args.size_mib * MiB * 2))
        confs.append(conf)
    dev.migrate(confs[0], use_venv=False)
    servers = []
    ports = []
    for confdir, name in (('etc', 'api'), ('etc-oci', 'oci')):
        port = run.free_port()
        env = dict(os.environ, OS_GLANCE_CONFIG_DIR=os.path.join(tmp,
                                                                 confdir))
        servers.append(run.start('glance.wsgi.api:application', port, env,
                                 os.path.join(tmp, name + '.log'), 1, 4,
                                 args.server))
        ports.append(port)
    base = 'http://127.0.0.1:%d' % ports[0]
    oci_base = 'http://127.0.0.1:%d' % ports[1]
    payload = os.path.join(tmp, 'payload')
    with open(payload, 'wb') as f:
        for _ in range(args.size_mib):
            f.write(os.urandom(MiB))
    size = args.size_mib * MiB
    digest = digest_of(payload)
    mb = size / 1e6
    results = {k: [] for k in ('image_up', 'image_down', 'artifact_up',
                               'artifact_down', 'oci_push', 'oci_pull',
                               'oci_chunked_push')}
    try:
        for n in range(args.rounds):
            image = run.call('POST', base + '/v2/images',
                             {'name': 'bench', 'disk_format': 'raw',
                              'container_format': 'bare'})
            results['image_up'].append(mb / run.upload(
                base + '/v2/images/%s/file' % image['id'], payload))
            results['image_down'].append(mb / run.download(
                base + '/v2/images/%s/file' % image['id']))
            run.call('DELETE', base + '/v2/images/%s' % image['id'])

            art = run.call('POST', base + '/v2/artifacts/tosca_templates',
                           {'name': 'bench-%d' % n})
            results['artifact_up'].append(mb / run.upload(
                base + art['self'] + '/template', payload))
            results['artifact_down'].append(mb / run.download(
                base + art['self'] + '/template'))
            run.call('DELETE', base + art['self'])

            blob = oci_base + '/v2/bench/layer/blobs/' + digest
            results['oci_push'].append(mb / push(oci_base, 'bench/layer',
                                                 payload, digest))
            results['oci_pull'].append(mb / run.download(blob))
            run.curl(['-X', 'DELETE', blob])
            results['oci_chunked_push'].append(mb / push_chunked(
                oci_base, 'bench/layer', payload, digest, size))
            run.curl(['-X', 'DELETE', blob])
            print('round %d: ' % (n + 1) + ', '.join(
                '%s %.0f' % (k, v[-1]) for k, v in results.items()),
                flush=True)
        oci_paths, artifact_paths = small_sets(base, ports[1],
                                               args.small)
        small_oci = args.small / pull_all(ports[1], oci_paths)
        small_artifacts = args.small / pull_all(ports[0], artifact_paths)
    finally:
        for proc in servers:
            os.killpg(proc.pid, 15)
            proc.wait()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    med = {k: statistics.median(v) for k, v in results.items()}
    print('\n%d MiB layer, %d rounds, %s 1 worker x 4 threads per '
          'glance-api, filesystem store, median MB/s:'
          % (args.size_mib, args.rounds, args.server))
    print('  upload:   images %7.1f   artifacts %7.1f   OCI push %7.1f   '
          'OCI chunked push %7.1f' % (med['image_up'], med['artifact_up'],
                                      med['oci_push'],
                                      med['oci_chunked_push']))
    print('  download: images %7.1f   artifacts %7.1f   OCI pull %7.1f'
          % (med['image_down'], med['artifact_down'], med['oci_pull']))
    print('ratios: OCI push/artifact upload %.2f (target >= %.1f), OCI '
          'pull/artifact download %.2f (target >= %.1f); OCI push/image '
          'upload %.2f, OCI pull/image download %.2f'
          % (med['oci_push'] / med['artifact_up'], PUSH_TARGET,
             med['oci_pull'] / med['artifact_down'], PULL_TARGET,
             med['oci_push'] / med['image_up'],
             med['oci_pull'] / med['image_down']))
    print('%d small blobs (1 KiB) pulled one after another on one '
          'connection: OCI %.0f/s, artifacts %.0f/s (OCI/artifacts %.2f)'
          % (args.small, small_oci, small_artifacts,
             small_oci / small_artifacts))


if __name__ == '__main__':
    main()
