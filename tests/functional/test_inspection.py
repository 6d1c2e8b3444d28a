"""Content inspection of blobs, through the paste pipeline: what each
built-in type accepts and fills, what it refuses (and that nothing of a
refused upload is kept), hostile content, and the option that turns it
off. The samples are made in code (samples.py)."""

import io
import os
import time
import zipfile

import fixtures
from oslo_config import cfg

from glance.artifacts import inspection
from glance.artifacts.types import heat
from tests.functional import samples
from tests.functional import test_blobs

CONF = cfg.CONF
OCTETS = 'application/octet-stream'
HOT_VERSIONS = ', '.join(heat.HOT_VERSIONS)
TOSCA_VERSIONS = ('tosca_simple_yaml_1_0, tosca_simple_yaml_1_1, '
                  'tosca_simple_yaml_1_2, tosca_simple_yaml_1_3, '
                  'tosca_simple_profile_for_nfv_1_0_0')
MiB = 1024 * 1024


class InspectionTest(test_blobs.BlobTest):

    def setUp(self):
        super(InspectionTest, self).setUp()
        CONF.set_override('inspect_content', True, group='artifacts')
        self.addCleanup(CONF.clear_override, 'inspect_content',
                        group='artifacts')

    def upload(self, art, path, data):
        return self.request('PUT', art['self'] + path, raw=data,
                            content_type=OCTETS)

    def message(self, resp):
        """The error message, without the HTML line breaks webob's error
        body template adds."""
        return resp.json['message'].split('<br />')[0].rstrip()

    def get(self, art):
        return self.request('GET', art['self']).json

    def assertRefused(self, resp, message, art, before=None):
        """400 with exactly ``message``; the artifact as ``before`` (or
        its blob fields empty) and no upload left behind."""
        self.assertEqual(400, resp.status_int, resp.text)
        self.assertEqual(message, self.message(resp))
        after = self.get(art)
        if before is not None:
            self.assertEqual(before, after)


