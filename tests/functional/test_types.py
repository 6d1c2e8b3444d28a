"""GET /v2/artifacts and the schemas of the types."""

from tests.functional import base


class TestTypeList(base.FunctionalTest):

    def test_lists_enabled_types_with_links(self):
        resp = self.request('GET', '/v2/artifacts')
        self.assertEqual(200, resp.status_int)
        self.assertEqual('application/json', resp.content_type)
        names = [t['name'] for t in resp.json['artifact_types']]
        self.assertEqual(['heat_environments', 'heat_templates', 'images',
                          'murano_packages', 'sample_artifacts',
                          'tosca_templates'], names)
        heat = resp.json['artifact_types'][1]
        self.assertEqual('Heat template', heat['display_name'])
        self.assertEqual('1.1', heat['type_version'])
        self.assertIn('Heat Orchestration Template', heat['description'])
        self.assertEqual(
            [{'rel': 'self', 'href': '/v2/artifacts/heat_templates'},
             {'rel': 'describedby',
              'href': '/v2/artifacts/schemas/heat_templates'},
             {'rel': 'list',
              'href': '/v2/artifacts/schemas/heat_templates/list'}],
            heat['links'])

    def test_trailing_slash_lists_the_same_types(self):
        self.assertEqual(self.request('GET', '/v2/artifacts').json,
                         self.request('GET', '/v2/artifacts/').json)

    def test_other_methods_on_type_list_are_405_with_allow(self):
        resp = self.request('DELETE', '/v2/artifacts')
        self.assertError(405, resp, 'DELETE is not allowed')
        self.assertEqual('GET', resp.headers['Allow'])


class TestSchemas(base.FunctionalTest):

    def test_artifact_schema_follows_the_declaration(self):
        resp = self.request('GET', '/v2/artifacts/schemas/murano_packages')
        self.assertEqual(200, resp.status_int)
        schema = resp.json
        self.assertEqual('murano_packages', schema['name'])
        self.assertEqual('object', schema['type'])
        self.assertFalse(schema['additionalProperties'])
        props = schema['properties']
        self.assertEqual(['Application', 'Library'],
                         props['package_type']['enum'])
        self.assertEqual('array', props['dependencies']['type'])
        self.assertEqual('uuid', props['dependencies']['items']['format'])
        self.assertEqual(['murano_packages'],
                         props['dependencies']['items']['x-allowed-types'])
        self.assertTrue(props['package']['readOnly'])
        self.assertTrue(props['status']['readOnly'])
        self.assertEqual('private', props['visibility']['default'])
        self.assertEqual(255, props['name']['maxLength'])
        self.assertIn('required_on_activate',
                      props['package']['x-glance-artifacts'])
        self.assertIn('name', schema['required'])

    def test_every_field_of_a_type_is_in_its_schema(self):
        schema = self.request(
            'GET', '/v2/artifacts/schemas/sample_artifacts').json
        created = self.create('sample_artifacts')
        self.assertEqual(sorted(created), sorted(schema['properties']))

    def test_list_schema_wraps_the_artifact_schema(self):
        resp = self.request('GET',
                            '/v2/artifacts/schemas/heat_templates/list')
        self.assertEqual(200, resp.status_int)
        props = resp.json['properties']
        self.assertEqual(
            self.request('GET',
                         '/v2/artifacts/schemas/heat_templates').json,
            props['artifacts']['items'])
        self.assertEqual({'artifacts', 'first', 'next', 'schema'},
                         set(props))

    def test_schema_of_unknown_type_is_404_naming_the_enabled_types(self):
        resp = self.request('GET', '/v2/artifacts/schemas/nonesuch')
        self.assertError(404, resp, "Unknown artifact type 'nonesuch'",
                         'heat_templates')


class TestOpenAPI(base.FunctionalTest):

    def test_the_api_serves_its_openapi_document_for_the_enabled_types(self):
        resp = self.request('GET', '/v2/artifacts/openapi.json')
        self.assertEqual(200, resp.status_int)
        document = resp.json
        self.assertEqual('3.1.0', document['openapi'])
        self.assertEqual([{'url': '/v2/artifacts'}], document['servers'])
        types = {t['name'] for t in self.request(
            'GET', '/v2/artifacts').json['artifact_types']}
        self.assertEqual(types | {'all'}, {
            path.split('/')[1] for path in document['paths']
            if path.count('/') == 1 and
            path not in ('/', '/openapi.json', '/usage')})
        self.assertIn('sample_artifacts.New',
                      document['components']['schemas'])
