"""What the registry checks before it runs a data API call.

In registry mode (``[artifacts] data_api = registry``) glance-api sends
each data API call to the registry service
(``glance.db.artifacts.registry``), and any holder of a service token may
post calls there too. The registry therefore does not take a call on the
word of whoever sent it: before running it, it applies to the call, as it
arrived, the rules that glance-api's domain applies to a request, with
the identity of the user whose token the call carries. The checks are the
domain's own functions (``catalog``, ``lifecycle``, ``members``,
``blobs``), so that the two cannot drift apart:

- the policy rules, with the user's roles and project;
- the fields a client may write, validated as in a request, and the
  read-only ones (owner, status, type, dates, blob data) refused; the
  values the registry stores are made again from the validated fields,
  never copied from the call;
- the lifecycle transitions (drafted -> active with everything activation
  needs, active <-> deactivated), and ``activated_at`` stamped by the
  registry;
- the quota limits, read by the registry from Keystone itself
  (``[artifacts] use_keystone_limits`` and ``[oslo_limit]`` in its own
  configuration); limits a caller sends are ignored;
- visibility and ownership of every record, which the data API itself
  enforces (``sqlalchemy_api``: ownership of every write, of uploads,
  heartbeats, reservations and aborts; referrers the caller cannot see
  are not named; reads that are not the caller's raise).

Two kinds of calls belong to glance-api alone, and are taken only from
its own service identity (``Caller.glance_api``):

- its housekeeping, which runs as no user (``Caller.context`` is None):
  cleaning up dead uploads, garbage collection, delayed deletes,
  reading artifacts whoever owns them for cycle checks, and the steps
  of a copy of blob data to more stores that a user began (its
  heartbeats, and each copy it wrote or failed to write) (HOUSEKEEPING);
- values that only glance-api can produce, having written or read blob
  data: ``blob_upload_finish`` (the location, size and digests of the
  data it stored, and the fields it filled by inspecting that content)
  and the inspected fields written at activation. Even then the data API
  takes a location only if it is named after the upload, in the backend
  the upload recorded, and glance-api's store layer opens no location
  outside its own namespace.

References to ids that the registry does not know are taken from
glance-api only: they are Glance's images, which glance-api resolved (the
registry never sees images).
"""

import inspect

from oslo_config import cfg
from oslo_utils import timeutils

from glance.artifacts import blobs
from glance.artifacts import catalog
from glance.artifacts import exception
from glance.artifacts import fields as f
from glance.artifacts import lifecycle
from glance.artifacts import members
from glance.artifacts import policy
from glance.artifacts import quota
from glance.artifacts.types import base
from glance.db.artifacts import models

CONF = cfg.CONF

#: What glance-api's housekeeping calls, as no user.
HOUSEKEEPING = frozenset(('artifact_get', 'artifact_reaches',
                          'blob_upload_list',
                          'blob_upload_abort', 'blob_data_used',
                          'pending_delete_list', 'pending_delete_remove',
                          'blob_upload_heartbeat', 'blob_copy_step'))
#: Housekeeping calls that users make too, checked as theirs.
_USERS_TOO = frozenset(('artifact_get', 'blob_upload_abort',
                        'blob_upload_list', 'blob_upload_heartbeat'))
#: Seconds that data may be kept as a pending delete: a year.
MAX_KEEP_FOR = 366 * 24 * 3600
#: Columns that no call writes: the data API or the registry sets them.
_READ_ONLY_COLUMNS = ('id', 'type_name', 'type_version', 'owner', 'status',
                      'created_at', 'updated_at', 'activated_at')
_FILTER_PLACES = ('column', 'property', 'tag', 'metadata')
_OPS = ('eq', 'neq', 'lt', 'lte', 'gt', 'gte', 'in', 'like')
_LISTED_COLUMNS = frozenset(base.COLUMNS) | {'version_key'}


class Caller(object):
    """Who sends a call: ``context``, the user's request context (None
    for glance-api's own housekeeping); ``glance_api``, whether the
    service that sent it is glance-api itself; ``own_limits``, whether
    the registry reads quota limits itself (else it takes glance-api's,
    in the no-auth development flavor)."""

    def __init__(self, context, glance_api, own_limits):
        self.context = context
        self.glance_api = glance_api
        self.own_limits = own_limits