class TestHeatTemplates(InspectionTest):

    def setUp(self):
        super(TestHeatTemplates, self).setUp()
        self.art = self.create('heat_templates', name='web')

    def test_a_template_fills_version_description_parameters_outputs(self):
        resp = self.upload(self.art, '/template', samples.HOT.encode())
        self.assertEqual(204, resp.status_int, resp.text)
        shown = self.get(self.art)
        self.assertEqual('active', shown['template']['status'])
        self.assertEqual(
            ('2021-04-16', 'A web server and its port',
             {'flavor': 'string', 'count': 'number', 'debug': 'boolean'},
             ['address', 'name']),
            (shown['template_version'], shown['template_description'],
             shown['parameters'], shown['outputs']))
        self.assertEqual('1.1', shown['type_version'])
        for query in ('template_version=2021-04-16',
                      'parameters.count=number', 'outputs=address'):
            listed = self.request('GET', '/v2/artifacts/heat_templates?'
                                  + query).json['artifacts']
            self.assertEqual([self.art['id']], [a['id'] for a in listed],
                             query)

    def test_a_json_template_is_a_template(self):
        resp = self.upload(self.art, '/template', samples.HOT_JSON.encode())
        self.assertEqual(204, resp.status_int, resp.text)
        shown = self.get(self.art)
        self.assertEqual(('wallaby', None, {'key': 'comma_delimited_list'},
                          []),
                         (shown['template_version'],
                          shown['template_description'],
                          shown['parameters'], shown['outputs']))

    def test_broken_templates_are_400_saying_what_and_keep_nothing(self):
        before = self.get(self.art)
        for data, message in [
                (b'heat_template_version: 2021-04-16\nparameters:\n'
                 b'  a: [1, 2\nresources: {}\n',
                 "template: invalid YAML at line 4, column 10: did not "
                 "find expected ',' or ']'"),
                (b'heat_template_version: 2012-12-12\n',
                 "template: heat_template_version '2012-12-12' is not one "
                 "Heat knows: " + HOT_VERSIONS),
                (b'description: no version\n',
                 'template: heat_template_version is missing; Heat knows: '
                 + HOT_VERSIONS),
                (b'heat_template_version: rocky\nfoo: 1\nbar: 2\n',
                 'template: unknown top-level section(s) bar, foo; a HOT '
                 'template has: heat_template_version, description, '
                 'parameter_groups, parameters, resources, outputs, '
                 'conditions'),
                (b'heat_template_version: rocky\nparameters:\n  p: {}\n',
                 "template: parameter 'p' needs a type, one of string, "
                 "number, json, comma_delimited_list, boolean"),
                (b'- a\n- b\n',
                 'template: a Heat template is a YAML mapping that starts '
                 'with heat_template_version, not a list'),
                (b'heat_template_version: rocky\n---\nmore: 1\n',
                 'template: invalid YAML at line 2, column 1: but found '
                 'another document'),
                (b'heat_template_version: rocky\ndescription: ' +
                 b'x' * 70000 + b'\n',
                 "Invalid value for 'template_description': must have at "
                 "most 65535 characters, got 70000"),
                (b'\xff\xfe\x00garbage',
                 None)]:
            resp = self.upload(self.art, '/template', data)
            self.assertEqual(400, resp.status_int, resp.text)
            if message is not None:
                self.assertEqual(message, self.message(resp))
            self.assertEqual(before, self.get(self.art))
            self.assertEqual([], self.stored())

    def test_a_refused_reupload_keeps_the_blob_and_the_fields(self):
        self.assertEqual(204, self.upload(self.art, '/template',
                                          samples.HOT.encode()).status_int)
        before = self.get(self.art)
        resp = self.upload(self.art, '/template',
                           b'heat_template_version: 1999-01-01\n')
        self.assertRefused(resp, "template: heat_template_version "
                           "'1999-01-01' is not one Heat knows: "
                           + HOT_VERSIONS, self.art, before)
        self.assertEqual([samples.HOT.encode()], self.stored())

    def test_nested_templates_are_checked_and_fill_nothing(self):
        resp = self.upload(self.art, '/nested_templates/net.yaml',
                           samples.HOT.encode())
        self.assertEqual(204, resp.status_int, resp.text)
        resp = self.upload(self.art, '/nested_templates/bad.yaml',
                           b'heat_template_version: zed\n')
        self.assertRefused(resp, "nested_templates/bad.yaml: "
                           "heat_template_version 'zed' is not one Heat "
                           "knows: " + HOT_VERSIONS, self.art)
        shown = self.get(self.art)
        self.assertEqual(['net.yaml'], list(shown['nested_templates']))
        self.assertIsNone(shown['template_version'])
        self.assertEqual({}, shown['parameters'])

    def test_inspected_fields_are_read_only(self):
        resp = self.request('POST', '/v2/artifacts/heat_templates',
                            body={'name': 'x', 'template_version': 'rocky'})
        self.assertError(403, resp, "Attribute 'template_version' is "
                                    "read-only.")
        for path, value in (('/parameters', {'a': 'string'}),
                            ('/outputs', ['o']),
                            ('/template_description', 'd')):
            resp = self.request('PATCH', self.art['self'], body=[
                {'op': 'add', 'path': path, 'value': value}])
            self.assertEqual(403, resp.status_int, resp.text)
            self.assertEqual("Attribute '%s' is read-only." % path[1:],
                             self.message(resp))
        schema = self.request('GET',
                              '/v2/artifacts/schemas/heat_templates').json
        props = schema['properties']
        self.assertTrue(props['template_version']['readOnly'])
        self.assertTrue(props['template']['x-inspected'])
        self.assertTrue(props['nested_templates']['x-inspected'])

    def test_inspection_off_takes_any_bytes_and_fills_nothing(self):
        CONF.set_override('inspect_content', False, group='artifacts')
        resp = self.upload(self.art, '/template', b'\x00 not a template')
        self.assertEqual(204, resp.status_int, resp.text)
        shown = self.get(self.art)
        self.assertEqual('active', shown['template']['status'])
        self.assertIsNone(shown['template_version'])

    def test_a_blob_above_the_upload_limit_is_inspected_at_activation(self):
        field = heat.HeatTemplate.fields['template']
        self.useFixture(fixtures.MonkeyPatch(
            'glance.artifacts.types.heat.HeatTemplate.fields',
            dict(heat.HeatTemplate.fields, template=type(field)(
                max_size=field.max_size, required_on_activate=True,
                inspector=heat.inspect_template,
                inspect_on_activate_above=10))))
        broken = b'heat_template_version: 1999-01-01\n'
        self.assertEqual(204, self.upload(self.art, '/template',
                                          broken).status_int)
        activate = self.art['self'] + '/actions/activate'
        resp = self.request('POST', activate)
        self.assertRefused(resp, "template: heat_template_version "
                           "'1999-01-01' is not one Heat knows: "
                           + HOT_VERSIONS, self.art)
        shown = self.get(self.art)
        self.assertEqual(('drafted', None),
                         (shown['status'], shown['template_version']))
        self.assertEqual([broken], self.stored())
        self.assertEqual(204, self.upload(self.art, '/template',
                                          samples.HOT.encode()).status_int)
        self.assertIsNone(self.get(self.art)['template_version'])
        resp = self.request('POST', activate)
        self.assertIn(resp.status_int, (200, 204), resp.text)
        shown = self.get(self.art)
        self.assertEqual(('active', '2021-04-16', ['address', 'name']),
                         (shown['status'], shown['template_version'],
                          shown['outputs']))


