"""Options and policy rules reach the oslo tools through entry points."""

import os
import subprocess

import testtools

from tests import base


def run(tool, *args):
    result = subprocess.run([os.path.join(base.BIN, tool)] + list(args),
                            capture_output=True, text=True)
    return result


class TestGenerators(testtools.TestCase):

    def test_config_generator_writes_the_artifacts_section(self):
        result = run('oslo-config-generator', '--namespace',
                     'glance.artifacts')
        self.assertEqual(0, result.returncode, result.stderr)
        out = result.stdout
        self.assertIn('[artifacts]', out)
        for option in ('#enabled_types = heat_templates,heat_environments,'
                       'murano_packages,tosca_templates',
                       '#limit_param_default = 25',
                       '#api_limit_max = 1000'):
            self.assertIn(option, out)
        self.assertIn('# Artifact types served at /v2/artifacts/{type}.', out)

    def test_policy_sample_lists_every_rule_with_its_default(self):
        result = run('oslopolicy-sample-generator', '--namespace',
                     'glance.artifacts')
        self.assertEqual(0, result.returncode, result.stderr)
        for rule in ('artifacts:list_types', 'artifacts:create_artifact',
                     'artifacts:get_artifact', 'artifacts:list_artifacts',
                     'artifacts:modify_artifact',
                     'artifacts:delete_artifact',
                     'artifacts:publicize_artifact',
                     'artifacts:communitize_artifact'):
            self.assertIn('#"%s":' % rule, result.stdout)
        self.assertIn('#"artifacts:publicize_artifact": '
                      '"rule:context_is_admin"', result.stdout)