class _Housekeeping(object):
    """The data API context of glance-api's own work."""
    is_admin = True
    owner = None


def check(caller, types, command, function, kwargs):
    """Check a call of data API ``function`` (named ``command``) with
    ``kwargs`` from ``caller``, for the enabled ``types``; returns (the
    data API context, the arguments to run it with). Raises the domain's
    errors (Forbidden, Invalid, NotFound, Conflict...) for a call that
    glance-api would not make for that user."""
    try:
        bound = inspect.signature(function).bind(None, **kwargs)
    except TypeError as e:
        raise exception.Invalid('Bad arguments for %s: %s' % (command, e))
    bound.apply_defaults()
    args = dict(bound.arguments)
    args.pop(next(iter(inspect.signature(function).parameters)))
    if caller.context is None:
        if not caller.glance_api or command not in HOUSEKEEPING:
            raise exception.Forbidden(
                '%s is not a call of glance-api\'s housekeeping.' % command)
        _checked_housekeeping(command, args)
        return _Housekeeping(), args
    if command in HOUSEKEEPING - _USERS_TOO or (
            command == 'blob_upload_list' and args['artifact_id'] is None):
        if not (caller.glance_api and caller.context.is_admin and
                not caller.context.roles):
            raise exception.Forbidden(
                '%s belongs to glance-api\'s own housekeeping.' % command)
        _checked_housekeeping(command, args)
        return caller.context, args
    if command not in _CHECKS:
        raise exception.Forbidden('The registry has no check of %s and '
                                  'does not run it.' % command)
    return caller.context, _CHECKS[command](_Call(caller, types), **args)


def _checked_housekeeping(command, args):
    if command in ('artifact_get', 'blob_upload_abort',
                   'blob_upload_heartbeat', 'blob_copy_step') or (
            command == 'blob_upload_list' and
            args['artifact_id'] is not None):
        _uuid(args['artifact_id'])
    if command in ('blob_upload_abort', 'blob_upload_heartbeat',
                   'blob_copy_step'):
        _text(args['field'], 'A field')
        _text(args['key'], 'A key', empty=True)
        _text(args['upload_id'], 'An upload id')
    if command == 'blob_upload_abort':
        _backends(args['failed_stores'])
        _bool(args['restage'], 'restage')
    if command == 'blob_copy_step':
        _text(args['type_name'], 'A type name')
        values = args['values']
        if values is not None and not (
                isinstance(values, dict) and
                set(values) == {'location', 'backend'} and
                all(isinstance(v, str) for v in values.values())):
            raise exception.Invalid('values is null or {"location", '
                                    '"backend"}, both strings.')
        if not isinstance(args['stop'], bool):
            raise exception.Invalid('stop is true or false.')
    elif command == 'artifact_reaches':
        _uuid(args['start'])
        _uuid(args['goal'])
        _reference_fields(args['fields'])
    elif command == 'blob_data_used':
        names = args['names']
        if not (isinstance(names, list) and
                len(names) <= models.DATA_NAMES_MAX and
                all(isinstance(n, str) and len(n) <= models.DATA_NAME_MAX
                    for n in names)):
            raise exception.Invalid(
                'names is a list of at most %d data names.'
                % models.DATA_NAMES_MAX)
    elif command == 'pending_delete_list':
        _count(args['limit'], 'limit')
    elif command == 'pending_delete_remove':
        if not (isinstance(args['ids'], list) and
                all(_is_int(i) for i in args['ids'])):
            raise exception.Invalid('ids is a list of integers.')