class TestHeatEnvironments(InspectionTest):

    def test_environments_take_the_sections_heat_knows(self):
        art = self.create('heat_environments', name='env')
        resp = self.upload(art, '/environment', samples.ENVIRONMENT.encode())
        self.assertEqual(204, resp.status_int, resp.text)
        other = self.create('heat_environments', name='env2')
        for data, message in [
                (b'parameters: {}\nresources: {}\n',
                 'environment: unknown section(s) resources; a Heat '
                 'environment has: parameters, parameter_defaults, '
                 'resource_registry, encrypted_param_names, event_sinks, '
                 'parameter_merge_strategies'),
                (b'parameters:\nparameter_defaults: {a: 1}\n',
                 'environment: empty section(s) parameters'),
                (b'just text', 'environment: a Heat environment is a YAML '
                               'mapping, not a str')]:
            resp = self.upload(other, '/environment', data)
            self.assertRefused(resp, message, other)
            self.assertIsNone(self.get(other)['environment'])
        self.assertEqual([samples.ENVIRONMENT.encode()], self.stored())


class TestHostileYAML(InspectionTest):
    """Refused fast, without expanding or recursing."""

    def setUp(self):
        super(TestHostileYAML, self).setUp()
        self.art = self.create('heat_templates', name='hostile')

    def refused(self, data, message):
        started = time.monotonic()
        resp = self.upload(self.art, '/template', data)
        self.assertLess(time.monotonic() - started, 10)
        self.assertRefused(resp, message, self.art)
        self.assertIsNone(self.get(self.art)['template'])
        self.assertEqual([], self.stored())

    def test_an_alias_bomb_is_refused_without_expanding_it(self):
        self.refused(samples.billion_laughs(),
                     'template: the YAML document has more than 100000 '
                     'nodes with its aliases expanded (line 12)')

    def test_a_recursive_anchor_is_refused(self):
        self.refused(b'heat_template_version: rocky\n'
                     b'resources: &r {a: [*r]}\n',
                     'template: a YAML alias refers to a node that '
                     'contains it (line 2): recursive anchors are not '
                     'accepted')

    def test_deep_nesting_is_refused(self):
        self.refused(b'heat_template_version: rocky\nresources: ' +
                     b'[' * 150 + b']' * 150 + b'\n',
                     'template: the YAML document nests more than 100 '
                     'levels deep (line 2)')

    def test_a_document_too_large_to_inspect_is_refused(self):
        self.refused(b'#' * (5 * MiB),
                     'template: too large to inspect: 5242880 bytes, at '
                     'most 4194304')

    def test_too_many_nodes_are_refused_before_composing(self):
        self.refused(b'heat_template_version: rocky\nresources: [' +
                     b'1,' * 200000 + b'1]\n',
                     'template: the YAML document has more than 100000 '
                     'nodes (line 2)')


