"""Indexes that lists can walk in their order and seek in at a marker.

* The created_at and updated_at indexes end with ``id``, the last sort
  key of every list, so that a page is read from the index in order
  (and a marker is a seek), not sorted.
* ``/v2/artifacts/all`` orders every type by creation: an index on
  (created_at, id) without type_name.
* Type-field filters probe ga_properties by (name, value, artifact_id):
  one seek per candidate artifact, and no index that holds only the first
  two for a planner to prefer.
* Visibility and status have a handful of values each: an index on them
  only tempts a planner to read a large part of the table and sort it,
  where walking the order index and filtering stops after a page.

Revision ID: 0005_list_indexes
Revises: 0004_quotas
"""

from alembic import op

revision = '0005_list_indexes'
down_revision = '0004_quotas'

REPLACED = [
    ('ga_artifacts', 'ga_artifacts_created_idx',
     'ga_artifacts_type_created_idx', ['type_name', 'created_at', 'id']),
    ('ga_artifacts', 'ga_artifacts_updated_idx',
     'ga_artifacts_type_updated_idx', ['type_name', 'updated_at', 'id']),
    ('ga_properties', 'ga_properties_str_idx',
     'ga_properties_str_value_idx', ['name', 'str_value', 'artifact_id']),
    ('ga_properties', 'ga_properties_int_idx',
     'ga_properties_int_value_idx', ['name', 'int_value', 'artifact_id']),
    ('ga_properties', 'ga_properties_num_idx',
     'ga_properties_num_value_idx', ['name', 'num_value', 'artifact_id']),
]


def upgrade():
    for table, old, new, columns in REPLACED:
        op.create_index(new, table, columns)
        op.drop_index(old, table_name=table)
    op.create_index('ga_artifacts_created_idx', 'ga_artifacts',
                    ['created_at', 'id'])
    op.drop_index('ga_artifacts_visibility_idx', table_name='ga_artifacts')
    op.drop_index('ga_artifacts_status_idx', table_name='ga_artifacts')