class _Call(object):
    """A call being checked: the caller, the types, what it reads."""

    def __init__(self, caller, types):
        self.context = caller.context
        self.glance_api = caller.glance_api
        self.own_limits = caller.own_limits
        self.types = types

    def type(self, type_name):
        type_cls = self.types.get(type_name) if isinstance(
            type_name, str) else None
        if type_cls is None:
            raise exception.Forbidden(
                'The registry does not serve the artifact type %r (see '
                '[artifacts] enabled_types in its configuration).'
                % (str(type_name)[:64],))
        return type_cls

    def artifact(self, artifact_id, type_name=None, expect=None):
        """(type, record, API view) of a visible artifact. Changed when
        it no longer has the column values ``expect`` gives (the caller
        decided on an older state; the write would be refused, and the
        caller decides again on the artifact as it is now)."""
        _uuid(artifact_id)
        if type_name is not None:
            self.type(type_name)
        record = catalog.data_api().artifact_get(self.context, artifact_id,
                                                 type_name)
        for column, value in (_expect(expect) or {}).items():
            if record[column] != value:
                raise exception.Changed('The artifact changed while this '
                                        'request was handled.')
        type_cls = self.type(record['type_name'])
        return type_cls, record, catalog.present(type_cls, record)

    def limits(self, owner, resources, sent):
        """The quota limits of ``owner`` that a write is checked
        against."""
        if not self.own_limits:
            return sent
        if CONF.artifacts.use_keystone_limits:
            return quota.limits(owner, resources)
        if sent is not None:
            # glance-api enforces quotas and the registry cannot: refuse
            # rather than write past them.
            raise exception.Unavailable(
                'The artifacts registry does not read quota limits, which '
                'glance-api enforces: set [artifacts] use_keystone_limits '
                'and [oslo_limit] in the registry\'s configuration as in '
                'glance-api.conf.')
        return None

    def foreign_ok(self):
        return self.glance_api


# -- argument shapes ---------------------------------------------------------

def _uuid(value, what='An artifact id'):
    if not (isinstance(value, str) and f.is_uuid(value)):
        raise exception.Invalid('%s is a UUID, not %r'
                                % (what, str(value)[:64]))
    return value


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _count(value, what):
    if not (_is_int(value) and value >= 0):
        raise exception.Invalid('%s is a non-negative integer.' % what)
    return value


def _keep_for(value):
    if value is None:
        return None
    if not (isinstance(value, (int, float)) and not isinstance(value, bool)
            and 0 <= value <= MAX_KEEP_FOR):
        raise exception.Invalid('keep_for is a number of seconds from 0 to '
                                '%d.' % MAX_KEEP_FOR)
    return value


def _expect(value):
    if value is None:
        return None
    if not (isinstance(value, dict) and set(value) <= {'revision', 'status'}
            and all(isinstance(v, (int, str)) for v in value.values())):
        raise exception.Invalid('expect holds a revision or a status.')
    return value


def _text(value, what, empty=False):
    if not (isinstance(value, str) and (empty or value)):
        raise exception.Invalid('%s is a string.' % what)
    return value


def _scalar(value):
    return value is None or isinstance(value, (str, int, float, bool)) or \
        hasattr(value, 'isoformat')


def _fields(type_cls, values, allowed=None):
    """{field name: value as the API shows it} of data API ``values``
    (columns, tags, metadata, properties {field: rows}); ReadOnly for the
    columns no call writes and for blob fields. ``allowed`` restricts the
    field names."""
    if not isinstance(values, dict):
        raise exception.Invalid('values is an object.')
    fields = {}
    for name, value in values.items():
        if name == 'version_key':
            continue            # made again from the version
        if name == 'properties':
            if not isinstance(value, dict):
                raise exception.Invalid('properties is an object.')
            for field_name, rows in value.items():
                field = type_cls.fields.get(field_name)
                if field is None:
                    raise exception.Invalid(
                        "'%s' is not a field of %s."
                        % (str(field_name)[:64], type_cls.name))
                if isinstance(field, f.Blob):
                    raise exception.ReadOnly(
                        "Attribute '%s' is a blob: its data is uploaded."
                        % field_name)
                fields[field_name] = _from_rows(field, field_name, rows)
        elif name in _READ_ONLY_COLUMNS:
            raise exception.ReadOnly("Attribute '%s' is read-only."
                                     % name)
        elif name in base.COLUMNS or name in ('tags', 'metadata'):
            fields[name] = value
        else:
            raise exception.Invalid("'%s' is not a value of an artifact."
                                    % str(name)[:64])
    if allowed is not None and set(fields) - set(allowed):
        raise exception.Forbidden(
            'Only glance-api writes %s, from the content it inspected.'
            % ', '.join(sorted(set(fields) - set(allowed))))
    return fields


