"""The documentation builds without a warning, and its generated pages
hold what the code and the OpenAPI document define."""

import html as html_lib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import testtools

from glance.artifacts import config
from glance.artifacts import policies
from tests import base

SOURCE = os.path.join(base.ROOT, 'doc', 'source')
OPENAPI = os.path.join(base.ROOT, 'doc', 'api', 'openapi.json')


class TestDocs(testtools.TestCase):
    """One build of the whole site, shared by the tests of this class."""

    @classmethod
    def setUpClass(cls):
        super(TestDocs, cls).setUpClass()
        cls.out = tempfile.mkdtemp(prefix='ga-docs-')
        cls.build = subprocess.run(
            [sys.executable, '-m', 'sphinx', '-W', '--keep-going', '-q',
             '-b', 'html', SOURCE, cls.out],
            cwd=base.ROOT, capture_output=True, text=True, timeout=300)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.out, ignore_errors=True)
        super(TestDocs, cls).tearDownClass()

    def page(self, name):
        with open(os.path.join(self.out, name), encoding='utf-8') as f:
            return f.read()

    def test_sphinx_builds_the_site_without_warnings(self):
        output = self.build.stdout + self.build.stderr
        self.assertEqual(0, self.build.returncode, output)
        # oslo's directives let their own warnings through -W: none either.
        self.assertNotIn('WARNING', output)
        self.assertNotIn('ERROR', output)

    def test_the_configuration_reference_has_every_option(self):
        html = self.page('reference/config.html')
        self.assertIn('id="artifacts.upload_stale_after"', html)
        groups = dict(config.list_opts())
        self.assertIn(config.GROUP, groups)
        for group, opts in groups.items():
            for opt in opts:
                self.assertIn('id="%s.%s"' % (group, opt.dest), html)

    def test_the_policy_reference_has_every_rule_with_its_default(self):
        html = self.page('reference/policy.html')
        self.assertIn('<span class="pre">artifacts:publicize_artifact'
                      '</span>', html)
        rules = policies.list_rules()
        self.assertGreater(len(rules), 10)
        for rule in rules:
            self.assertIn('<span class="pre">%s</span>' % rule.name, html)
        self.assertIn('<span class="pre">rule:context_is_admin</span>',
                      html)

    def test_the_api_reference_has_every_operation_of_the_document(self):
        html = self.page('reference/api.html')
        self.assertIn('<span class="pre">/v2/artifacts/heat_templates/'
                      '{artifact_id}/actions/activate</span>', html)
        with open(OPENAPI) as f:
            document = json.load(f)
        prefix = document['servers'][0]['url']
        self.assertGreater(len(document['paths']), 10)
        for path, item in document['paths'].items():
            self.assertIn('<span class="pre">%s%s</span>' % (prefix, path),
                          html)
            for operation in item.values():
                self.assertIn(html_lib.escape(operation['summary'],
                                              quote=False), html)
        for name in document['components']['schemas']:
            self.assertIn('>%s<' % name, html)
