"""The list benchmark runs as its docstring says and prints its table (a
smoke run on a small SQLite database; the numbers are not judged here)."""

import os
import re
import subprocess
import sys

import testtools

from tests import base

ROLES = ('admin', 'member')
SHAPES = ('default list', 'name filter', 'owner+sort', 'page 2', 'page 40',
          'tags filter', 'status filter', 'visibility', 'type field',
          'version=latest', 'version range', 'all types', 'GET by id',
          'name like', 'tags any',
          # The images type, enabled as by default, and /all with images.
          'img list', 'img name', 'img owner+sort', 'img sort name',
          'img page 2', 'img page 40', 'img tags', 'img status',
          'img visibility', 'img type field', 'img latest',
          'img sort version', 'img GET by id', 'all sort name',
          'all page 2')


class TestBenchmarkList(testtools.TestCase):

    def test_benchmark_seeds_checks_and_prints_a_row_per_role_and_shape(
            self):
        result = subprocess.run(
            [sys.executable, os.path.join(base.ROOT, 'benchmarks',
                                          'list.py'),
             '--database', 'sqlite', '--n', '2000', '--samples', '3'],
            capture_output=True, text=True, timeout=600)
        self.assertEqual(0, result.returncode, result.stderr[-3000:])
        out = result.stdout
        self.assertRegex(out, r'seeded 2000 artifacts and 2000 images on '
                              r'sqlite in [\d.]+ s')
        self.assertIn('read back', out)
        for role in ROLES:
            for shape in SHAPES:
                # Measured: rows, images and artifacts p50/p95, the ratio,
                # the statements and a verdict; or n/a where the data has
                # no such page (page 40 of 2000 artifacts).
                row = (r'^%s +%s +(\d+/\d+ +[\d.]+/[\d.]+ +[\d.]+/[\d.]+ +'
                       r'[\d.]+ +\d+/\d+ +\S.*|- .*n/a.*)$'
                       % (role, re.escape(shape)))
                self.assertRegex(out, re.compile(row, re.M))
        self.assertRegex(out, re.compile(
            r'^(admin|member) +default list +25/25 ', re.M))
        self.assertRegex(out, re.compile(
            r'^targets met: (yes|no) \(\d+ of \d+ rows\)$', re.M))
        self.assertRegex(out, re.compile(
            r'^server RSS: [\d.]+ MiB idle; peak growth while measuring '
            r'-?[\d.]+ MiB \(target < 64 MiB\)$', re.M))
        # What does not depend on timing: an artifact GET is two SQL
        # statements (the artifact, then what it owns), a first page too.
        for role in ROLES:
            self.assertRegex(out, re.compile(
                r'^%s +GET by id +1/1 +\S+ +\S+ +\S+ +\d+/2 ' % role, re.M))
            # An images page is one statement, and one for what its
            # images hold (properties and tags), however it is sorted.
            for shape in ('img list', 'img sort name', 'img tags'):
                self.assertRegex(out, re.compile(
                    r'^%s +%s +25/25 +\S+ +\S+ +\S+ +\d+/2 '
                    % (role, shape), re.M))
            # By version, first 2 to 4 for the index of image versions:
            # its state, the images changed in the last minute, the
            # entries that differ, its new state.
            for shape in ('img latest', 'img sort version'):
                self.assertRegex(out, re.compile(
                    r'^%s +%s +25/25 +\S+ +\S+ +\S+ +\d+/[4-6] '
                    % (role, shape), re.M))
            self.assertRegex(out, re.compile(
                r'^%s +default list +25/25 +\S+ +\S+ +\S+ +\d+/2 ' % role,
                re.M))
