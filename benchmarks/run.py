#!/usr/bin/env python3
"""Artifact blob throughput against Glance images, on one glance-api.

    python3 benchmarks/run.py [--store file|s3] [--size-mib 1024]
                              [--rounds 3] [--server gunicorn|uwsgi]

Starts glance-api (glance.wsgi.api:application under gunicorn, or uWSGI
configured as tools/dev.py's server_command configures it, the same
store for images and artifacts: the filesystem store, or with --store s3
an S3 backend on a bucket of a moto server started here, with
glance_store's default S3 settings) and a trivial WSGI sink under the
same server, then, interleaved over the rounds, with the same payload and
curl as the client:

* uploads it as an image (PUT /v2/images/{id}/file) and downloads it;
* uploads it as an artifact blob (PUT /v2/artifacts/tosca_templates/
  {id}/template) and downloads it, sampling the server's RSS meanwhile;
* uploads it as an artifact blob again from a pipe, chunked (size
  unknown to the server), sampling the server's RSS meanwhile;
* PUTs it to the sink, the transport limit.

Each image and artifact is deleted once measured (moto keeps objects in
memory). Prints MB/s for each (median of the rounds), the ratios
artifacts/images and artifacts/limit, and the server's (gunicorn master
and workers) peak RSS growth during the artifact uploads, and the CPU
seconds the server spent per GB of each download (user and system, from
the server's processes). Run it from a
checkout with Glance and glance-artifacts installed (python3 tools/dev.py
serve, or test, makes .venv; then .venv/bin/python benchmarks/run.py).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import psutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tools import dev  # noqa: E402

BIN = os.path.dirname(sys.executable)
MiB = 1024 * 1024
# The targets: uploads artifacts/images and artifacts/sink, downloads
# artifacts/images by store, and the server's RSS growth in MiB.
UPLOAD_TARGET = 2.0
UPLOAD_SINK_TARGET = 0.8
DOWNLOAD_TARGET = {'file': 1.2, 's3': 1.0}
RSS_TARGET = 32


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def start(app, port, env, log, workers, threads, server='gunicorn'):
    proc = subprocess.Popen(
        dev.server_command(BIN, app, '127.0.0.1:%d' % port, workers,
                           threads, server, worker_timeout=900),
        env=env, stdout=open(log, 'ab'), stderr=subprocess.STDOUT,
        start_new_session=True)
    for _ in range(300):
        try:
            urllib.request.urlopen('http://127.0.0.1:%d/' % port, timeout=2)
            return proc
        except urllib.error.HTTPError:
            return proc
        except OSError:
            time.sleep(0.2)
    raise RuntimeError('%s did not start; see %s' % (app, log))


def call(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={
        'Content-Type': 'application/json'})
    with urllib.request.urlopen(req) as resp:
        raw = resp.read()
        return json.loads(raw) if raw else None


def curl(args, stdin=None):
    """Seconds curl took; fails loudly on an HTTP error."""
    out = subprocess.run(['curl', '-sS', '--fail', '-o', '/dev/null',
                          '-w', '%{time_total}'] + args, stdin=stdin,
                         capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError('curl %s failed: %s' % (' '.join(args),
                                                   out.stderr))
    return float(out.stdout)


def upload(url, payload):
    """PUT the file, streamed (-T), not read into curl's memory."""
    return curl(['-T', payload, '-H', 'Content-Type: application/octet-stream',
                 '-H', 'Expect:', url])


def upload_chunked(url, payload):
    """PUT the file from a pipe (cat), chunked: the server is not told
    its size."""
    cat = subprocess.Popen(['cat', payload], stdout=subprocess.PIPE)
    try:
        return curl(['-T', '-', '-H', 'Transfer-Encoding: chunked',
                     '-H', 'Content-Type: application/octet-stream',
                     '-H', 'Expect:', url], stdin=cat.stdout)
    finally:
        cat.stdout.close()
        cat.wait()


