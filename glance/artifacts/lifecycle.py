"""The lifecycle of artifacts (drafted -> active <-> deactivated) and
their dependency graphs."""

from oslo_utils import timeutils

from glance.artifacts import catalog
from glance.artifacts import exception
from glance.artifacts import fields as f
from glance.artifacts import inspection
from glance.artifacts import notifier
from glance.artifacts import policy
from glance.db.artifacts import images

MAX_GRAPH = catalog.MAX_GRAPH    # nodes a graph shows at most
ACTIONS = ('activate', 'deactivate', 'reactivate')


def dependencies(context, type_cls, view_record, types, transitive):
    """The dependency graph of an artifact: the artifacts it refers to
    (and, when transitive, theirs) and the references between them."""
    nodes, edges = [], []
    seen = {view_record['id']}
    todo = [(type_cls, view_record)]
    while todo and len(seen) <= MAX_GRAPH:
        source_type, record = todo.pop(0)
        for name, where, ref in catalog.references(source_type, record):
            edges.append({'from': record['id'], 'to': ref, 'field': name,
                          'key': where})
            if ref in seen:
                continue
            seen.add(ref)
            try:
                target = catalog.data_api().artifact_get(context, ref)
            except exception.NotFound:
                nodes.append({'id': ref, 'visible': False})
                continue
            nodes.append({'id': ref, 'visible': True,
                          'type_name': target['type_name'],
                          'name': target['name'],
                          'version': target['version'],
                          'status': target['status'],
                          'self': catalog.artifact_url(
                              target['type_name'], ref)})
            if transitive and target['type_name'] in types:
                todo.append((types[target['type_name']], target))
    return {'artifacts': nodes, 'references': edges}


def _unset(field, value):
    if isinstance(field, f.BlobDict):
        return not value or any(b['status'] != 'active'
                                for b in value.values())
    if isinstance(field, f.Blob):
        return value is None or value['status'] != 'active'
    return value is None or value == [] or value == {} or value == ''


def check_activation(context, type_cls, view):
    """Whether the caller may activate the artifact ``view``: False when
    it is active already."""
    policy.authorize(context, 'artifacts:activate_artifact',
                     {'project_id': view['owner'] or ''})
    if view['status'] == 'active':
        return False
    if view['status'] != 'drafted':
        raise exception.Conflict('The artifact is %s; reactivate it '
                                 'instead.' % view['status'])
    return True


def check_ready(type_cls, record, view):
    """Whether the artifact (``record``, ``view``) has what activation
    needs: no upload in progress, every field required on activation."""
    if record['uploads']:
        raise exception.Conflict('An upload to the artifact is in '
                                 'progress; activate it when it ends.')
    missing = sorted(n for n, fd in type_cls.fields.items()
                     if fd.required_on_activate and _unset(fd, view[n]))
    if missing:
        raise exception.Invalid(
            'Cannot activate: %s must be set first (blobs with uploaded '
            'data).' % ', '.join(missing))


def check_references_active(context, type_cls, record, types,
                            foreign=False):
    """Every artifact the artifact ``record`` refers to is visible and
    active (``foreign`` as in catalog._check_references)."""
    for name, _where, ref in catalog.references(type_cls, record):
        try:
            target = catalog.data_api().artifact_get(context, ref)
        except exception.NotFound:
            if foreign:
                continue
            raise exception.Conflict(
                "Cannot activate: '%s' refers to %s, which is gone or "
                "which you cannot see; remove the reference." % (name, ref))
        if target['type_name'] == images.TYPE_NAME and \
                target['status'] != 'active':
            raise exception.Conflict(
                "Cannot activate: '%s' refers to image %s, which is %s; "
                "only active images can be used." % (
                    name, ref, catalog.present(types[images.TYPE_NAME],
                                               target)['image_status']))
        if target['status'] != 'active':
            raise exception.Conflict(
                "Cannot activate: '%s' refers to %s, which is %s; activate "
                "it first." % (name, ref, target['status']))


@catalog.retry_on_change
def activate(context, type_cls, artifact_id, types):
    """drafted -> active, once everything required on activation is there
    and every referenced artifact is active; repeating it is harmless."""
    record = catalog.get_record(context, type_cls, artifact_id)
    view = catalog.present(type_cls, record)
    if not check_activation(context, type_cls, view):
        return
    check_ready(type_cls, record, view)
    # Blobs too large to inspect at their upload are inspected now; the
    # references they fill are checked with the others.
    record, inspected = inspection.at_activation(context, type_cls, record,
                                                 view, types)
    check_references_active(context, type_cls, record, types)
    record = catalog.data_api().artifact_update(
        context, artifact_id, type_cls.name,
        dict(inspected, status='active', activated_at=timeutils.utcnow()),
        expect={'revision': record['revision']})
    notifier.notify(context, 'artifact.activate',
                    catalog.present(type_cls, record))


# The switches between active and deactivated: action -> (from, to).
SWITCHES = {'deactivate': ('active', 'deactivated'),
            'reactivate': ('deactivated', 'active')}


def check_switch(context, view, action):
    """Whether the caller may ``action`` (a key of SWITCHES) the artifact
    ``view``: False when it is in the target status already."""
    source, target = SWITCHES[action]
    policy.authorize(context, 'artifacts:%s_artifact' % action,
                     {'project_id': view['owner'] or ''})
    if view['status'] == target:
        return False
    if view['status'] != source:
        raise exception.Forbidden('Not allowed to %s an artifact in '
                                  'status %s.' % (action, view['status']))
    return True


@catalog.retry_on_change
def _switch(context, type_cls, artifact_id, action):
    view = catalog.get(context, type_cls, artifact_id)
    if not check_switch(context, view, action):
        return
    source, target = SWITCHES[action]
    record = catalog.data_api().artifact_update(
        context, artifact_id, type_cls.name, {'status': target},
        expect={'status': source})
    notifier.notify(context, 'artifact.%s' % action,
                    catalog.present(type_cls, record))


def deactivate(context, type_cls, artifact_id):
    """active -> deactivated: data downloads are refused to non-admins."""
    _switch(context, type_cls, artifact_id, 'deactivate')


def reactivate(context, type_cls, artifact_id):
    _switch(context, type_cls, artifact_id, 'reactivate')
