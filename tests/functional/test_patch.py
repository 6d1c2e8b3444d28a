"""PATCH /v2/artifacts/{type}/{id} with JSON patch."""

from glance.db.artifacts import models
from tests.functional import base

V21 = 'application/openstack-images-v2.1-json-patch'
RFC = 'application/json-patch+json'


class TestPatch(base.FunctionalTest):

    def setUp(self):
        super(TestPatch, self).setUp()
        self.art = self.create(name='web', version='1.0.0', tags=['a'],
                               metadata={'k': 'v'}, default_envs=['x'])

    def patch(self, ops, content_type=V21, url=None):
        return self.request('PATCH', url or self.art['self'], body=ops,
                            content_type=content_type)

    def test_both_patch_media_types_are_accepted(self):
        for media_type, name in ((V21, 'one'), (RFC, 'two')):
            resp = self.patch([{'op': 'replace', 'path': '/name',
                                'value': name}], media_type)
            self.assertEqual(200, resp.status_int, resp.text)
            self.assertEqual(name, resp.json['name'])
        self.assertEqual('two', self.request('GET',
                                             self.art['self']).json['name'])

    def test_other_media_types_are_415_with_accept_patch(self):
        for media_type in ('application/json', 'text/plain',
                           'application/openstack-images-v2.0-json-patch'):
            resp = self.patch([{'op': 'replace', 'path': '/name',
                                'value': 'n'}], media_type)
            self.assertError(415, resp, 'PATCH takes a JSON patch')
            self.assertEqual('%s, %s' % (V21, RFC),
                             resp.headers['Accept-Patch'])

    def test_add_replace_remove_on_common_and_type_fields(self):
        resp = self.patch([
            {'op': 'replace', 'path': '/description', 'value': 'd'},
            {'op': 'add', 'path': '/version', 'value': '1.1.0'},
            {'op': 'add', 'path': '/tags/-', 'value': 'b'},
            {'op': 'add', 'path': '/metadata/new', 'value': 'n'},
            {'op': 'remove', 'path': '/metadata/k'},
            {'op': 'add', 'path': '/default_envs/0', 'value': 'first'},
            {'op': 'replace', 'path': '/protected', 'value': True},
        ])
        self.assertEqual(200, resp.status_int, resp.text)
        shown = self.request('GET', self.art['self']).json
        self.assertEqual('d', shown['description'])
        self.assertEqual('1.1.0', shown['version'])
        self.assertEqual(['a', 'b'], shown['tags'])
        self.assertEqual({'new': 'n'}, shown['metadata'])
        self.assertEqual(['first', 'x'], shown['default_envs'])
        self.assertTrue(shown['protected'])
        self.assertEqual(resp.json, shown)

    def test_remove_of_whole_field_clears_it(self):
        resp = self.patch([{'op': 'remove', 'path': '/description'},
                           {'op': 'remove', 'path': '/tags'},
                           {'op': 'remove', 'path': '/default_envs'}])
        self.assertEqual(200, resp.status_int, resp.text)
        self.assertIsNone(resp.json['description'])
        self.assertEqual([], resp.json['tags'])
        self.assertEqual([], resp.json['default_envs'])
        self.assertEqual(0, self.count_rows(models.tags))

    def test_removing_a_required_field_is_400(self):
        resp = self.patch([{'op': 'remove', 'path': '/name'}])
        self.assertError(400, resp, "'name': a value is required")

    def test_read_only_paths_are_403(self):
        for path in ('/id', '/status', '/owner', '/created_at',
                     '/updated_at', '/activated_at', '/type_name',
                     '/type_version', '/template',
                     '/nested_templates/main.yaml'):
            resp = self.patch([{'op': 'replace', 'path': path,
                                'value': 'x'}])
            self.assertEqual(403, resp.status_int, (path, resp.text))

    def test_unknown_path_is_400(self):
        resp = self.patch([{'op': 'add', 'path': '/colour', 'value': 'r'}])
        self.assertError(400, resp, "'colour' is not a field")

    def test_bad_operations_are_400(self):
        cases = [
            ({'op': 'move', 'from': '/name', 'path': '/description'},
             'op must be one of add, replace, remove'),
            ({'op': 'test', 'path': '/name', 'value': 'web'},
             'op must be one of'),
            ({'path': '/name', 'value': 'x'}, 'op must be one of'),
            ({'op': 'replace', 'value': 'x'}, 'path must be a JSON pointer'),
            ({'op': 'replace', 'path': 'name', 'value': 'x'},
             'path must be a JSON pointer'),
            ({'op': 'replace', 'path': '/name'}, "'replace' needs a value"),
            ({'op': 'replace', 'path': '/name/first', 'value': 'x'},
             'has no parts to address'),
            ({'op': 'add', 'path': '/metadata/a/b', 'value': 'x'},
             'too deep'),
            ('replace', 'is not a JSON object'),
        ]
        for op, fragment in cases:
            resp = self.patch([op])
            self.assertError(400, resp, fragment)

    def test_patch_body_must_be_a_list(self):
        resp = self.patch({'op': 'replace', 'path': '/name', 'value': 'x'})
        self.assertError(400, resp, 'must be a list of operations')

    def test_missing_targets_are_409(self):
        for op in ({'op': 'remove', 'path': '/metadata/absent'},
                   {'op': 'replace', 'path': '/metadata/absent',
                    'value': 'v'},
                   {'op': 'remove', 'path': '/tags/5'},
                   {'op': 'add', 'path': '/default_envs/9', 'value': 'v'}):
            resp = self.patch([op])
            self.assertError(409, resp, 'cannot apply')

    def test_invalid_value_is_400_and_nothing_is_written(self):
        before = self.request('GET', self.art['self']).json
        resp = self.patch([
            {'op': 'replace', 'path': '/description', 'value': 'changed'},
            {'op': 'add', 'path': '/tags/-', 'value': 'y' * 256}])
        self.assertError(400, resp, "'tags'", 'at most 255 characters')
        self.assertEqual(before, self.request('GET', self.art['self']).json)

    def test_rename_onto_an_existing_name_and_version_is_409(self):
        self.create(name='other', version='1.0.0')
        resp = self.patch([{'op': 'replace', 'path': '/name',
                            'value': 'other'}])
        self.assertError(409, resp, "named 'other' with version 1.0.0")
        self.assertEqual('web',
                         self.request('GET', self.art['self']).json['name'])

    def test_empty_patch_changes_nothing(self):
        resp = self.patch([])
        self.assertEqual(200, resp.status_int)
        self.assertEqual(self.art['updated_at'], resp.json['updated_at'])

    def test_patch_of_missing_artifact_is_404(self):
        url = '/v2/artifacts/heat_templates/%s' % (
            '00000000-0000-4000-8000-000000000000')
        resp = self.patch([{'op': 'replace', 'path': '/name',
                            'value': 'x'}], url=url)
        self.assertEqual(404, resp.status_int)

    def test_malformed_patch_json_is_400(self):
        resp = self.request('PATCH', self.art['self'], raw=b'[{"op": ',
                            content_type=V21)
        self.assertError(400, resp, 'Malformed JSON')

    def test_type_field_dict_entries_can_be_patched(self):
        target = self.create('sample_artifacts', name='t')['id']
        art = self.create('sample_artifacts', name='s',
                          dict_str={'a': '1'})
        resp = self.patch([{'op': 'add', 'path': '/dict_str/b',
                            'value': '2'},
                           {'op': 'add', 'path': '/ref_dict/main',
                            'value': target},
                           {'op': 'replace', 'path': '/int1',
                            'value': 42}], url=art['self'])
        self.assertEqual(200, resp.status_int, resp.text)
        self.assertEqual({'a': '1', 'b': '2'}, resp.json['dict_str'])
        self.assertEqual({'main': target}, resp.json['ref_dict'])
        self.assertEqual(42, resp.json['int1'])