def _from_rows(field, name, rows):
    if not (isinstance(rows, list) and all(isinstance(r, dict)
                                           for r in rows)):
        raise exception.Invalid("The rows of '%s' are a list of objects."
                                % name)
    if field.scalar and len(rows) > 1:
        raise exception.Invalid("'%s' holds one value." % name)
    try:
        return catalog._from_rows(field, rows)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise exception.Invalid("Malformed rows of '%s': %s: %s"
                                % (name, type(e).__name__, e))


def _query(filters, sorts, limit, marker, member_status, marker_values):
    """A list query in the shapes queries.py makes."""
    if not isinstance(filters, (list, tuple)) or len(filters) > 1000:
        raise exception.Invalid('filters is a list.')
    for spec in filters:
        if not (isinstance(spec, dict) and spec.get('where') in
                _FILTER_PLACES and spec.get('op') in _OPS and
                isinstance(spec.get('values'), list) and
                all(_scalar(v) for v in spec['values'])):
            raise exception.Invalid('Malformed filter %r' % (spec,))
        _place(spec)
        if spec['op'] != 'in' and len(spec['values']) != 1:
            raise exception.Invalid('Filter %s takes one value.'
                                    % spec['op'])
        if spec['op'] == 'like':
            try:
                f.like_parts(spec['values'][0])
            except (f.InvalidValue, TypeError) as e:
                raise exception.Invalid('Filter like takes a pattern: %s'
                                        % e)
    if not isinstance(sorts, (list, tuple)) or len(sorts) > 100:
        raise exception.Invalid('sorts is a list.')
    for spec in sorts:
        if not (isinstance(spec, dict) and
                spec.get('where') in ('column', 'property') and
                spec.get('dir') in ('asc', 'desc')):
            raise exception.Invalid('Malformed sort %r' % (spec,))
        _place(spec)
    if not (_is_int(limit) and 0 <= limit <= max(
            CONF.artifacts.api_limit_max, catalog.MAX_GRAPH)):
        raise exception.Invalid('limit is an integer from 0 to %d.'
                                % CONF.artifacts.api_limit_max)
    if marker is not None:
        _uuid(marker, 'A marker')
    if member_status is not None and \
            member_status not in base.MEMBER_STATUSES:
        raise exception.Invalid('member_status is one of %s.'
                                % ', '.join(base.MEMBER_STATUSES))
    if marker_values is not None and not (
            isinstance(marker_values, list) and
            all(_scalar(v) for v in marker_values)):
        raise exception.Invalid('marker_values is a list of values.')


def _place(spec):
    where = spec['where']
    if where == 'column':
        if spec.get('column') not in _LISTED_COLUMNS:
            raise exception.Invalid('No column %r to list by.'
                                    % (str(spec.get('column'))[:64],))
    elif where == 'property':
        _text(spec.get('field'), 'A filter\'s field')
        if spec.get('column') not in models.VALUE_COLUMNS:
            raise exception.Invalid('No value column %r.'
                                    % (str(spec.get('column'))[:64],))
        if spec.get('key') is not None:
            _text(spec['key'], 'A filter\'s key', empty=True)
    elif where == 'metadata':
        _text(spec.get('key'), 'A metadata filter\'s key', empty=True)


# -- the checks, one per data API function -----------------------------------
# Each takes the call and the function's arguments, raises what glance-api
# would answer the user, and returns the arguments to run the function
# with.

def _artifact_create(call, values, limits):
    context = call.context
    if not isinstance(values, dict):
        raise exception.Invalid('values is an object.')
    artifact_id = _uuid(values.get('id'))
    type_cls = call.type(values.get('type_name'))
    if (values.get('owner') or None) != context.owner:
        raise exception.Forbidden('An artifact is created in the caller\'s '
                                  'own project.')
    if values.get('status', 'drafted') != 'drafted' or \
            values.get('activated_at') is not None:
        raise exception.ReadOnly('An artifact is created drafted.')
    if values.get('type_version', type_cls.type_version) != \
            type_cls.type_version:
        raise exception.Invalid('%s is at type version %s.'
                                % (type_cls.name, type_cls.type_version))
    body = _fields(type_cls, {k: v for k, v in values.items()
                              if k not in ('id', 'type_name', 'owner',
                                           'status', 'type_version',
                                           'activated_at')})
    values = catalog.creation_values(context, type_cls, body, call.types,
                                     artifact_id, foreign=call.foreign_ok())
    return {'values': values, 'limits': call.limits(
        context.owner, [quota.COUNT_TOTAL], limits)}


