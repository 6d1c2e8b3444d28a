"""SemVer parsing and the sort key whose string order is precedence."""

import random
import re

import testtools

from glance.artifacts import semver

# The precedence example of semver.org, plus numeric edge cases.
ORDERED = ['0.0.0', '0.9.9', '1.0.0-0', '1.0.0-0.0', '1.0.0-1',
           '1.0.0-2', '1.0.0-10', '1.0.0-A', '1.0.0-alpha',
           '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta',
           '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0',
           '1.0.1', '1.2.0', '1.10.0', '2.0.0', '10.0.0',
           '99999999999999999999.0.0']


class TestSortKey(testtools.TestCase):

    def test_key_order_is_semver_precedence(self):
        shuffled = list(ORDERED)
        random.Random(4).shuffle(shuffled)
        self.assertEqual(ORDERED, sorted(shuffled, key=semver.sort_key))

    def test_build_metadata_is_ignored_for_order(self):
        self.assertEqual(semver.sort_key('1.0.0'),
                         semver.sort_key('1.0.0+build.7'))
        self.assertEqual(semver.sort_key('1.0.0-rc.1+x'),
                         semver.sort_key('1.0.0-rc.1'))

    def test_keys_use_only_digits_and_lowercase_letters(self):
        # so that case-insensitive and locale-aware collations agree
        for version in ORDERED + ['1.0.0-Z.z-9', '1.0.0--']:
            self.assertRegex(semver.sort_key(version), r'^[0-9a-z]+$')

    def test_keys_fit_the_column_for_the_longest_version(self):
        worst = '1.1.1-' + '.'.join(['a'] * 61)
        self.assertLessEqual(len(worst), semver.MAX_LENGTH)
        self.assertLessEqual(len(semver.sort_key(worst)),
                             semver.key_length())


class TestParse(testtools.TestCase):

    def test_invalid_versions_are_refused_with_a_message(self):
        for bad in ('1', '1.0', '01.0.0', '1.0.0-', '1.0.0-01', 'v1.0.0',
                    '1.0.0+', '1.0.0 ', ' 1.0.0', '1.0.0-a..b', '١.٠.٠',
                    '1.0.0-ä'):
            self.assertRaises(semver.InvalidVersion, semver.parse, bad)

    def test_non_strings_and_long_versions_are_refused(self):
        self.assertRaisesRegex(semver.InvalidVersion, 'must be a string',
                               semver.parse, 1)
        self.assertRaisesRegex(semver.InvalidVersion, 'at most 128',
                               semver.parse, '1.0.0-' + 'a' * 123)

    def test_numbers_over_35_digits_are_refused(self):
        self.assertRaisesRegex(semver.InvalidVersion, 'at most 35 digits',
                               semver.sort_key, '1' * 36 + '.0.0')

    def test_parts_are_returned(self):
        self.assertEqual(('1', '2', '3', 'rc.1', 'b5'),
                         semver.parse('1.2.3-rc.1+b5'))
        self.assertTrue(re.match('^z$', semver.sort_key('1.0.0')[-1]))
