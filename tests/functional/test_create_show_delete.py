"""POST, GET and DELETE of one artifact."""

import uuid

from glance.db.artifacts import models
from tests.functional import base


class TestCreate(base.FunctionalTest):

    def test_create_returns_201_location_and_the_artifact(self):
        resp = self.request('POST', '/v2/artifacts/heat_templates',
                            body={'name': 'web', 'version': '1.2.0',
                                  'description': 'Web tier',
                                  'default_envs': ['prod'],
                                  'tags': ['b', 'a'],
                                  'metadata': {'team': 'ops'}})
        self.assertEqual(201, resp.status_int, resp.text)
        art = resp.json
        self.assertEqual('/v2/artifacts/heat_templates/%s' % art['id'],
                         art['self'])
        self.assertTrue(resp.headers['Location'].endswith(art['self']))
        self.assertEqual(uuid.UUID(art['id']).hex,
                         art['id'].replace('-', ''))
        expected = {
            'name': 'web', 'version': '1.2.0', 'description': 'Web tier',
            'type_name': 'heat_templates', 'type_version': '1.1',
            'owner': None, 'visibility': 'private', 'status': 'drafted',
            'protected': False, 'tags': ['a', 'b'],
            'metadata': {'team': 'ops'}, 'activated_at': None,
            'template': None, 'nested_templates': {}, 'environments': {},
            'default_envs': ['prod'],
            'schema': '/v2/artifacts/schemas/heat_templates'}
        for key, value in expected.items():
            self.assertEqual(value, art[key], key)
        self.assertRegex(art['created_at'],
                         r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')
        self.assertEqual(art['created_at'], art['updated_at'])
        shown = self.request('GET', art['self'])
        self.assertEqual(200, shown.status_int)
        self.assertEqual(art, shown.json)

    def test_version_defaults_to_0_0_0_and_type_defaults_apply(self):
        art = self.create('murano_packages', name='pkg')
        self.assertEqual('0.0.0', art['version'])
        self.assertEqual('Application', art['package_type'])
        self.assertEqual([], art['dependencies'])

    def test_unicode_values_are_kept_exactly(self):
        art = self.create(name='шаблон-模板-🚀', description='ünïcode ✓',
                          metadata={'ключ': 'значение'})
        shown = self.request('GET', art['self']).json
        self.assertEqual('шаблон-模板-🚀', shown['name'])
        self.assertEqual({'ключ': 'значение'}, shown['metadata'])

    def test_every_field_kind_round_trips(self):
        ref = self.create('sample_artifacts', name='target')['id']
        values = {
            'name': 'all', 'str1': 'x', 'str_mutable': 'm',
            'str_choice': 'b', 'str_validated': 'nospace',
            'text1': 't' * 1000, 'int1': -(2 ** 63), 'int_bounded': 100,
            'int_even': 4, 'num1': 1.5, 'bool1': True,
            'date1': '2024-02-03T04:05:06+02:00', 'ver1': '2.0.0-rc.1+b7',
            'list_str': ['a', 'b'], 'list_int': [3, 1, 2],
            'dict_str': {'k': 'v'}, 'dict_int': {'n': 7},
            'ref1': ref, 'ref_list': [ref], 'ref_dict': {'main': ref},
        }
        art = self.create('sample_artifacts', **values)
        values['date1'] = '2024-02-03T02:05:06.000000Z'
        shown = self.request('GET', art['self']).json
        for key, value in values.items():
            self.assertEqual(value, shown[key], key)
        self.assertIsNone(shown['blob1'])
        self.assertEqual({}, shown['blob_dict'])

    def test_read_only_fields_are_403(self):
        for field, value in [('id', str(uuid.uuid4())),
                             ('status', 'active'), ('owner', 'someone'),
                             ('created_at', '2020-01-01T00:00:00Z'),
                             ('type_name', 'x'), ('activated_at', None)]:
            resp = self.request('POST', '/v2/artifacts/heat_templates',
                                body={'name': 'n', field: value})
            self.assertError(403, resp,
                             "Attribute '%s' is read-only." % field)
        self.assertEqual(0, self.count_rows(models.artifacts))

    def test_blob_fields_cannot_be_set_in_the_body(self):
        resp = self.request('POST', '/v2/artifacts/heat_templates',
                            body={'name': 'n', 'template': {'url': 'x'}})
        self.assertError(403, resp, "'template' is a blob",
                         'upload its data with PUT')

    def test_unknown_field_is_400_listing_the_fields(self):
        resp = self.request('POST', '/v2/artifacts/heat_templates',
                            body={'name': 'n', 'colour': 'red'})
        self.assertError(400, resp, "'colour' is not a field of "
                         'heat_templates', 'default_envs')

    def test_invalid_values_are_400_saying_what_is_wrong(self):
        cases = [
            ({'name': ''}, "'name': must have at least 1 characters"),
            ({'name': 'x' * 256}, 'must have at most 255 characters'),
            ({'name': 5}, 'expected a string, got an integer'),
            ({'name': None}, "'name': a value is required"),
            ({}, "'name': a value is required"),
            ({'name': 'n', 'version': '1.0'}, 'not a Semantic Version'),
            ({'name': 'n', 'version': '01.0.0'}, 'not a Semantic Version'),
            ({'name': 'n', 'version': '1.0.0-' + 'a' * 200},
             'at most 128 characters'),
            ({'name': 'n', 'version': 1}, 'must be a string'),
            ({'name': 'n', 'visibility': 'everyone'},
             "'everyone' is not one of the allowed values"),
            ({'name': 'n', 'protected': 'yes'}, 'expected true or false'),
            ({'name': 'n', 'tags': 'a'}, 'expected a list'),
            ({'name': 'n', 'tags': ['']}, 'item 0'),
            ({'name': 'n', 'tags': ['t'] * 129}, 'at most 128 items'),
            ({'name': 'n', 'metadata': {'k': 1}}, "key 'k'"),
            ({'name': 'n', 'metadata': []}, 'expected an object'),
            ({'name': 'n', 'metadata': {'a/b': 'v'}}, "must not contain '/'"),
            ({'name': 'n\x00'}, 'NUL'),
            ({'name': 'n', 'default_envs': [1]}, 'item 0'),
            ({'name': 'n', 'environments': {'e': 'not-a-uuid'}},
             'is not an artifact id'),
            ({'name': 'n', 'description': 'd' * 4097},
             'at most 4096 characters'),
        ]
        for body, fragment in cases:
            resp = self.request('POST', '/v2/artifacts/heat_templates',
                                body=body)
            self.assertError(400, resp, fragment)
        self.assertEqual(0, self.count_rows(models.artifacts))

    def test_type_field_rules_are_400(self):
        cases = [
            ({'str_choice': 'z'}, 'not one of the allowed values'),
            ({'str_validated': 'a b'}, 'must not contain spaces'),
            ({'int_bounded': 101}, 'must be between 0 and 100'),
            ({'int_even': 3}, 'must be even'),
            ({'int1': 2 ** 63}, 'must be between'),
            ({'int1': 1.5}, 'expected an integer, got a number'),
            ({'int1': True}, 'expected an integer, got a boolean'),
            ({'num1': 1e6}, 'must be at most 1000.0'),
            ({'date1': 'yesterday'}, 'not an ISO 8601'),
            ({'ver1': 'v1'}, 'not a Semantic Version'),
            ({'list_str': ['a'] * 6}, 'at most 5 items'),
            ({'list_str': ['x' * 21]}, 'at most 20 characters'),
            ({'dict_int': {'a': 'b'}}, "key 'a': expected an integer"),
            ({'dict_str': {'': 'v'}}, 'keys must have 1 to 255'),
            ({'str_required': None}, 'a value is required'),
            ({'ref_list': ['x']}, 'is not an artifact id'),
        ]
        for body, fragment in cases:
            body['name'] = 'n'
            resp = self.request('POST', '/v2/artifacts/sample_artifacts',
                                body=body)
            self.assertError(400, resp, fragment)

    def test_malformed_bodies_are_400(self):
        for raw, fragment in [(b'{"name": ', 'Malformed JSON'),
                              (b'', 'needs a JSON body'),
                              (b'"just a string"', 'Unexpected body type'),
                              (b'[1, 2]', 'must be a JSON object'),
                              (b'\xff\xfe', 'not UTF-8'),
                              (b'{"name": NaN}', 'expected a string'),
                              (b'{"name": "n", "num1": Infinity}',
                               'is not a field')]:
            resp = self.request('POST', '/v2/artifacts/heat_templates',
                                raw=raw)
            self.assertEqual(400, resp.status_int, (raw, resp.text))
            self.assertIn(fragment, resp.json['message'], raw)

    def test_deeply_nested_body_is_400(self):
        resp = self.request('POST', '/v2/artifacts/heat_templates',
                            raw=b'[' * 100000)
        self.assertError(400, resp, 'nests too deeply')

    def test_body_over_one_mebibyte_is_413(self):
        raw = b'{"name": "' + b'x' * (1024 * 1024) + b'"}'
        resp = self.request('POST', '/v2/artifacts/heat_templates',
                            raw=raw)
        self.assertError(413, resp, 'at most 1048576 bytes')

    def test_same_name_and_version_in_one_project_is_409(self):
        self.create(name='web', version='1.0.0')
        resp = self.request('POST', '/v2/artifacts/heat_templates',
                            body={'name': 'web', 'version': '1.0.0'})
        self.assertError(409, resp, "named 'web' with version 1.0.0 "
                         'already exists')
        self.assertEqual(1, self.count_rows(models.artifacts))

    def test_same_name_and_version_is_fine_in_another_type_or_project(self):
        self.create(name='web', version='1.0.0')
        self.create('tosca_templates', name='web', version='1.0.0')
        for project in ('p1', 'p2'):
            resp = self.request('POST', '/v2/artifacts/heat_templates',
                                body={'name': 'web', 'version': '1.0.0'},
                                identity=base.base.identity(project))
            self.assertEqual(201, resp.status_int, resp.text)
            self.assertEqual(project, resp.json['owner'])

    def test_unknown_type_is_404(self):
        resp = self.request('POST', '/v2/artifacts/helm_charts',
                            body={'name': 'n'})
        self.assertError(404, resp, "Unknown artifact type 'helm_charts'")


class TestShow(base.FunctionalTest):

    def test_missing_artifact_is_404(self):
        resp = self.request('GET', '/v2/artifacts/heat_templates/%s'
                            % uuid.uuid4())
        self.assertError(404, resp, 'no artifact with id')

    def test_non_uuid_id_is_404_saying_ids_are_uuids(self):
        for bad in ('abc', '..', '%2e%2e', "1' OR '1'='1"):
            resp = self.request('GET', '/v2/artifacts/heat_templates/%s'
                                % bad)
            self.assertEqual(404, resp.status_int, bad)

    def test_artifact_is_not_readable_through_another_types_url(self):
        art = self.create('heat_templates')
        for other in ('tosca_templates', 'heat_environments'):
            resp = self.request('GET', '/v2/artifacts/%s/%s'
                                % (other, art['id']))
            self.assertError(404, resp, 'no artifact with id')

    def test_unsupported_method_is_405_with_allow(self):
        art = self.create()
        resp = self.request('POST', art['self'], body={})
        self.assertEqual(405, resp.status_int)
        self.assertEqual('DELETE, GET, PATCH', resp.headers['Allow'])


class TestDelete(base.FunctionalTest):

    def test_delete_is_204_and_removes_everything(self):
        art = self.create(tags=['t'], metadata={'k': 'v'},
                          default_envs=['e'])
        resp = self.request('DELETE', art['self'])
        self.assertEqual(204, resp.status_int)
        self.assertEqual(b'', resp.body)
        self.assertEqual(404, self.request('GET', art['self']).status_int)
        for table in (models.artifacts, models.tags,
                      models.artifact_metadata, models.properties):
            self.assertEqual(0, self.count_rows(table), table.name)

    def test_delete_of_protected_artifact_is_403_and_keeps_it(self):
        art = self.create(protected=True)
        resp = self.request('DELETE', art['self'])
        self.assertError(403, resp, 'is protected')
        self.assertEqual(200, self.request('GET', art['self']).status_int)

    def test_delete_through_another_types_url_is_404_and_keeps_it(self):
        art = self.create()
        resp = self.request('DELETE', '/v2/artifacts/tosca_templates/%s'
                            % art['id'])
        self.assertEqual(404, resp.status_int)
        self.assertEqual(200, self.request('GET', art['self']).status_int)

    def test_delete_twice_is_404(self):
        art = self.create()
        self.assertEqual(204, self.request('DELETE', art['self']).status_int)
        self.assertEqual(404, self.request('DELETE', art['self']).status_int)