def _artifact_get(call, artifact_id, type_name):
    policy.authorize(call.context, 'artifacts:get_artifact', {})
    _uuid(artifact_id)
    if type_name is not None:
        call.type(type_name)
    return {'artifact_id': artifact_id, 'type_name': type_name}


def _artifact_list(call, type_name, filters, sorts, limit, marker, latest,
                   member_status, marker_values):
    policy.authorize(call.context, 'artifacts:list_artifacts', {})
    if type_name is not None:
        call.type(type_name)
    _query(filters, sorts, limit, marker, member_status, marker_values)
    return {'type_name': type_name, 'filters': list(filters),
            'sorts': list(sorts),
            'limit': limit, 'marker': marker, 'latest': bool(latest),
            'member_status': member_status, 'marker_values': marker_values}


def _artifact_update(call, artifact_id, type_name, values, expect):
    context = call.context
    type_cls, record, view = call.artifact(artifact_id, type_name, expect)
    if not isinstance(values, dict):
        raise exception.Invalid('values is an object.')
    status = values.get('status', view['status'])
    if status == view['status']:
        values = {k: v for k, v in values.items() if k != 'status'}
        new = catalog._values(type_cls, catalog.checked_changes(
            context, type_cls, view, _fields(type_cls, values), call.types,
            foreign=call.foreign_ok()))
    elif status == 'active' and view['status'] == 'drafted':
        new = _activation(call, type_cls, record, view, values)
    else:
        action = next((a for a, (source, target) in
                       lifecycle.SWITCHES.items()
                       if (source, target) == (view['status'], status)),
                      None)
        if action is None:
            raise exception.Forbidden(
                'The status of an artifact goes from drafted to active '
                'and between active and deactivated, not from %s to %r.'
                % (view['status'], str(status)[:32]))
        if set(values) != {'status'}:
            raise exception.Invalid('A change of status changes nothing '
                                    'else.')
        lifecycle.check_switch(context, view, action)
        new = {'status': status}
    return {'artifact_id': artifact_id, 'type_name': type_name,
            'values': new, 'expect': _expect(expect)}


def _activation(call, type_cls, record, view, values):
    """The values that activate the artifact, with the fields glance-api
    filled by inspecting blobs too large to inspect at their upload."""
    lifecycle.check_activation(call.context, type_cls, view)
    if set(values) - {'status', 'activated_at', 'properties'}:
        raise exception.Invalid('Activation changes no other column.')
    inspected = _fields(
        type_cls, {'properties': values.get('properties') or {}},
        allowed=_inspectable(type_cls) if call.glance_api else ())
    changes = {}
    if inspected:
        changes = catalog.checked_changes(
            call.context, type_cls, view, inspected, call.types,
            readonly=_inspectable(type_cls), foreign=True)
    written = catalog._values(type_cls, changes)
    lifecycle.check_ready(type_cls, record, view)
    kept = [p for p in record['properties']
            if p['name'] not in written['properties']]
    added = [dict(r, name=n) for n, rows in written['properties'].items()
             for r in rows]
    lifecycle.check_references_active(
        call.context, type_cls, dict(record, properties=kept + added),
        call.types, foreign=call.foreign_ok())
    return dict(written, status='active', activated_at=timeutils.utcnow())


def _inspectable(type_cls):
    """The fields an inspector of the type may fill: its own fields that
    are not blobs."""
    return frozenset(n for n, fd in type_cls.fields.items()
                     if not isinstance(fd, f.Blob))


def _artifact_delete(call, artifact_id, type_name, expect, keep_for):
    type_cls, _record, view = call.artifact(artifact_id, type_name, expect)
    catalog.check_delete(call.context, type_cls, view, call.types)
    return {'artifact_id': artifact_id, 'type_name': type_name,
            'expect': _expect(expect), 'keep_for': _keep_for(keep_for)}


def _artifact_tag_add(call, artifact_id, type_name, tag, expect):
    _type_cls, _record, view = call.artifact(artifact_id, type_name, expect)
    catalog.check_tag(call.context, view, tag)
    return {'artifact_id': artifact_id, 'type_name': type_name, 'tag': tag,
            'expect': _expect(expect)}


