"""Policy rules of glance-artifacts, with their defaults in code.

The rules follow Glance's secure-RBAC defaults (reader, member and admin
personas, scoped to projects). policy.py registers them on an enforcer of
Glance's own class, so they are read from, and overridden in, Glance's
policy file; ``oslopolicy-sample-generator --namespace glance.artifacts``
prints them. This module imports nothing of Glance, so that the oslo tools
can load it.
"""

from oslo_policy import policy as oslo_policy

ADMIN = 'rule:context_is_admin'
PROJECT_MEMBER = 'role:member and project_id:%(project_id)s'
MEMBER = 'role:member'
READER = 'role:reader'

BASE = '/v2/artifacts'

rules = [
    oslo_policy.DocumentedRuleDefault(
        name='artifacts:list_types', check_str='',
        scope_types=['project'],
        description='List the enabled artifact types and read their '
                    'schemas.',
        operations=[{'path': BASE, 'method': 'GET'},
                    {'path': BASE + '/schemas/{type}', 'method': 'GET'},
                    {'path': BASE + '/schemas/{type}/list',
                     'method': 'GET'}]),
    oslo_policy.DocumentedRuleDefault(
        name='artifacts:get_usage',
        check_str='%s or %s' % (ADMIN, READER),
        scope_types=['project'],
        description='Show the quota usage and limits of the caller\'s '
                    'project.',
        operations=[{'path': BASE + '/usage', 'method': 'GET'}]),
    oslo_policy.DocumentedRuleDefault(
        name='artifacts:create_artifact',
        check_str='%s or (%s and project_id:%%(owner)s)'
                  % (ADMIN, MEMBER),
        scope_types=['project'],
        description='Create an artifact owned by the caller\'s project.',
        operations=[{'path': BASE + '/{type}', 'method': 'POST'}]),
    oslo_policy.DocumentedRuleDefault(
        name='artifacts:get_artifact',
        check_str='%s or %s' % (ADMIN, READER),
        scope_types=['project'],
        description='Show an artifact the caller can see (visibility is '
                    'decided as for images).',
        operations=[{'path': BASE + '/{type}/{id}', 'method': 'GET'}]),
    oslo_policy.DocumentedRuleDefault(
        name='artifacts:list_artifacts',
        check_str='%s or %s' % (ADMIN, READER),
        scope_types=['project'],
        description='List the artifacts the caller can see.',
        operations=[{'path': BASE + '/{type}', 'method': 'GET'}]),
    oslo_policy.DocumentedRuleDefault(
        name='artifacts:modify_artifact',
        check_str='%s or (%s)' % (ADMIN, PROJECT_MEMBER),
        scope_types=['project'],
        description='Change an artifact of the caller\'s project.',
        operations=[{'path': BASE + '/{type}/{id}', 'method': 'PATCH'}]),
    oslo_policy.DocumentedRuleDefault(
        name='artifacts:delete_artifact',
        check_str='%s or (%s)' % (ADMIN, PROJECT_MEMBER),
        scope_types=['project'],
        description='Delete an artifact of the caller\'s project.',
        operations=[{'path': BASE + '/{type}/{id}', 'method': 'DELETE'}]),
    oslo_policy.DocumentedRuleDefault(
        name='artifacts:upload_blob',
        check_str='%s or (%s)' % (ADMIN, PROJECT_MEMBER),
        scope_types=['project'],
        description='Upload the data of a blob of an artifact of the '
                    'caller\'s project.',
        operations=[{'path': BASE + '/{type}/{id}/{blob}', 'method': 'PUT'},
                    {'path': BASE + '/{type}/{id}/{blob}/{key}',
                     'method': 'PUT'}]),
    oslo_policy.DocumentedRuleDefault(
        name='artifacts:download_blob',
        check_str='%s or %s' % (ADMIN, MEMBER),
        scope_types=['project'],
        description='Download blob data of an artifact the caller can see '
                    '(members, as images\' download_image).',
        operations=[{'path': BASE + '/{type}/{id}/{blob}', 'method': 'GET'},
                    {'path': BASE + '/{type}/{id}/{blob}/{key}',
                     'method': 'GET'}]),
    oslo_policy.DocumentedRuleDefault(
        name='artifacts:select_backend',
        check_str='%s or (%s)' % (ADMIN, PROJECT_MEMBER),
        scope_types=['project'],
        description='Choose the store backend of an upload with the '
                    'X-Openstack-Artifact-Store header.',
        operations=[{'path': BASE + '/{type}/{id}/{blob}',
                     'method': 'PUT'}]),
    oslo_policy.DocumentedRuleDefault(
        name='artifacts:copy_blob',
        check_str=ADMIN,
        scope_types=['project'],
        description='Copy the data of a blob to more stores (the '
                    'copy-blob import method; as images\' copy_image).',
        operations=[{'path': BASE + '/{type}/{id}/{blob}/import',
                     'method': 'POST'},
                    {'path': BASE + '/{type}/{id}/{blob}/{key}/import',
                     'method': 'POST'}]),
    oslo_policy.DocumentedRuleDefault(
        name='artifacts:delete_blob_location',
        check_str=ADMIN,
        scope_types=['project'],
        description='Delete the copy of a blob\'s data in one store (as '
                    'images\' delete_image_location).',
        operations=[{'path': BASE + '/stores/{store}/{type}/{id}/{blob}',
                     'method': 'DELETE'},
                    {'path': BASE + '/stores/{store}/{type}/{id}/{blob}/'
                     '{key}', 'method': 'DELETE'}]),
    oslo_policy.DocumentedRuleDefault(
        name='artifacts:activate_artifact',
        check_str='%s or (%s)' % (ADMIN, PROJECT_MEMBER),
        scope_types=['project'],
        description='Activate a drafted artifact of the caller\'s project.',
        operations=[{'path': BASE + '/{type}/{id}/actions/activate',
                     'method': 'POST'}]),
    oslo_policy.DocumentedRuleDefault(
        name='artifacts:deactivate_artifact',
        check_str='%s or (%s)' % (ADMIN, PROJECT_MEMBER),
        scope_types=['project'],
        description='Deactivate an active artifact (as deactivate for '
                    'images).',
        operations=[{'path': BASE + '/{type}/{id}/actions/deactivate',
                     'method': 'POST'}]),
    oslo_policy.DocumentedRuleDefault(
        name='artifacts:reactivate_artifact',
        check_str='%s or (%s)' % (ADMIN, PROJECT_MEMBER),
        scope_types=['project'],
        description='Reactivate a deactivated artifact.',
        operations=[{'path': BASE + '/{type}/{id}/actions/reactivate',
                     'method': 'POST'}]),
    oslo_policy.DocumentedRuleDefault(
        name='artifacts:add_member',
        check_str='%s or (%s)' % (ADMIN, PROJECT_MEMBER),
        scope_types=['project'],
        description='Share an artifact of the caller\'s project with '
                    'another project.',
        operations=[{'path': BASE + '/{type}/{id}/members',
                     'method': 'POST'}]),
    oslo_policy.DocumentedRuleDefault(
        name='artifacts:get_members',
        check_str='%s or (%s and (project_id:%%(project_id)s or '
                  'project_id:%%(member_id)s))' % (ADMIN, READER),
        scope_types=['project'],
        description='Read the members of an artifact: the owner all of '
                    'them, a member itself.',
        operations=[{'path': BASE + '/{type}/{id}/members',
                     'method': 'GET'},
                    {'path': BASE + '/{type}/{id}/members/{member}',
                     'method': 'GET'}]),
    oslo_policy.DocumentedRuleDefault(
        name='artifacts:modify_member',
        check_str='%s or (%s and project_id:%%(member_id)s)'
                  % (ADMIN, MEMBER),
        scope_types=['project'],
        description='Accept or reject an artifact shared with the '
                    'caller\'s project.',
        operations=[{'path': BASE + '/{type}/{id}/members/{member}',
                     'method': 'PUT'}]),
    oslo_policy.DocumentedRuleDefault(
        name='artifacts:delete_member',
        check_str='%s or (%s)' % (ADMIN, PROJECT_MEMBER),
        scope_types=['project'],
        description='Stop sharing an artifact with a project.',
        operations=[{'path': BASE + '/{type}/{id}/members/{member}',
                     'method': 'DELETE'}]),
    oslo_policy.DocumentedRuleDefault(
        name='artifacts:publicize_artifact', check_str=ADMIN,
        scope_types=['project'],
        description='Make an artifact public (visible to every project).',
        operations=[{'path': BASE + '/{type}', 'method': 'POST'},
                    {'path': BASE + '/{type}/{id}', 'method': 'PATCH'}]),
    oslo_policy.DocumentedRuleDefault(
        name='artifacts:communitize_artifact',
        check_str='%s or (%s)' % (ADMIN, PROJECT_MEMBER),
        scope_types=['project'],
        description='Make an artifact community (visible to every project '
                    'that asks for community artifacts).',
        operations=[{'path': BASE + '/{type}', 'method': 'POST'},
                    {'path': BASE + '/{type}/{id}', 'method': 'PATCH'}]),
]


def list_rules():
    """Rules for oslo.policy tools (entry point oslo.policy.policies)."""
    return rules
