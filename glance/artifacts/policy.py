"""Enforcing the policy rules of glance-artifacts (see policies.py)."""

from glance.api import policy as glance_policy
from glance.artifacts import exception
from glance.artifacts import policies
from glance.common import exception as glance_exception

_enforcer = None


def get_enforcer():
    global _enforcer
    if _enforcer is None:
        enforcer = glance_policy.Enforcer(
            suppress_deprecation_warnings=True)
        enforcer.register_defaults(policies.rules)
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