def _artifact_tag_delete(call, artifact_id, type_name, tag):
    _type_cls, _record, view = call.artifact(artifact_id, type_name)
    catalog.check_owner(call.context, view)
    return {'artifact_id': artifact_id, 'type_name': type_name,
            'tag': _text(tag, 'A tag')}


def _reference_fields(fields):
    if not (isinstance(fields, list) and len(fields) <= 1000 and all(
            isinstance(p, list) and len(p) == 2 and
            all(isinstance(x, str) for x in p) for p in fields)):
        raise exception.Invalid('fields is a list of [type, field].')


def _artifact_referrers(call, artifact_id, fields):
    call.artifact(artifact_id)
    _reference_fields(fields)
    return {'artifact_id': artifact_id, 'fields': fields}


def _member_create(call, artifact_id, type_name, member, expect):
    _type_cls, _record, view = call.artifact(artifact_id, type_name, expect)
    member = members.checked_member(call.context, view, {'member': member})
    return {'artifact_id': artifact_id, 'type_name': type_name,
            'member': member, 'expect': _expect(expect)}


def _own_membership(context, view, member):
    """NotFound for another project's membership, unless the caller sees
    them all (as members.get_member)."""
    if not members.sees_all(context, view) and member != context.owner:
        raise exception.NotFound('%s is not a member of the artifact.'
                                 % str(member)[:255])


def _member_list(call, artifact_id, type_name, member):
    _type_cls, _record, view = call.artifact(artifact_id, type_name)
    if member is not None:
        _own_membership(call.context, view, _text(member, 'A member'))
    policy.authorize(call.context, 'artifacts:get_members',
                     members.target(view, member or call.context.owner))
    return {'artifact_id': artifact_id, 'type_name': type_name,
            'member': member}


def _member_update(call, artifact_id, type_name, member, status):
    _type_cls, _record, view = call.artifact(artifact_id, type_name)
    _own_membership(call.context, view, _text(member, 'A member'))
    members.check_member_status(call.context, view, member,
                                {'status': status})
    return {'artifact_id': artifact_id, 'type_name': type_name,
            'member': member, 'status': status}


def _member_delete(call, artifact_id, type_name, member):
    _type_cls, _record, view = call.artifact(artifact_id, type_name)
    policy.authorize(call.context, 'artifacts:delete_member',
                     members.target(view, _text(member, 'A member')))
    return {'artifact_id': artifact_id, 'type_name': type_name,
            'member': member}


def _blob(call, artifact_id, field, key, size=None, type_name=None,
          expect=None):
    """(type, view) of an artifact whose blob ``field``/``key`` the
    caller may write ``size`` bytes to."""
    type_cls, _record, view = call.artifact(artifact_id, type_name, expect)
    _text(field, 'A blob field')
    _text(key, 'A blob key', empty=True)
    blobs.check_upload(call.context, type_cls, view, field, key or None,
                       size)
    return type_cls, view


def _blob_upload_begin(call, artifact_id, type_name, field, key, upload,
                       expect, limits):
    if not isinstance(upload, dict):
        raise exception.Invalid('upload is an object.')
    reserved = _count(upload.get('reserved') or 0, 'reserved')
    _type_cls, view = _blob(call, artifact_id, field, key, reserved or None,
                            type_name, expect)
    return {'artifact_id': artifact_id, 'type_name': type_name,
            'field': field, 'key': key, 'upload': upload,
            'expect': _expect(expect),
            'limits': call.limits(view['owner'], [quota.SIZE_TOTAL,
                                                  quota.COUNT_UPLOADING],
                                  limits)}


def _upload_owner(call, artifact_id):
    """The view of an artifact whose uploads the caller may touch."""
    _type_cls, _record, view = call.artifact(artifact_id)
    catalog.check_owner(call.context, view)
    policy.authorize(call.context, 'artifacts:upload_blob',
                     {'project_id': view['owner'] or ''})
    return view


