"""The bounded parsers of content inspection, the declarations of
inspected fields, and Murano's versions, without a server."""

import io
import zipfile

import testtools

from glance.artifacts import exception
from glance.artifacts import fields as f
from glance.artifacts import inspection
from glance.artifacts.types import base
from glance.artifacts.types import murano
from tests.functional import samples


class TestLoadYAML(testtools.TestCase):

    def test_yaml_and_json_load_with_dates_kept_as_yaml_reads_them(self):
        self.assertEqual({'a': [1, 'x']}, inspection.load_yaml(
            b'a: [1, x]\n', 'f'))
        self.assertEqual({'a': [1, 'x']}, inspection.load_yaml(
            '{\t"a": [1, "x"]}', 'f'))
        version = inspection.load_yaml(b'v: 2021-04-16\n', 'f')['v']
        self.assertEqual('2021-04-16', inspection.scalar_text(version))
        self.assertIsNone(inspection.load_yaml(b'', 'f'))

    def test_errors_name_the_file_and_the_line(self):
        e = self.assertRaises(exception.Invalid, inspection.load_yaml,
                              b'a: 1\nb: [\n', 'x.yaml')
        self.assertTrue(str(e).startswith('x.yaml: invalid YAML at line 3'),
                        str(e))
        e = self.assertRaises(exception.Invalid, inspection.load_yaml,
                              b'{"a": 1', 'x.json')
        self.assertIn('x.json: invalid', str(e))
        e = self.assertRaises(exception.Invalid, inspection.load_yaml,
                              b'a: !!python/object:os.system {}\n', 'x')
        self.assertIn('x: invalid YAML at line 1', str(e))

    def test_alias_expansion_is_counted_not_done(self):
        e = self.assertRaises(exception.Invalid, inspection.load_yaml,
                              samples.billion_laughs(levels=30), 'b')
        self.assertIn('more than 100000 nodes with its aliases expanded',
                      str(e))
        # Shared aliases under the limit are fine.
        self.assertEqual(3, len(inspection.load_yaml(
            b'a: &a [1, 2]\nb: *a\nc: *a\n', 'b')))

    def test_recursive_anchors_and_depth_are_refused(self):
        for data, fragment in [
                (b'&a [*a]', 'recursive anchors'),
                (b'a: &a {b: {c: *a}}', 'recursive anchors'),
                (b'[' * 101 + b']' * 101, 'nests more than 100 levels'),
                (b'{"a": ' * 101 + b'1' + b'}' * 101, 'nests more than')]:
            e = self.assertRaises(exception.Invalid, inspection.load_yaml,
                                  data, 'r')
            self.assertIn(fragment, str(e))
        self.assertEqual([[]], inspection.load_yaml(b'[' * 2 + b']' * 2,
                                                    'r'))

    def test_size_is_capped(self):
        e = self.assertRaises(exception.Invalid, inspection.load_yaml,
                              b'#' * 11, 'big', max_bytes=10)
        self.assertEqual('big: too large to inspect: 11 bytes, at most 10',
                         str(e))


class TestOpenZip(testtools.TestCase):

    def open(self, data):
        return inspection.open_zip(io.BytesIO(data), 'pkg')

    def test_members_are_read_within_bounds(self):
        data = samples.zip_bytes([('a.txt', b'hello'),
                                  ('zeros', b'\0' * (2 * 2 ** 20))])
        with self.open(data) as archive:
            self.assertEqual(['a.txt', 'zeros'], archive.names())
            self.assertEqual(b'hello', archive.read('a.txt'))
            e = self.assertRaises(exception.Invalid, archive.read, 'zeros')
            self.assertIn('zeros in pkg: inflates to more than 100 times',
                          str(e))
            e = self.assertRaises(exception.Invalid, archive.read, 'a.txt',
                                  limit=4)
            self.assertEqual('a.txt in pkg: inflates to more than 4 bytes',
                             str(e))

    def test_member_names_are_checked(self):
        for name in ('/a', '../a', 'a/../../b', 'a\\b', 'c:a', 'a\x1fb', ''):
            self.assertIsNotNone(inspection.check_member_name(name), name)
        for name in ('a', 'a/b.yaml', 'a..b', '.hidden', 'a/'):
            self.assertIsNone(inspection.check_member_name(name), name)
        self.assertEqual('a/b', inspection.normalized('./a//./b'))

    def test_not_a_zip_and_empty_zip(self):
        e = self.assertRaises(exception.Invalid, self.open, b'PK\x03\x04')
        self.assertIn('pkg: not a zip archive', str(e))
        buf = io.BytesIO()
        zipfile.ZipFile(buf, 'w').close()
        with self.open(buf.getvalue()) as archive:
            self.assertEqual([], archive.names())


class TestDeclarations(testtools.TestCase):

    def check(self, fields):
        type_cls = type('T', (base.ArtifactType,), {
            'name': 't', 'display_name': 'T', 'fields': fields})
        type_cls.check_declaration('t')

    def test_type_fields_may_be_read_only_but_not_required(self):
        self.check({'x': f.String(readonly=True, filterable=True)})
        self.assertRaises(f.DeclarationError, self.check,
                          {'x': f.String(readonly=True, required=True)})
        self.assertRaises(f.DeclarationError, self.check,
                          {'x': f.String(readonly=True, default='d')})

    def test_inspectors_are_callables_of_blobs(self):
        blob = f.Blob(inspector=lambda c, a, lookup: {},
                      inspect_on_activate_above=10)
        self.assertTrue(blob.schema()['x-inspected'])
        self.assertEqual((True, False), (blob.inspected_at_upload(10),
                                         blob.inspected_at_upload(11)))
        self.assertFalse(f.Blob().inspected_at_upload(1))
        self.assertNotIn('x-inspected', f.Blob().schema())
        self.assertRaises(f.DeclarationError, f.Blob, inspector='x')
        self.assertRaises(f.DeclarationError, f.Blob,
                          inspect_on_activate_above=10)


class TestMuranoVersions(testtools.TestCase):

    def test_partial_versions_are_completed(self):
        for text, version in [('1', '1.0.0'), ('1.0', '1.0.0'),
                              (2.1, '2.1.0'), ('1.2.3', '1.2.3'),
                              ('1.2.3-rc.1', '1.2.3-rc.1')]:
            self.assertEqual(version, murano.normalize_version(text))
        self.assertRaises(ValueError, murano.normalize_version, 'one')

    def test_requirement_specs(self):
        cases = [(None, '0.0.1', True), ('', '9.0.0', True),
                 ('1.2.3', '1.2.3', True), ('1.2.3', '1.2.4', False),
                 ('1.2', '1.2.9', True), ('1.2', '1.3.0', False),
                 ('1', '1.9.0', True), ('1', '2.0.0', False),
                 ('>=1.0,<2.0', '1.5.0', True), ('>=1.0,<2.0', '2.0.0',
                                                 False),
                 ('>= 1.0, != 1.1', '1.1.0', False),
                 ('==2.0.0', '2.0.0', True), ('<1', '0.9.9', True)]
        for spec, version, accepted in cases:
            self.assertEqual(accepted,
                             murano.parse_requirement(spec)(version),
                             (spec, version))
        for bad in ('~>1', '>=x', '1.2.3.4.5'):
            self.assertRaises(ValueError, murano.parse_requirement, bad)
