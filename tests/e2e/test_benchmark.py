"""The benchmark runs as the README says and prints its ratios (a smoke
run with a small payload; the numbers themselves are not judged here)."""

import os
import re
import subprocess
import sys

import testtools

from tests import base


class TestBenchmark(testtools.TestCase):

    def test_benchmark_prints_rates_ratios_and_rss(self):
        result = subprocess.run(
            [sys.executable, os.path.join(base.ROOT, 'benchmarks', 'run.py'),
             '--size-mib', '8', '--rounds', '1'],
            capture_output=True, text=True, timeout=600)
        self.assertEqual(0, result.returncode, result.stderr[-3000:])
        out = result.stdout
        self.assertRegex(out, r'upload: +images +[\d.]+ +artifacts +[\d.]+ '
                              r'+limit \(sink\) +[\d.]+')
        self.assertRegex(out, r'download: +images +[\d.]+ +artifacts')
        self.assertRegex(out, r'ratios: upload artifacts/images [\d.]+ '
                              r'\(target >= 2.0\), upload artifacts/limit '
                              r'[\d.]+ \(target >= 0.8\), download '
                              r'artifacts/images [\d.]+ \(target >= 1.2\)')
        self.assertRegex(out, r'server CPU per GB downloaded: images '
                              r'[\d.]+ s, artifacts [\d.]+ s')
        self.assertTrue(re.search(r'peak RSS growth during the artifact '
                                  r'upload: [\d.]+ MiB', out))

    def test_oci_benchmark_prints_rates_ratios_and_small_pulls(self):
        result = subprocess.run(
            [sys.executable, os.path.join(base.ROOT, 'benchmarks', 'oci.py'),
             '--size-mib', '8', '--rounds', '1', '--small', '10'],
            capture_output=True, text=True, timeout=600)
        self.assertEqual(0, result.returncode, result.stderr[-3000:])
        out = result.stdout
        self.assertRegex(out, r'upload: +images +[\d.]+ +artifacts +[\d.]+ '
                              r'+OCI push +[\d.]+ +OCI chunked push +[\d.]+')
        self.assertRegex(out, r'download: +images +[\d.]+ +artifacts '
                              r'+[\d.]+ +OCI pull +[\d.]+')
        self.assertRegex(out, r'ratios: OCI push/artifact upload [\d.]+ '
                              r'\(target >= 0.9\), OCI pull/artifact '
                              r'download [\d.]+ \(target >= 0.9\)')
        self.assertRegex(out, r'10 small blobs \(1 KiB\) pulled one after '
                              r'another on one connection: OCI [\d.]+/s, '
                              r'artifacts [\d.]+/s')