def _blob_upload_reserve(call, artifact_id, field, key, upload_id, need,
                         want, limits):
    view = _upload_owner(call, artifact_id)
    if _count(need, 'need') > _count(want, 'want'):
        raise exception.Invalid('need is at most want.')
    return {'artifact_id': artifact_id, 'field': _text(field, 'A field'),
            'key': _text(key, 'A key', empty=True),
            'upload_id': _uuid(upload_id, 'An upload id'), 'need': need,
            'want': want, 'limits': call.limits(
                view['owner'], [quota.SIZE_TOTAL], limits)}


def _blob_upload_heartbeat(call, artifact_id, field, key, upload_id):
    _upload_owner(call, artifact_id)
    return {'artifact_id': artifact_id, 'field': _text(field, 'A field'),
            'key': _text(key, 'A key', empty=True),
            'upload_id': _uuid(upload_id, 'An upload id')}


def _blob_upload_abort(call, artifact_id, field, key, upload_id,
                       failed_stores, restage):
    # Any upload id: forgetting a record that is not glance-api's making
    # (one forged in the database) is harmless, and its data is not
    # looked for (store.data_id refuses such an id).
    _upload_owner(call, artifact_id)
    return {'artifact_id': artifact_id, 'field': _text(field, 'A field'),
            'key': _text(key, 'A key', empty=True),
            'upload_id': _text(upload_id, 'An upload id'),
            'failed_stores': _backends(failed_stores),
            'restage': _bool(restage, 'restage')}


def _backends(value):
    if value is not None and not (isinstance(value, list) and all(
            isinstance(b, str) and len(b) <= 255 and ',' not in b
            for b in value)):
        raise exception.Invalid('failed_stores is a list of store names.')
    return value


def _bool(value, what):
    if not isinstance(value, bool):
        raise exception.Invalid('%s is true or false.' % what)
    return value


def _blob_upload_list(call, artifact_id):
    _upload_owner(call, artifact_id)
    return {'artifact_id': artifact_id}


def _stored_values(call, what, artifact_id, type_name, field, key,
                   values, staged=False):
    """(type, view) of the artifact whose blob gets ``values``: the data
    glance-api stored (a finished upload, or ``staged`` data), from
    glance-api only."""
    if not call.glance_api:
        raise exception.Forbidden(
            'Only glance-api finishes %s: the location and digests of the '
            'data are the ones it stored.' % what)
    if not isinstance(values, dict):
        raise exception.Invalid('values is an object.')
    found = _blob(call, artifact_id, field, key,
                  _count(values.get('size'), 'size'), type_name)
    # Staged data has no status nor algorithm of its own (they are the
    # blob's once it is imported).
    _blob_values(dict(values, status='active', os_hash_algo='')
                 if staged else values)
    return found


def _blob_upload_finish(call, artifact_id, type_name, field, key,
                        upload_id, values, keep_for, changes, copies,
                        failed_stores):
    type_cls, view = _stored_values(call, 'uploads', artifact_id,
                                    type_name, field, key, values)
    new = None
    if changes is not None:
        inspected = _fields(type_cls, changes,
                            allowed=_inspectable(type_cls))
        new = catalog._values(type_cls, catalog.checked_changes(
            call.context, type_cls, view, inspected, call.types,
            readonly=_inspectable(type_cls), foreign=True))
    return {'artifact_id': artifact_id, 'type_name': type_name,
            'field': field, 'key': key,
            'upload_id': _uuid(upload_id, 'An upload id'), 'values': values,
            'keep_for': _keep_for(keep_for), 'changes': new,
            # The data API checks that they are the import's own.
            'copies': copies, 'failed_stores': _backends(failed_stores)}


def _blob_stage_finish(call, artifact_id, type_name, field, key,
                       upload_id, values, limits):
    _type_cls, view = _stored_values(call, 'stages', artifact_id,
                                     type_name, field, key, values,
                                     staged=True)
    return {'artifact_id': artifact_id, 'type_name': type_name,
            'field': field, 'key': key,
            'upload_id': _uuid(upload_id, 'An upload id'), 'values': values,
            'limits': call.limits(view['owner'], [quota.STAGE_TOTAL],
                                  limits)}


