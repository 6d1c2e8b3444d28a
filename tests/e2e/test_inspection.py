"""Content inspection on a real glance-api under gunicorn: hostile
content is refused with a 4xx within 10 seconds and with less than 64 MiB
of growth of the server's memory (gunicorn's processes, sampled every 10
ms); and the inspection benchmark runs (a smoke run with a small
package; its numbers are not judged here)."""

import io
import os
import subprocess
import sys
import time
import zipfile

import testtools

from benchmarks import run as bench_run
from tests import base
from tests.e2e import test_server
from tests.functional import samples

MiB = 1024 * 1024
OCTETS = {'Content-Type': 'application/octet-stream'}
RSS_LIMIT = 64 * MiB
SECONDS = 10


def zeros_member(name, size):
    """A deflated zip member of ``size`` zero bytes, written in pieces
    (it deflates some 1000 times)."""
    def write(zf):
        info = zipfile.ZipInfo(name)
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, 'w', force_zip64=True) as f:
            piece = b'\x00' * MiB
            for _ in range(size // MiB):
                f.write(piece)
    return write


def package(*writers, manifest=None):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as zf:
        if manifest is not False:
            zf.writestr('manifest.yaml', manifest or samples.manifest())
        zf.writestr('Classes/Web.yaml', 'Name: io.example.Web\n')
        zf.writestr('Classes/net/Port.yaml', 'Name: io.example.Port\n')
        for write in writers:
            write(zf)
    return buf.getvalue()


def forged_directory_size(data, size):
    """A zip whose end record claims a central directory of ``size``
    bytes."""
    out = bytearray(data)
    at = out.rfind(b'PK\x05\x06')
    out[at + 12:at + 16] = size.to_bytes(4, 'little')
    return bytes(out)


def hostile_templates():
    yield 'alias bomb', samples.billion_laughs(levels=12)
    yield 'recursive anchor', (b'heat_template_version: rocky\n'
                               b'resources: &r {a: [*r, *r]}\n')
    yield 'deep nesting', (b'heat_template_version: rocky\nresources: ' +
                           b'[' * 100000 + b']' * 100000 + b'\n')
    yield 'huge YAML', b'# padding\n' * (900 * 1024)
    yield 'many nodes', (b'heat_template_version: rocky\nresources: [' +
                         b'1,' * 1000000 + b'1]\n')


def hostile_packages():
    yield 'zip bomb member', package(zeros_member('manifest.yaml',
                                                  512 * MiB), manifest=False)
    bomb = package(zeros_member('manifest.yaml', 64 * MiB), manifest=False)
    yield 'forged member size', samples.forged_size(
        bomb, 'manifest.yaml', 2 ** 32 - 1)
    yield 'forged directory size', forged_directory_size(
        samples.murano_package(), 2 ** 32 - 1)
    yield 'too many entries', package(lambda zf: [
        zf.writestr('f%d' % i, b'') for i in range(20000)])
    yield 'path trick', package(lambda zf: zf.writestr('../../x', b'x'))
    yield 'symlink', package(lambda zf: zf.writestr(
        samples.symlink_entry('link'), b'/etc/passwd'))


class TestHostileContent(test_server.ServerTest):

    options = {'inspect_content': True, 'workers': 1, 'threads': 2}

    def create(self, type_name, **body):
        status, art = self.server.json('POST', '/v2/artifacts/' + type_name,
                                       body)
        self.assertEqual(201, status, art)
        return art

    def put(self, art, path, data):
        rss = bench_run.PeakRSS(self.server.process.pid, interval=0.01)
        rss.start()
        started = time.monotonic()
        status, _h, body = self.server.request('PUT', art['self'] + path,
                                               data, headers=OCTETS)
        return status, body, time.monotonic() - started, rss.growth()

    def setUp(self):
        super(TestHostileContent, self).setUp()
        # A good upload of each kind first, so that what the worker loads
        # once (modules, caches) is not counted as growth.
        art = self.create('heat_templates', name='warm')
        self.addCleanup(self.server.request, 'DELETE', art['self'])
        self.assertEqual(204, self.put(art, '/template',
                                       samples.HOT.encode())[0])
        art = self.create('murano_packages', name='io.example.Web',
                          version='1.2.0')
        self.addCleanup(self.server.request, 'DELETE', art['self'])
        self.assertEqual(204, self.put(art, '/package',
                                       samples.murano_package())[0])
        self.server.request('DELETE', art['self'])

    def check_refused(self, type_name, path, cases, **fields):
        for label, data in cases:
            art = self.create(type_name, **fields)
            status, body, seconds, growth = self.put(art, path, data)
            self.assertTrue(400 <= status < 500, '%s: %d %s'
                            % (label, status, body[:300]))
            self.assertLess(seconds, SECONDS, label)
            self.assertLess(growth, RSS_LIMIT, '%s: %.1f MiB'
                            % (label, growth / MiB))
            status, shown = self.server.json('GET', art['self'])
            self.assertIsNone(shown[path.strip('/')], label)
            self.server.request('DELETE', art['self'])

    def test_hostile_yaml_is_refused_fast_in_bounded_memory(self):
        self.check_refused('heat_templates', '/template',
                           hostile_templates(), name='hostile')

    def test_hostile_zips_are_refused_fast_in_bounded_memory(self):
        self.check_refused('murano_packages', '/package', hostile_packages(),
                           name='io.example.Web', version='1.2.0')

    def test_a_nested_archive_is_not_opened(self):
        inner = package(zeros_member('manifest.yaml', 512 * MiB),
                        manifest=False)
        art = self.create('murano_packages', name='io.example.Web',
                          version='1.2.0')
        self.addCleanup(self.server.request, 'DELETE', art['self'])
        status, body, seconds, growth = self.put(
            art, '/package', samples.murano_package(
                extra=[('Resources/inner.zip', inner)]))
        self.assertEqual(204, status, body)
        self.assertLess(seconds, SECONDS)
        self.assertLess(growth, RSS_LIMIT)


class TestInspectionBenchmark(testtools.TestCase):

    def test_benchmark_prints_throughputs_and_the_cost(self):
        result = subprocess.run(
            [sys.executable, os.path.join(base.ROOT, 'benchmarks',
                                          'inspection.py'),
             '--size-mib', '8', '--rounds', '1'],
            capture_output=True, text=True, timeout=600)
        self.assertEqual(0, result.returncode, result.stderr[-3000:])
        out = result.stdout
        self.assertRegex(out, r'upload: image +[\d.]+ +package, inspection '
                              r'off +[\d.]+ +package, inspection on +[\d.]+')
        self.assertRegex(out, r'ratios: inspection on/off [\d.]+, '
                              r'on/image [\d.]+, off/image [\d.]+')
        self.assertRegex(out, r'round 1: image [\d.]+, off [\d.]+, on '
                              r'[\d.]+ MB/s; inspection [\d.]+% of the '
                              r'upload')
        self.assertRegex(out, r'the inspection itself \(timed by the '
                              r'server\) took at most [\d.]+% of an '
                              r'upload\'s time: it costs the upload that '
                              r'much of its throughput \(target < 10%\)')
