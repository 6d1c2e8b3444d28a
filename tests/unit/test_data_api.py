"""The data API is one interface of plain functions."""

import inspect

from oslo_config import fixture as config_fixture
import testtools

from glance.db import artifacts as artifacts_db
from glance.db.artifacts import images
from glance.db.artifacts import interface
from glance.db.artifacts import sqlalchemy_api


class TestInterface(testtools.TestCase):

    def test_configured_implementation_is_the_sqlalchemy_module(self):
        self.useFixture(config_fixture.Config()).config(
            group='artifacts', enabled_types=['heat_templates'])
        self.assertIs(sqlalchemy_api, artifacts_db.get_api())

    def test_with_the_images_type_the_api_also_reads_glance_images(self):
        self.useFixture(config_fixture.Config()).config(
            group='artifacts', enabled_types=['heat_templates', 'images'])
        api = artifacts_db.get_api()
        self.assertIsInstance(api, images.WithImages)
        self.assertIs(sqlalchemy_api, api.api)
        self.assertIs(sqlalchemy_api.artifact_create, api.artifact_create)

    def test_sqlalchemy_api_provides_every_function_context_first(self):
        for name in interface.FUNCTIONS:
            function = getattr(sqlalchemy_api, name)
            self.assertTrue(inspect.isfunction(function), name)
            self.assertEqual('context', list(
                inspect.signature(function).parameters)[0], name)

    def test_catalog_calls_only_interface_functions(self):
        import glance.artifacts.catalog as catalog
        source = inspect.getsource(catalog)
        called = set(__import__('re').findall(r'data_api\(\)\.(\w+)',
                                              source))
        self.assertTrue(called)
        self.assertLessEqual(called, set(interface.FUNCTIONS))


class TestRegistryWire(testtools.TestCase):
    """The registry's wire format carries any JSON value unchanged."""

    def test_json_values_round_trip_with_dollar_keys(self):
        from glance.db.artifacts.registry import rpc
        value = {'$datetime': '2020-01-01T00:00:00', '$$datetime': 1,
                 '$': ['$datetime', {'$datetime': {'$x': None}}],
                 'x': {'$datetime': 'not a date'}, '': 1.5e300,
                 'big': 2 ** 70, 'text': 'a\ud800\x00'}
        self.assertEqual(value, rpc.loads(rpc.dumps(value)))

    def test_datetimes_round_trip_including_early_years(self):
        import datetime
        from glance.db.artifacts.registry import rpc
        value = {'at': [datetime.datetime(212, 2, 14, 1, 2, 3, 4),
                        datetime.datetime(9999, 12, 31, 23, 59, 59, 999999)]}
        self.assertEqual(value, rpc.loads(rpc.dumps(value)))

    def test_unknown_wire_keys_are_refused(self):
        from glance.db.artifacts.registry import rpc
        self.assertRaises(ValueError, rpc.loads, b'{"$other": 1}')

    def test_errors_travel_as_the_nearest_class_the_wire_knows(self):
        from glance.artifacts import exception
        from glance.db.artifacts.registry import rpc
        self.assertEqual({'class': 'Forbidden', 'message': 'no'},
                         rpc.error_to_wire(exception.ReadOnly('no')))
        self.assertEqual('TooLarge', rpc.error_to_wire(
            exception.StorageFull('full'))['class'])
        self.assertIs(exception.Invalid, rpc.ERRORS['Invalid'])


class TestRegistryChecks(testtools.TestCase):

    def test_the_registry_checks_every_function_or_keeps_it_to_housekeeping(
            self):
        from glance.artifacts import guard
        self.assertEqual(set(interface.FUNCTIONS), set(guard._CHECKS) | {
            'artifact_reaches', 'blob_data_used', 'pending_delete_list',
            'pending_delete_remove', 'blob_copy_step'})
        self.assertLessEqual(guard.HOUSEKEEPING, set(interface.FUNCTIONS))
