"""Loading types from entry points: broken plugins name themselves."""

import os
import sys
import tempfile
import textwrap

import stevedore
import testtools

from glance.artifacts import loader


class TestLoader(testtools.TestCase):

    def setUp(self):
        super(TestLoader, self).setUp()
        # A distribution of plugins on sys.path, found by importlib.metadata
        self.dir = tempfile.mkdtemp()
        info = os.path.join(self.dir, 'ga_test_plugins-1.0.dist-info')
        os.makedirs(info)
        with open(os.path.join(info, 'METADATA'), 'w') as f:
            f.write('Metadata-Version: 2.1\nName: ga-test-plugins\n'
                    'Version: 1.0\n')
        with open(os.path.join(info, 'entry_points.txt'), 'w') as f:
            f.write(textwrap.dedent('''\
                [glance.artifacts.types]
                missing_module = ga_no_such_module:Type
                raises = ga_test_raising:Type
                not_a_type = ga_test_good:helper
                misnamed = ga_test_good:Good
                badly_declared = ga_test_bad:Bad
                good = ga_test_good:Good
                '''))
        files = {
            'ga_test_raising.py': 'raise RuntimeError("boom at import")\n',
            'ga_test_good.py': textwrap.dedent('''\
                from glance.artifacts import fields as f
                from glance.artifacts.types import base
                def helper():
                    pass
                class Good(base.ArtifactType):
                    name = 'good'
                    display_name = 'Good'
                    fields = {'x': f.String()}
                '''),
            'ga_test_bad.py': textwrap.dedent('''\
                from glance.artifacts.types import base
                class Bad(base.ArtifactType):
                    name = 'badly_declared'
                    display_name = 'Bad'
                    fields = {'x': 'not a field'}
                '''),
        }
        for name, text in files.items():
            with open(os.path.join(self.dir, name), 'w') as f:
                f.write(text)
        sys.path.insert(0, self.dir)
        self.addCleanup(sys.path.remove, self.dir)
        # stevedore keeps the entry points of a group for the process's
        # life; forget them so that this sys.path is read.
        cache = stevedore.ExtensionManager.ENTRY_POINT_CACHE
        self.addCleanup(cache.pop, loader.NAMESPACE, None)
        cache.pop(loader.NAMESPACE, None)

    def test_builtin_types_load(self):
        types = loader.load_types(['heat_templates', 'tosca_templates'])
        self.assertEqual(['heat_templates', 'tosca_templates'],
                         sorted(types))

    def test_a_good_plugin_loads(self):
        self.assertEqual(['good'], list(loader.load_types(['good'])))

    def test_each_broken_plugin_is_named_in_the_error(self):
        cases = {
            'not_installed': 'is not installed',
            'missing_module': "No module named 'ga_no_such_module'",
            'raises': 'boom at import',
            'not_a_type': 'not a subclass',
            'misnamed': "differs from its entry point name 'misnamed'",
            'badly_declared': "field 'x' is not a",
        }
        for name, fragment in cases.items():
            e = self.assertRaises(loader.TypeLoadError, loader.load_types,
                                  ['good', name])
            self.assertIn("artifact type '%s'" % name, str(e))
            self.assertIn(fragment, str(e))
