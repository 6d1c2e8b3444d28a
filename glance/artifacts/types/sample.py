"""A type for tests and demonstrations: every field kind and flag.

Not enabled by default; add ``sample_artifacts`` to
``[artifacts] enabled_types`` to serve it.
"""

from glance.artifacts import fields as f
from glance.artifacts.types import base


def _even(value):
    if value % 2:
        raise ValueError('must be even, got %d' % value)


def _no_spaces(value):
    if ' ' in value:
        raise ValueError('must not contain spaces')


class SampleArtifact(base.ArtifactType):
    name = 'sample_artifacts'
    display_name = 'Sample artifact'
    type_version = '1.0'
    description = 'Uses every field kind and flag; for tests.'
    fields = {
        'str1': f.String(sortable=True, filterable=True, max_length=64),
        'str_required': f.String(required=True, default='x',
                                 min_length=1, filterable=True),
        'str_mutable': f.String(mutable=True, filterable=True),
        'str_choice': f.String(allowed_values=['a', 'b', 'c'],
                               filterable=True, sortable=True),
        'str_validated': f.String(validators=[_no_spaces]),
        'str_on_activate': f.String(required_on_activate=True),
        'text1': f.Text(max_length=1000),
        'int1': f.Integer(sortable=True, filterable=True),
        'int_bounded': f.Integer(min_value=0, max_value=100, default=5,
                                 filterable=True, sortable=True),
        'int_even': f.Integer(validators=[_even]),
        'num1': f.Number(sortable=True, filterable=True,
                         min_value=-1000.0, max_value=1000.0),
        'bool1': f.Boolean(filterable=True, sortable=True),
        'date1': f.DateTime(sortable=True, filterable=True),
        'ver1': f.SemVer(sortable=True, filterable=True),
        'list_str': f.List(f.String(max_length=20), max_count=5,
                           filterable=True),
        'list_int': f.List(f.Integer(), min_count=0, max_count=10,
                           filterable=True, mutable=True),
        'dict_str': f.Dict(f.String(), max_count=5, filterable=True),
        'dict_int': f.Dict(f.Integer(), filterable=True),
        'ref1': f.Reference(allowed_types=['sample_artifacts'],
                            filterable=True),
        'ref_list': f.ReferenceList(allowed_types=['sample_artifacts']),
        'ref_dict': f.ReferenceDict(),
        'ref_v1': f.Reference(allowed_types=['sample_artifacts'],
                              versions='>=1.0.0,<2.0.0', mutable=True),
        'blob1': f.Blob(max_size=2 ** 20, required_on_activate=True),
        'blob_dict': f.BlobDict(max_size=2 ** 20, max_count=10),
    }