def manifest_yaml(**overrides):
    return samples.manifest(**overrides)


class TestMuranoPackages(InspectionTest):

    def setUp(self):
        super(TestMuranoPackages, self).setUp()
        self.art = self.create('murano_packages', name='io.example.Web',
                               version='1.2.0')

    def test_the_manifest_fills_the_fields(self):
        resp = self.upload(self.art, '/package', samples.murano_package())
        self.assertEqual(204, resp.status_int, resp.text)
        shown = self.get(self.art)
        self.assertEqual(
            {'package_type': 'Library', 'display_name': 'Web server',
             'class_definitions': ['io.example.Web', 'io.example.Port'],
             'keywords': ['web', 'http'], 'categories': ['Web'],
             'dependencies': []},
            {k: shown[k] for k in ('package_type', 'display_name',
                                   'class_definitions', 'keywords',
                                   'categories', 'dependencies')})

    def test_fullname_or_version_that_disagree_are_400_naming_both(self):
        before = self.get(self.art)
        for text, message in [
                (manifest_yaml(FullName='io.example.Other'),
                 "manifest.yaml in package: FullName 'io.example.Other' "
                 "differs from the artifact's name 'io.example.Web'"),
                (manifest_yaml(Version='1.3'),
                 "manifest.yaml in package: Version '1.3' (1.3.0) differs "
                 "from the artifact's version '1.2.0'"),
                (manifest_yaml(Version='one'),
                 "manifest.yaml in package: Version 'one' is not a "
                 "version")]:
            resp = self.upload(self.art, '/package',
                               samples.murano_package(text))
            self.assertRefused(resp, message, self.art, before)
        self.assertEqual([], self.stored())

    def test_partial_versions_are_normalised_as_murano_does(self):
        art = self.create('murano_packages', name='io.example.Web',
                          version='2.0.0')
        resp = self.upload(art, '/package', samples.murano_package(
            manifest_yaml(Version=2)))
        self.assertEqual(204, resp.status_int, resp.text)

    def test_require_becomes_the_dependencies_that_exist(self):
        ids = {}
        for name, version in [('io.example.Base', '1.0.0'),
                              ('io.example.Base', '1.5.0'),
                              ('io.example.Base', '2.0.0'),
                              ('io.example.Any', '0.1.0'),
                              ('io.example.Any', '3.0.0'),
                              ('io.example.Exact', '1.0.3'),
                              ('io.example.Exact', '1.1.0')]:
            ids[name, version] = self.create(
                'murano_packages', name=name, version=version)['id']
        require = {'io.example.Base': '>=1.0,<2.0',
                   'io.example.Missing': None,
                   'io.example.Any': None,
                   'io.example.Exact': '1.0'}
        resp = self.upload(self.art, '/package', samples.murano_package(
            manifest_yaml(Require=require)))
        self.assertEqual(204, resp.status_int, resp.text)
        self.assertEqual([ids['io.example.Base', '1.5.0'],
                          ids['io.example.Any', '3.0.0'],
                          ids['io.example.Exact', '1.0.3']],
                         self.get(self.art)['dependencies'])
        resp = self.upload(self.art, '/package', samples.murano_package(
            manifest_yaml(Require={'io.example.Base': '~>1'})))
        self.assertRefused(resp, "manifest.yaml in package: Require "
                           "io.example.Base: cannot read the version spec "
                           "'~>1'", self.art)

    def test_broken_packages_are_400_saying_what(self):
        before = self.get(self.art)
        for data, message in [
                (b'not a zip',
                 'package: not a zip archive (no end of central directory '
                 'record)'),
                (samples.zip_bytes([('README', 'x')]),
                 'package: manifest.yaml is missing: a Murano package is a '
                 'zip archive with its manifest at the top'),
                (samples.murano_package(manifest_yaml(
                    Classes={'io.example.X': 'X.yaml'})),
                 'manifest.yaml in package: class io.example.X: its file '
                 'Classes/X.yaml is not in the package'),
                (samples.murano_package('FullName: [io.example.Web\n'),
                 "manifest.yaml in package: invalid YAML at line 2, column "
                 "1: did not find expected ',' or ']'"),
                (samples.murano_package(manifest_yaml(Type='Plugin')),
                 "Invalid value for 'package_type': 'Plugin' is not one of "
                 "the allowed values 'Application', 'Library'")]:
            resp = self.upload(self.art, '/package', data)
            self.assertRefused(resp, message, self.art, before)
        self.assertEqual([], self.stored())


