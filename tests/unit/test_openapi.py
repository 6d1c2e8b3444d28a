"""The OpenAPI document is made from the route table and the types, and
the copy in doc/api is what the code makes."""

import jsonschema
import schemathesis
import testtools

from glance.api.v2.artifacts import openapi
from glance.api.v2.artifacts import router
from glance.artifacts import loader
from tools import openapi as openapi_tool

TYPES = loader.load_types(['heat_templates', 'sample_artifacts'])


class TestDocument(testtools.TestCase):

    def setUp(self):
        super(TestDocument, self).setUp()
        self.document = openapi.document(router.ROUTES, TYPES)

    def test_the_shipped_document_is_what_the_code_makes(self):
        with open(openapi_tool.PATH) as f:
            self.assertEqual(openapi_tool.render(), f.read(),
                             'doc/api/openapi.json is stale: run '
                             'tools/openapi.py')

    def test_every_route_and_method_is_described(self):
        described = {(path, method.upper())
                     for path, methods in self.document['paths'].items()
                     for method in methods}
        for route, methods in router.ROUTES:
            for method, function in methods.items():
                self.assertIn(function.__name__, openapi.OPERATIONS)
                self.assertTrue(any(
                    m == method and _matches(route, path)
                    for path, m in described), (route, method))

    def test_each_type_blob_and_action_has_its_own_paths(self):
        paths = self.document['paths']
        for path in ('/heat_templates/{artifact_id}/template',
                     '/heat_templates/{artifact_id}/nested_templates/{key}',
                     '/sample_artifacts/{artifact_id}/blob_dict/{key}',
                     '/sample_artifacts/{artifact_id}/actions/activate',
                     '/all', '/schemas/all/list', '/openapi.json'):
            self.assertIn(path, paths)
        self.assertNotIn('/all/{artifact_id}', paths)
        self.assertNotIn('/heat_templates/{artifact_id}/template/{key}',
                         paths)
        create = paths['/heat_templates']['post']
        self.assertEqual({'$ref': '#/components/schemas/heat_templates.New'},
                         create['requestBody']['content'][
                             'application/json']['schema'])
        self.assertIn('show_artifact.heat_templates.artifact_id',
                      create['responses']['201']['links'])

    def test_schemas_are_valid_json_schemas(self):
        for name, schema in self.document['components']['schemas'].items():
            jsonschema.Draft202012Validator.check_schema(schema)

    def test_schemathesis_loads_every_operation(self):
        schema = schemathesis.openapi.from_dict(self.document)
        operations = [op.ok() for op in schema.get_all_operations()]
        self.assertEqual(sum(len(m) for m in self.document['paths'].values()),
                         len(operations))

    def test_create_body_takes_the_writable_fields_only(self):
        new = self.document['components']['schemas']['sample_artifacts.New']
        self.assertFalse(new['additionalProperties'])
        self.assertEqual(['name'], new['required'])
        for name in ('id', 'owner', 'status', 'created_at', 'blob1'):
            self.assertNotIn(name, new['properties'])
        self.assertEqual(['array', 'null'], new['properties']['tags']['type'])


def _matches(route, path):
    """Whether ``path`` of the document is ``route`` written out."""
    parts, wanted = path.strip('/').split('/'), route.strip('/').split('/')
    if route in ('', '/'):
        return path == '/'
    return len(parts) == len(wanted) and all(
        w == p or w.startswith('{') for w, p in zip(wanted, parts))