def download(url):
    return curl([url])


def cpu_seconds(pid):
    """CPU seconds (user and system) used so far by a process and its
    children: the WSGI server and its workers."""
    root = psutil.Process(pid)
    total = 0.0
    for proc in [root] + root.children(recursive=True):
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def download_with_cpu(url, server_pid, gb):
    """(seconds the download took, server CPU seconds per GB sent)."""
    before = cpu_seconds(server_pid)
    seconds = download(url)
    return seconds, (cpu_seconds(server_pid) - before) / gb


class PeakRSS(threading.Thread):
    """Peak of the summed RSS of a process tree while it runs, sampled
    every ``interval`` seconds (tests/e2e/test_inspection.py uses it too).
    """

    def __init__(self, pid, interval=0.05):
        super(PeakRSS, self).__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.interval = interval
        self.stop = threading.Event()
        self.base = self.sample()
        self.peak = self.base

    def sample(self):
        total = 0
        try:
            tree = [self.root] + self.root.children(recursive=True)
        except psutil.NoSuchProcess:
            return 0        # the server is gone: its failure says why
        for p in tree:
            try:
                total += p.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total

    def run(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, self.sample())
            time.sleep(self.interval)

    def growth(self):
        self.stop.set()
        self.join()
        return max(self.peak, self.sample()) - self.base


