"""TOSCA templates."""

from glance.artifacts import fields as f
from glance.artifacts.types import base


class ToscaTemplate(base.ArtifactType):
    name = 'tosca_templates'
    display_name = 'TOSCA template'
    type_version = '1.0'
    description = 'A TOSCA service template or CSAR archive.'
    fields = {
        # A CSAR may carry the VM images of its VNFs.
        'template': f.Blob(max_size=16 * 2 ** 30, required_on_activate=True,
                           description='The template or CSAR archive.'),
        'template_format': f.String(
            allowed_values=['yaml', 'csar'], default='yaml', required=True,
            sortable=True, filterable=True,
            description='yaml for a single service template, csar for an '
                        'archive.'),
    }
