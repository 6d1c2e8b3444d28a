"""Sharing: the members of shared artifacts, as image members.

The owner adds and removes members (projects); a member accepts or
rejects, and may read the artifact directly even while pending; lists show
it once accepted. Only shared artifacts take members.
"""

from glance.artifacts import catalog
from glance.artifacts import exception
from glance.artifacts import fields as f
from glance.artifacts import notifier
from glance.artifacts import policy
from glance.artifacts.types import base
from glance.common import timeutils as glance_timeutils

MEMBER_ID = f.String(min_length=1, max_length=255, required=True)
SCHEMA = '%s/schemas/member' % catalog.PREFIX


def _view(row):
    return {'artifact_id': row['artifact_id'], 'member_id': row['member'],
            'status': row['status'],
            'created_at': glance_timeutils.isotime(row['created_at']),
            'updated_at': glance_timeutils.isotime(row['updated_at']),
            'schema': SCHEMA}


def target(view, member=None):
    return {'project_id': view['owner'] or '', 'member_id': member or ''}


def sees_all(context, view):
    return context.is_admin or (context.owner is not None and
                                context.owner == view['owner'])


def checked_member(context, view, body):
    """The member that ``body`` adds to the artifact ``view``, if the
    caller may add it."""
    policy.authorize(context, 'artifacts:add_member', target(view))
    if view['visibility'] != 'shared':
        raise exception.Forbidden('Only shared artifacts have members; '
                                  'this one is %s.' % view['visibility'])
    if not isinstance(body, dict) or set(body) != {'member'}:
        raise exception.Invalid('The body must be {"member": PROJECT_ID}.')
    try:
        return MEMBER_ID.validate(body['member'])
    except f.InvalidValue as e:
        raise exception.Invalid("Invalid value for 'member': %s" % e)


@catalog.retry_on_change
def add(context, type_cls, artifact_id, body):
    record = catalog.get_record(context, type_cls, artifact_id)
    view = catalog.present(type_cls, record)
    member = checked_member(context, view, body)
    added = _view(catalog.data_api().member_create(
        context, artifact_id, type_cls.name, member,
        expect={'revision': record['revision']}))
    notifier.notify(context, 'artifact.member.create', view, member=added)
    return added


def list_members(context, type_cls, artifact_id):
    view = catalog.get(context, type_cls, artifact_id)
    policy.authorize(context, 'artifacts:get_members',
                     target(view, context.owner))
    only = None if sees_all(context, view) else (context.owner or '')
    rows = catalog.data_api().member_list(context, artifact_id,
                                          type_cls.name, only)
    return {'members': [_view(r) for r in rows], 'schema':
            '%s/schemas/members' % catalog.PREFIX}


def get_member(context, type_cls, artifact_id, member):
    view = catalog.get(context, type_cls, artifact_id)
    # Other projects' memberships are not the caller's to know of.
    if not sees_all(context, view) and member != context.owner:
        raise exception.NotFound('%s is not a member of the artifact.'
                                 % member[:255])
    policy.authorize(context, 'artifacts:get_members',
                     target(view, member))
    rows = catalog.data_api().member_list(context, artifact_id,
                                          type_cls.name, member)
    if not rows:
        raise exception.NotFound('%s is not a member of the artifact.'
                                 % member[:255])
    return _view(rows[0])


def check_member_status(context, view, member, body):
    """Whether the caller may set the status of ``member`` of the
    artifact ``view`` as ``body`` says."""
    policy.authorize(context, 'artifacts:modify_member',
                     target(view, member))
    if not isinstance(body, dict) or set(body) != {'status'} or \
            body['status'] not in base.MEMBER_STATUSES:
        raise exception.Invalid('The body must be {"status": S} with S one '
                                'of %s.' % ', '.join(base.MEMBER_STATUSES))


def update_member(context, type_cls, artifact_id, member, body):
    """The member itself sets its status."""
    view = catalog.get(context, type_cls, artifact_id)
    get_member(context, type_cls, artifact_id, member)
    check_member_status(context, view, member, body)
    updated = _view(catalog.data_api().member_update(
        context, artifact_id, type_cls.name, member, body['status']))
    notifier.notify(context, 'artifact.member.update', view,
                    member=updated)
    return updated


def delete_member(context, type_cls, artifact_id, member):
    view = catalog.get(context, type_cls, artifact_id)
    policy.authorize(context, 'artifacts:delete_member',
                     target(view, member))
    # The member as it was, for the notification.
    rows = catalog.data_api().member_list(context, artifact_id,
                                          type_cls.name, member)
    if not rows:
        raise exception.NotFound('%s is not a member of the artifact.'
                                 % member[:255])
    catalog.data_api().member_delete(context, artifact_id, type_cls.name,
                                     member)
    notifier.notify(context, 'artifact.member.delete', view,
                    member=_view(rows[0]))