def _blob_import_begin(call, artifact_id, type_name, field, key, imp,
                       limits):
    if not (isinstance(imp, dict) and
            set(imp) == {'upload_id', 'method', 'backends', 'process'}):
        raise exception.Invalid('imp is {"upload_id", "method", '
                                '"backends", "process"}.')
    _type_cls, view = _blob(call, artifact_id, field, key, None, type_name)
    # The stores are glance-api's (the registry has none): the data API
    # takes distinct names.
    return {'artifact_id': artifact_id, 'type_name': type_name,
            'field': field, 'key': key,
            'imp': dict(imp, upload_id=_uuid(imp['upload_id'],
                                             'An upload id')),
            'limits': call.limits(view['owner'], [quota.SIZE_TOTAL,
                                                  quota.COUNT_UPLOADING],
                                  limits)}


def _blob_values(values):
    if values.get('status') != 'active':
        raise exception.Invalid('A finished upload makes its blob active.')
    if not (isinstance(values.get('checksum'), str) and
            blobs.HEX.fullmatch(values['checksum']) and
            len(values['checksum']) == blobs.MD5_HEX_LENGTH):
        raise exception.Invalid('checksum is an MD5 hex digest.')
    if not (isinstance(values.get('os_hash_value'), str) and
            blobs.HEX.fullmatch(values['os_hash_value']) and
            isinstance(values.get('os_hash_algo'), str)):
        raise exception.Invalid('os_hash_algo names the algorithm of the '
                                'hex digest os_hash_value.')
    if not (isinstance(values.get('content_type'), str) and
            blobs.MEDIA_TYPE.fullmatch(values['content_type'])):
        raise exception.Invalid('content_type is a media type.')


def _blob_copy_begin(call, artifact_id, type_name, field, key, copy,
                     limits):
    if not (isinstance(copy, dict) and
            set(copy) == {'upload_id', 'backends', 'process'}):
        raise exception.Invalid('copy is {"upload_id", "backends", '
                                '"process"}.')
    type_cls, _record, view = call.artifact(artifact_id, type_name)
    _text(field, 'A blob field')
    _text(key, 'A blob key', empty=True)
    # The stores are glance-api's (the registry has none): the data API
    # takes distinct names, none of which holds the data yet.
    blobs.check_copy(call.context, type_cls, view, field, key or None)
    return {'artifact_id': artifact_id, 'type_name': type_name,
            'field': field, 'key': key,
            'copy': dict(copy, upload_id=_uuid(copy['upload_id'],
                                               'An upload id')),
            'limits': call.limits(view['owner'], [quota.SIZE_TOTAL,
                                                  quota.COUNT_UPLOADING],
                                  limits)}


def _blob_copy_drop(call, artifact_id, type_name, field, key, backend,
                    keep_for):
    type_cls, _record, view = call.artifact(artifact_id, type_name)
    _text(field, 'A blob field')
    _text(key, 'A blob key', empty=True)
    blobs.check_drop(call.context, type_cls, view, field, key or None)
    _text(backend, 'A backend')
    return {'artifact_id': artifact_id, 'type_name': type_name,
            'field': field, 'key': key, 'backend': backend,
            'keep_for': _keep_for(keep_for)}


def _project_usage(call):
    policy.authorize(call.context, 'artifacts:get_usage', {})
    return {}


_CHECKS = {
    'artifact_create': _artifact_create,
    'artifact_get': _artifact_get,
    'artifact_list': _artifact_list,
    'artifact_update': _artifact_update,
    'artifact_delete': _artifact_delete,
    'artifact_tag_add': _artifact_tag_add,
    'artifact_tag_delete': _artifact_tag_delete,
    'artifact_referrers': _artifact_referrers,
    'member_create': _member_create,
    'member_list': _member_list,
    'member_update': _member_update,
    'member_delete': _member_delete,
    'blob_upload_begin': _blob_upload_begin,
    'blob_upload_reserve': _blob_upload_reserve,
    'blob_upload_heartbeat': _blob_upload_heartbeat,
    'blob_upload_finish': _blob_upload_finish,
    'blob_upload_abort': _blob_upload_abort,
    'blob_stage_finish': _blob_stage_finish,
    'blob_import_begin': _blob_import_begin,
    'blob_upload_list': _blob_upload_list,
    'blob_copy_begin': _blob_copy_begin,
    'blob_copy_drop': _blob_copy_drop,
    'project_usage': _project_usage,
}
