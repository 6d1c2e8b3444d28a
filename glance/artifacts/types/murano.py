"""Murano application packages."""

from glance.artifacts import fields as f
from glance.artifacts.types import base


class MuranoPackage(base.ArtifactType):
    name = 'murano_packages'
    display_name = 'Murano package'
    type_version = '1.0'
    description = 'A Murano application or library package (a zip ' \
                  'archive with its manifest and classes).'
    fields = {
        'package': f.Blob(max_size=2 ** 30, required_on_activate=True,
                          description='The package archive.'),
        'package_type': f.String(allowed_values=['Application', 'Library'],
                                 default='Application', required=True,
                                 sortable=True, filterable=True),
        'display_name': f.String(min_length=1, max_length=255,
                                 mutable=True, sortable=True,
                                 filterable=True),
        'categories': f.List(f.String(min_length=1), mutable=True,
                             filterable=True),
        'class_definitions': f.List(f.String(min_length=1),
                                    filterable=True,
                                    description='Fully qualified names of '
                                                'the classes the package '
                                                'defines.'),
        'keywords': f.List(f.String(min_length=1), mutable=True,
                           filterable=True),
        'dependencies': f.ReferenceList(allowed_types=['murano_packages'],
                                        description='Packages this one '
                                                    'needs.'),
    }
