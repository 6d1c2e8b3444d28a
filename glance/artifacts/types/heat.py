"""Heat templates and environments."""

from glance.artifacts import fields as f
from glance.artifacts.types import base

MiB = 2 ** 20


class HeatEnvironment(base.ArtifactType):
    name = 'heat_environments'
    display_name = 'Heat environment'
    type_version = '1.0'
    description = 'A Heat environment file: parameters and resource ' \
                  'registry entries for a stack.'
    fields = {
        'environment': f.Blob(max_size=10 * MiB, required_on_activate=True,
                              description='The environment file (YAML).'),
    }


class HeatTemplate(base.ArtifactType):
    name = 'heat_templates'
    display_name = 'Heat template'
    type_version = '1.0'
    description = 'A Heat Orchestration Template with its nested ' \
                  'templates and the environments it can run with.'
    fields = {
        'template': f.Blob(max_size=10 * MiB, required_on_activate=True,
                           description='The template (HOT, YAML).'),
        'nested_templates': f.BlobDict(
            max_size=10 * MiB, max_count=255,
            description='Templates the main one includes, by file name.'),
        'environments': f.ReferenceDict(
            allowed_types=['heat_environments'], mutable=True,
            description='Environments to use with the template, by name.'),
        'default_envs': f.List(f.String(min_length=1), mutable=True,
                               description='Names of the environments '
                                           'to apply by default.'),
    }
