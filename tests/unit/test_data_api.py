"""The data API is one interface of plain functions."""

import inspect

import testtools

from glance.db import artifacts as artifacts_db
from glance.db.artifacts import interface
from glance.db.artifacts import sqlalchemy_api


class TestInterface(testtools.TestCase):

    def test_configured_implementation_is_the_sqlalchemy_module(self):
        self.assertIs(sqlalchemy_api, artifacts_db.get_api())

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