def use_s3(conf):
    """Make an S3 backend "s3", on a new bucket of the moto server of
    tests/s3.py, the default backend (for images and artifacts alike),
    with glance_store's default part sizes; returns the bucket."""
    from tests import base
    from tests import s3
    bucket = s3.new_bucket()
    base.use_s3(conf, bucket, part_mib=None)
    return bucket


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--store', choices=sorted(DOWNLOAD_TARGET),
                        default='file')
    parser.add_argument('--size-mib', type=int, default=1024)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--server', choices=dev.WSGI_SERVERS,
                        default='gunicorn', help='the WSGI server')
    parser.add_argument('--workers', type=int, default=1)
    parser.add_argument('--threads', type=int, default=4)
    parser.add_argument('--keep', action='store_true',
                        help='keep the temporary directory')
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix='ga-bench-')
    confdir = os.path.join(tmp, 'etc')
    # The payload is random bytes: this measures the transport, with no
    # content inspection (benchmarks/inspection.py measures its cost).
    conf = dev.write_config(confdir, tmp, types='tosca_templates',
                            inspect_content=False)
    with open(conf, 'a') as f:
        f.write('\n[DEFAULT]\nimage_size_cap = %d\n'
                % (args.size_mib * MiB * 2))
    bucket = use_s3(conf) if args.store == 's3' else None
    dev.migrate(conf, use_venv=False)
    env = dict(os.environ, OS_GLANCE_CONFIG_DIR=confdir,
               SINK_DIR=os.path.join(tmp, 'sink'), PYTHONPATH=ROOT)
    os.makedirs(env['SINK_DIR'])
    api_port, sink_port = free_port(), free_port()
    api = start('glance.wsgi.api:application', api_port, env,
                os.path.join(tmp, 'api.log'), args.workers, args.threads,
                args.server)
    sink = start('benchmarks.sink:application', sink_port, env,
                 os.path.join(tmp, 'sink.log'), args.workers, args.threads,
                 args.server)
    base = 'http://127.0.0.1:%d' % api_port
    payload = os.path.join(tmp, 'payload')
    with open(payload, 'wb') as f:
        for _ in range(args.size_mib):
            f.write(os.urandom(MiB))
    mb = args.size_mib * MiB / 1e6
    results = {k: [] for k in ('image_up', 'image_down', 'artifact_up',
                               'artifact_down', 'sink_up', 'rss',
                               'chunked_up', 'chunked_rss',
                               'image_down_cpu', 'artifact_down_cpu')}
    try:
        for n in range(args.rounds):
            image = call('POST', base + '/v2/images',
                         {'name': 'bench', 'disk_format': 'raw',
                          'container_format': 'bare'})
            results['image_up'].append(mb / upload(
                base + '/v2/images/%s/file' % image['id'], payload))
            seconds, cpu = download_with_cpu(
                base + '/v2/images/%s/file' % image['id'], api.pid, mb / 1e3)
            results['image_down'].append(mb / seconds)
            results['image_down_cpu'].append(cpu)
            call('DELETE', base + '/v2/images/%s' % image['id'])

            art = call('POST', base + '/v2/artifacts/tosca_templates',
                       {'name': 'bench-%d' % n})
            rss = PeakRSS(api.pid)
            rss.start()
            results['artifact_up'].append(mb / upload(
                base + art['self'] + '/template', payload))
            results['rss'].append(rss.growth() / MiB)
            seconds, cpu = download_with_cpu(
                base + art['self'] + '/template', api.pid, mb / 1e3)
            results['artifact_down'].append(mb / seconds)
            results['artifact_down_cpu'].append(cpu)
            call('DELETE', base + art['self'])

            art = call('POST', base + '/v2/artifacts/tosca_templates',
                       {'name': 'bench-chunked-%d' % n})
            rss = PeakRSS(api.pid)
            rss.start()
            results['chunked_up'].append(mb / upload_chunked(
                base + art['self'] + '/template', payload))
            results['chunked_rss'].append(rss.growth() / MiB)
            call('DELETE', base + art['self'])

            results['sink_up'].append(mb / upload(
                'http://127.0.0.1:%d/' % sink_port, payload))
            print('round %d: ' % (n + 1) + ', '.join(
                ('%s %.3f' if k.endswith('_cpu') else '%s %.0f')
                % (k, v[-1]) for k, v in results.items()),
                flush=True)
    finally:
        for proc in (api, sink):
            os.killpg(proc.pid, 15)
            proc.wait()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    med = {k: statistics.median(v) for k, v in results.items()}
    if bucket:
        from tests import s3
        keys, uploads, _parts = s3.contents(bucket)
        print('\nS3 store (moto); left in the bucket after the deletes: '
              '%d objects, %d incomplete uploads'
              % (len(keys), len(uploads)))
    print('\n%d MiB payload, %d rounds, %s %d worker(s) x %d '
          'threads, median MB/s:' % (args.size_mib, args.rounds,
                                     args.server, args.workers,
                                     args.threads))
    print('  upload:   images %7.1f   artifacts %7.1f   limit (sink) %7.1f'
          % (med['image_up'], med['artifact_up'], med['sink_up']))
    print('  download: images %7.1f   artifacts %7.1f'
          % (med['image_down'], med['artifact_down']))
    print('ratios: upload artifacts/images %.2f (target >= %.1f), '
          'upload artifacts/limit %.2f (target >= %.1f), '
          'download artifacts/images %.2f (target >= %.1f)'
          % (med['artifact_up'] / med['image_up'], UPLOAD_TARGET,
             med['artifact_up'] / med['sink_up'], UPLOAD_SINK_TARGET,
             med['artifact_down'] / med['image_down'],
             DOWNLOAD_TARGET[args.store]))
    print('server CPU per GB downloaded: images %.3f s, artifacts %.3f s '
          '(artifacts/images %.2f; no target)'
          % (med['image_down_cpu'], med['artifact_down_cpu'],
             med['artifact_down_cpu'] / max(med['image_down_cpu'], 1e-9)))
    print('server peak RSS growth during the artifact upload: %.1f MiB '
          '(target < %d)' % (max(results['rss']), RSS_TARGET))
    print('chunked artifact upload (size unknown): %.1f MB/s, server peak '
          'RSS growth %.1f MiB (target < %d)'
          % (med['chunked_up'], max(results['chunked_rss']), RSS_TARGET))


if __name__ == '__main__':
    main()
