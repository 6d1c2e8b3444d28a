"""Policy rules of glance-artifacts, with their defaults in code.

The rules follow Glance's secure-RBAC defaults (reader, member and admin
personas, scoped to projects). They are registered on an enforcer of
Glance's own class, so they are read from, and overridden in, Glance's
policy file; ``oslopolicy-sample-generator --namespace glance.artifacts``
prints them.
"""

from oslo_policy import policy as oslo_policy

from glance.api import policy as glance_policy
from glance.artifacts import exception
from glance.common import exception as glance_exception

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


_enforcer = None


def get_enforcer():
    global _enforcer
    if _enforcer is None:
        enforcer = glance_policy.Enforcer(
            suppress_deprecation_warnings=True)
        enforcer.register_defaults(rules)
        _enforcer = enforcer
    return _enforcer


def authorize(context, action, target):
    """Raise exception.Forbidden unless the context may do ``action``.

    A context that Glance made an administrator without roles (the
    unauthenticated-context filter of no-auth deployments) is treated as
    the administrator it is.
    """
    creds = context
    if context.is_admin and not context.roles:
        return
    target = dict(target)
    target.setdefault('project_id', context.project_id or '')
    try:
        get_enforcer().enforce(creds, action, target)
    except glance_exception.Forbidden:
        raise exception.Forbidden('Policy does not allow %s.' % action)