class TestHostileZips(InspectionTest):
    """Zip bombs, forged sizes and path tricks, refused fast."""

    def setUp(self):
        super(TestHostileZips, self).setUp()
        self.art = self.create('murano_packages', name='io.example.Web',
                               version='1.2.0')

    def refused(self, data, message):
        started = time.monotonic()
        resp = self.upload(self.art, '/package', data)
        self.assertLess(time.monotonic() - started, 10)
        self.assertRefused(resp, message, self.art)
        self.assertIsNone(self.get(self.art)['package'])
        self.assertEqual([], self.stored())

    def test_a_member_inflating_past_the_limit_is_refused(self):
        # Random text deflates about twice: no bomb, but too large.
        self.refused(samples.murano_package(
            manifest_yaml() + '\n#' + os.urandom(5 * MiB // 2).hex()),
            'manifest.yaml in package: inflates to more than 4194304 '
            'bytes')

    def test_a_member_inflating_far_beyond_its_stored_size_is_refused(self):
        data = samples.murano_package(manifest_yaml() + '\n' + ' ' * MiB)
        stored = zipfile.ZipFile(io.BytesIO(data)).getinfo(
            'manifest.yaml').compress_size
        self.refused(data, 'manifest.yaml in package: inflates to more '
                           'than 100 times its stored size of %d bytes (a '
                           'zip bomb?)' % stored)

    def test_a_forged_member_size_is_not_trusted(self):
        data = samples.murano_package()
        self.refused(samples.forged_size(data, 'manifest.yaml', 10),
                     "manifest.yaml in package: corrupt zip member: Bad "
                     "CRC-32 for file 'manifest.yaml'")
        bomb = samples.murano_package(manifest_yaml() + '\n' +
                                      ' ' * (5 * MiB))
        self.refused(samples.forged_size(bomb, 'manifest.yaml', 100),
                     "manifest.yaml in package: corrupt zip member: Bad "
                     "CRC-32 for file 'manifest.yaml'")

    def test_too_many_entries_are_refused(self):
        self.refused(samples.murano_package(extra=[
            ('f%d' % i, b'') for i in range(10000)]),
            'package: the zip archive has more than 10000 entries')

    def test_path_tricks_are_refused(self):
        for name, shown, problem in [
                ('/etc/passwd', '/etc/passwd', 'an absolute path'),
                ('../../escape', '../../escape', "a '..' component"),
                ('Classes/../../x', 'Classes/../../x', "a '..' component"),
                ('dir\\file', 'dir\\\\file', 'a backslash in its name'),
                ('C:boot.ini', 'C:boot.ini', 'a drive letter'),
                ('bell\x07.yaml', 'bell\\x07.yaml',
                 'a NUL or control character in its name'),
                ('Classes/./Web.yaml', 'Classes/./Web.yaml',
                 'a duplicate name')]:
            self.refused(samples.murano_package(extra=[(name, b'x')]),
                         'package: the zip entry %s is refused: %s'
                         % (shown, problem))

    def test_nul_in_a_name_is_refused(self):
        data = samples.with_name_bytes(samples.murano_package(
            extra=[('nul_.yaml', b'x')]), b'nul_.yaml', b'nul\x00.yaml')
        self.refused(data, 'package: the zip entry nul\\x00.yaml is '
                           'refused: a NUL or control character in its '
                           'name')

    def test_symlinks_encryption_and_other_compressions_are_refused(self):
        self.refused(samples.murano_package(extra=[
            (samples.symlink_entry('link'), b'/etc/passwd')]),
            'package: the zip entry link is refused: a symbolic link')
        self.refused(samples.flag_encrypted(samples.murano_package(),
                                            'Classes/Web.yaml'),
                     'package: the zip entry Classes/Web.yaml is refused: '
                     'encrypted')
        self.refused(samples.zip_bytes(
            [('manifest.yaml', manifest_yaml())], zipfile.ZIP_BZIP2),
            'package: the zip entry manifest.yaml is refused: compressed '
            'with method 12 (only stored and deflated members are read)')

    def test_a_large_stored_package_is_inspected_by_ranges(self):
        # A 20 MiB member the inspection never reads.
        data = samples.murano_package(extra=[
            ('Resources/big.bin', b'\x00' * (20 * MiB))])
        reads = []
        original = inspection.Content.range

        def counting(content, offset, length):
            reads.append(length)
            return original(content, offset, length)
        self.useFixture(fixtures.MonkeyPatch(
            'glance.artifacts.inspection.Content.range', counting))
        resp = self.upload(self.art, '/package', data)
        self.assertEqual(204, resp.status_int, resp.text)
        self.assertLess(sum(reads), 2 * MiB)


class TestToscaTemplates(InspectionTest):

    def setUp(self):
        super(TestToscaTemplates, self).setUp()
        self.art = self.create('tosca_templates', name='web')

    def fields(self):
        shown = self.get(self.art)
        return (shown['template_format'], shown['tosca_definitions_version'],
                shown['entry_definitions'])

    def test_a_service_template_fills_format_and_version(self):
        resp = self.upload(self.art, '/template', samples.TOSCA.encode())
        self.assertEqual(204, resp.status_int, resp.text)
        self.assertEqual(('yaml', 'tosca_simple_yaml_1_3', None),
                         self.fields())

    def test_a_csar_fills_format_version_and_entry_definitions(self):
        resp = self.upload(self.art, '/template', samples.csar())
        self.assertEqual(204, resp.status_int, resp.text)
        self.assertEqual(('csar', 'tosca_simple_yaml_1_3',
                          'Definitions/main.yaml'), self.fields())

    def test_broken_templates_and_csars_are_400_saying_what(self):
        for data, message in [
                (b'description: none\n',
                 'template: tosca_definitions_version is missing; it is '
                 'one of ' + TOSCA_VERSIONS),
                (b'tosca_definitions_version: tosca_simple_yaml_9\n',
                 "template: tosca_definitions_version "
                 "'tosca_simple_yaml_9' is not one of " + TOSCA_VERSIONS),
                (samples.zip_bytes([('main.yaml', samples.TOSCA)]),
                 'template: TOSCA-Metadata/TOSCA.meta is missing: a CSAR '
                 'names its entry definitions there'),
                (samples.csar(meta='TOSCA-Meta-File-Version: 1.0\n'),
                 'TOSCA-Metadata/TOSCA.meta in template: CSAR-Version, '
                 'Created-By, Entry-Definitions missing; TOSCA.meta has '
                 'TOSCA-Meta-File-Version, CSAR-Version, Created-By, '
                 'Entry-Definitions'),
                (samples.csar(meta='TOSCA-Meta-File-Version: 1.0\n'
                                   'CSAR-Version: 1.1\nCreated-By: t\n'
                                   'Entry-Definitions: none.yaml\n'),
                 'TOSCA-Metadata/TOSCA.meta in template: Entry-Definitions '
                 'none.yaml is not in the archive'),
                (samples.csar(template='tosca_definitions_version: 1\n'),
                 "Definitions/main.yaml in template: "
                 "tosca_definitions_version '1' is not one of "
                 + TOSCA_VERSIONS)]:
            resp = self.upload(self.art, '/template', data)
            self.assertRefused(resp, message, self.art)
            self.assertEqual(('yaml', None, None), self.fields())
        self.assertEqual([], self.stored())
