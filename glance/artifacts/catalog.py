"""The artifact catalog: create, read, list, patch and delete artifacts.

Everything here follows from the type declarations: the HTTP layer hands
over parsed JSON and query parameters; this module validates them against
the fields of the type, turns them into data API values and back, and
calls the data API (``glance.db.artifacts.get_api()``).
"""

import copy
import datetime
import socket
import uuid

import jsonpatch
import jsonpointer
from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import timeutils
import psutil

from glance.artifacts import exception
from glance.artifacts import fields as f
from glance.artifacts import policy
from glance.artifacts import semver
from glance.artifacts import store
from glance.artifacts.types import base
from glance.common import exception as glance_exception
from glance.common import timeutils as glance_timeutils
from glance.common import utils as glance_utils
from glance import context as glance_context
from glance.db import artifacts as artifacts_db

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
PREFIX = '/v2/artifacts'
MAX_FILTERS = 64
MAX_IN_VALUES = 500
MAX_SORT_KEYS = 8
PATCH_OPS = ('add', 'replace', 'remove')
MEMBER_STATUSES = ('pending', 'accepted', 'rejected')


def data_api():
    return artifacts_db.get_api()


def artifact_url(type_name, artifact_id):
    return '%s/%s/%s' % (PREFIX, type_name, artifact_id)


def _isotime(value):
    return glance_timeutils.isotime(value) if value is not None else None


# -- records <-> artifacts ---------------------------------------------------

def _rows(field, value):
    if isinstance(field, f.List):
        return [{'position': i, field.column: field.element.to_storage(v)}
                for i, v in enumerate(value)]
    if isinstance(field, f.Dict):
        return [{'key': k, field.column: field.element.to_storage(v)}
                for k, v in value.items()]
    return [] if value is None else [{field.column: field.to_storage(value)}]


def _from_rows(field, rows):
    if isinstance(field, f.List):
        return [field.element.from_storage(r[field.column])
                for r in sorted(rows, key=lambda r: r['position'])]
    if isinstance(field, f.Dict):
        return {r['key']: field.element.from_storage(r[field.column])
                for r in rows}
    return field.from_storage(rows[0][field.column]) if rows else None


def _blob_view(type_name, artifact_id, field_name, row, saving):
    url = '%s/%s' % (artifact_url(type_name, artifact_id), field_name)
    if row['key']:
        url += '/' + row['key']
    if saving:
        return {'status': 'saving', 'size': None, 'checksum': None,
                'os_hash_algo': None, 'os_hash_value': None,
                'content_type': None, 'url': url}
    return {'status': row['status'], 'size': row['size'],
            'checksum': row['checksum'],
            'os_hash_algo': row['os_hash_algo'],
            'os_hash_value': row['os_hash_value'],
            'content_type': row['content_type'], 'url': url}


def present(type_cls, record):
    """The API view of a data API record."""
    type_name = record['type_name']
    view = {name: record[name] for name in base.COLUMNS}
    for name in ('created_at', 'updated_at', 'activated_at'):
        view[name] = _isotime(record[name])
    view['tags'] = record['tags']
    view['metadata'] = record['metadata']
    by_field = {}
    for row in record['properties']:
        by_field.setdefault(row['name'], []).append(row)
    # An upload in progress shows as "saving" until it ends.
    entries = {(r['field'], r['key']): (r, False) for r in record['blobs']}
    for r in record['uploads']:
        entries[(r['field'], r['key'])] = (r, True)
    blobs = {}
    for (name, key), (row, saving) in sorted(entries.items()):
        blobs.setdefault(name, {})[key] = _blob_view(
            type_name, record['id'], name, row, saving)
    for name, field in type_cls.fields.items():
        if isinstance(field, f.BlobDict):
            view[name] = blobs.get(name, {})
        elif isinstance(field, f.Blob):
            view[name] = blobs.get(name, {}).get('')
        else:
            view[name] = _from_rows(field, by_field.get(name, []))
    view['self'] = artifact_url(type_name, record['id'])
    view['schema'] = '%s/schemas/%s' % (PREFIX, type_name)
    return view


def _validated(field, name, value):
    try:
        return field.validate(value)
    except f.InvalidValue as e:
        raise exception.Invalid("Invalid value for '%s': %s" % (name, e))


def _check_writable(type_cls, name):
    fields = type_cls.all_fields()
    if name not in fields:
        raise exception.Invalid(
            "'%s' is not a field of %s; its fields are: %s"
            % (name, type_cls.name, ', '.join(sorted(fields))))
    field = fields[name]
    if field.readonly:
        raise exception.ReadOnly("Attribute '%s' is read-only." % name)
    if isinstance(field, f.Blob):
        raise exception.ReadOnly(
            "Attribute '%s' is a blob: upload its data with PUT %s/%s/"
            "{id}/%s" % (name, PREFIX, type_cls.name, name))
    return field


def _values(type_cls, changes):
    """Data API values for validated field values."""
    values = {'properties': {}}
    for name, value in changes.items():
        if name in base.COLUMNS:
            values[name] = value
            if name == 'version':
                values['version_key'] = semver.sort_key(value)
        elif name in ('tags', 'metadata'):
            values[name] = value
        else:
            values['properties'][name] = _rows(type_cls.fields[name], value)
    return values


def _check_visibility_change(context, visibility):
    if visibility == 'public':
        policy.authorize(context, 'artifacts:publicize_artifact',
                         {'visibility': visibility})
    elif visibility == 'community':
        policy.authorize(context, 'artifacts:communitize_artifact',
                         {'visibility': visibility})


# -- operations --------------------------------------------------------------

def create(context, type_cls, body, types):
    policy.authorize(context, 'artifacts:create_artifact',
                     {'owner': context.owner})
    if not isinstance(body, dict):
        raise exception.Invalid('The request body must be a JSON object '
                                'of artifact fields.')
    for name in body:
        _check_writable(type_cls, name)
    values = {}
    for name, field in type_cls.all_fields().items():
        if field.readonly or isinstance(field, f.Blob):
            continue
        values[name] = (_validated(field, name, body[name])
                        if name in body else
                        _validated(field, name, field.initial()))
    _check_visibility_change(context, values['visibility'])
    artifact_id = str(uuid.uuid4())
    _check_references(context, type_cls, artifact_id, values, types)
    values = _values(type_cls, values)
    values.update(id=artifact_id, type_name=type_cls.name,
                  type_version=type_cls.type_version, owner=context.owner,
                  status='drafted')
    return present(type_cls, data_api().artifact_create(context, values))


def get_record(context, type_cls, artifact_id):
    """The data API record of a visible artifact, after cleaning up uploads
    whose uploader died."""
    _check_id(artifact_id)
    policy.authorize(context, 'artifacts:get_artifact', {})
    record = data_api().artifact_get(context, artifact_id, type_cls.name)
    if record['uploads'] and clean_stale_uploads(record['uploads']):
        record = data_api().artifact_get(context, artifact_id,
                                         type_cls.name)
    return record


def get(context, type_cls, artifact_id):
    return present(type_cls, get_record(context, type_cls, artifact_id))


def _process_alive(process):
    """Whether the process that recorded an upload runs: True, False, or
    None when it ran on another host."""
    host, pid, started = process.rsplit(':', 2)
    if host != socket.gethostname():
        return None
    try:
        return abs(psutil.Process(int(pid)).create_time() -
                   float(started)) < 0.01
    except psutil.NoSuchProcess:
        return False


def this_process():
    me = psutil.Process()
    return '%s:%d:%.3f' % (socket.gethostname(), me.pid, me.create_time())


def clean_stale_uploads(uploads):
    """Forget the uploads whose uploader is dead (a process of this host
    that is gone, or no heartbeat for [artifacts] upload_stale_after) and
    delete what they wrote. Returns how many were cleaned."""
    limit = timeutils.utcnow() - datetime.timedelta(
        seconds=CONF.artifacts.upload_stale_after)
    admin = glance_context.get_admin_context()
    cleaned = 0
    for up in uploads:
        if (_process_alive(up['process']) is False or
                up['heartbeat_at'] < limit):
            if data_api().blob_upload_abort(admin, up['artifact_id'],
                                            up['field'], up['key'],
                                            up['upload_id']):
                store.delete_partial(up['backend'], up['upload_id'])
                LOG.info('Cleaned up dead upload %s to %s of artifact %s',
                         up['upload_id'], up['field'], up['artifact_id'])
                cleaned += 1
    return cleaned


def clean_all_stale_uploads():
    """At start-up: clean up after uploaders that died."""
    admin = glance_context.get_admin_context()
    try:
        return clean_stale_uploads(data_api().blob_upload_list(admin))
    except Exception as e:  # the database may not be there yet
        LOG.warning('Could not look for dead uploads at start-up: %s', e)
        return 0


def _check_id(artifact_id):
    if not f.is_uuid(artifact_id):
        raise exception.NotFound(
            "No artifact with id '%s': artifact ids are UUIDs"
            % artifact_id[:64])


def check_owner(context, view):
    policy.authorize(context, 'artifacts:modify_artifact',
                     {'project_id': view['owner'] or '',
                      'owner': view['owner'] or ''})


def delete(context, type_cls, artifact_id, types):
    view = get(context, type_cls, artifact_id)
    check_owner(context, view)
    policy.authorize(context, 'artifacts:delete_artifact',
                     {'project_id': view['owner'] or ''})
    if view['protected']:
        raise exception.Forbidden(
            'Artifact %s is protected and cannot be deleted; set '
            '"protected" to false first.' % artifact_id)
    referrers = data_api().artifact_referrers(
        context, artifact_id, reference_fields(types))
    if referrers:
        seen = ['%s/%s (%s %s)' % (r['type_name'], r['id'], r['name'],
                                   r['version'])
                for r in referrers if r['visible']]
        unseen = len(referrers) - len(seen)
        raise exception.Conflict(
            'Artifact %s is referenced by %s; remove those references '
            'first.' % (artifact_id, ', '.join(
                seen + (['%d artifact(s) you cannot see' % unseen]
                        if unseen else []))))
    record = data_api().artifact_delete(context, artifact_id, type_cls.name)
    # The records are gone; now the data. An upload still running notices
    # at its end that its record is gone and deletes what it wrote.
    for blob in record['blobs']:
        store.delete(blob['backend'], blob['location'])
    for up in record['uploads']:
        if _process_alive(up['process']) is False:
            store.delete_partial(up['backend'], up['upload_id'])


def update(context, type_cls, artifact_id, patch, types):
    """Apply a JSON patch (RFC 6902: add, replace, remove)."""
    view = get(context, type_cls, artifact_id)
    check_owner(context, view)
    if not isinstance(patch, list):
        raise exception.Invalid('A JSON patch must be a list of '
                                'operations.')
    doc = copy.deepcopy(view)
    touched = set()
    for number, op in enumerate(patch, 1):
        touched.add(_apply(type_cls, doc, op, number))
    changes = {}
    for name in touched:
        field = type_cls.all_fields()[name]
        new = doc.get(name)
        if new is None and not field.scalar:
            new = field.empty()
        new = _validated(field, name, new)
        if new != view[name]:
            changes[name] = new
    if not changes:
        return view
    if view['status'] != 'drafted':
        frozen = sorted(n for n in changes
                        if not type_cls.all_fields()[n].mutable)
        if frozen:
            raise exception.ReadOnly(
                'The artifact is %s: only mutable fields may change, and '
                '%s %s not.' % (view['status'], ', '.join(frozen),
                                'is' if len(frozen) == 1 else 'are'))
    if 'visibility' in changes:
        _check_visibility_change(context, changes['visibility'])
    _check_references(context, type_cls, artifact_id, changes, types)
    record = data_api().artifact_update(
        context, artifact_id, type_cls.name, _values(type_cls, changes),
        expect={'status': view['status']})
    return present(type_cls, record)


def _apply(type_cls, doc, op, number):
    """Apply one patch operation to ``doc``; return the top-level field it
    changes."""
    if not isinstance(op, dict):
        raise exception.Invalid('Operation %d of the patch is not a JSON '
                                'object.' % number)
    name = op.get('op')
    if name not in PATCH_OPS:
        raise exception.Invalid(
            "Operation %d: op must be one of %s, not %r"
            % (number, ', '.join(PATCH_OPS), name))
    path = op.get('path')
    if not isinstance(path, str) or not path.startswith('/'):
        raise exception.Invalid("Operation %d: path must be a JSON pointer "
                                "such as /name" % number)
    if name != 'remove' and 'value' not in op:
        raise exception.Invalid("Operation %d: '%s' needs a value"
                                % (number, name))
    parts = jsonpointer.JsonPointer(path).parts
    field = _check_writable(type_cls, parts[0])
    if len(parts) > 1 and field.scalar:
        raise exception.Invalid("Operation %d: '%s' has no parts to "
                                "address in %s" % (number, parts[0], path))
    if len(parts) > 2:
        raise exception.Invalid("Operation %d: %s is too deep; address a "
                                "field or one of its items" % (number, path))
    if doc.get(parts[0]) is None and not field.scalar:
        doc[parts[0]] = field.empty()
    try:
        if len(parts) == 1 and name == 'remove':
            doc[parts[0]] = None
        else:
            jsonpatch.apply_patch(doc, [op], in_place=True)
    except (jsonpatch.JsonPatchConflict,
            jsonpointer.JsonPointerException) as e:
        raise exception.Conflict('Operation %d (%s %s) cannot apply: %s'
                                 % (number, name, path, e))
    except jsonpatch.JsonPatchException as e:
        raise exception.Invalid('Operation %d (%s %s) is invalid: %s'
                                % (number, name, path, e))
    return parts[0]


# -- lists -------------------------------------------------------------------

def _limit(params):
    raw = params.get('limit')
    if raw is None:
        return min(CONF.artifacts.limit_param_default,
                   CONF.artifacts.api_limit_max)
    try:
        limit = int(raw)
    except ValueError:
        raise exception.Invalid("limit must be an integer, not '%s'"
                                % raw[:32])
    if limit < 0:
        raise exception.Invalid('limit must be zero or more, not %d'
                                % limit)
    return min(limit, CONF.artifacts.api_limit_max)


def _sort_spec(fields, key, direction):
    field = fields.get(key)
    if field is None or not field.sortable:
        raise exception.Invalid(
            "Cannot sort on '%s'; sortable fields are: %s"
            % (key[:64], ', '.join(sorted(n for n, fd in fields.items()
                                          if fd.sortable))))
    if direction not in ('asc', 'desc'):
        raise exception.Invalid("Sort direction must be asc or desc, not "
                                "'%s'" % direction[:16])
    if key in base.COLUMNS:
        column = 'version_key' if key == 'version' else key
        return {'where': 'column', 'column': column, 'dir': direction}
    return {'where': 'property', 'field': key, 'column': field.column,
            'dir': direction}


def _sorts(fields, params):
    sort = params.getall('sort')
    keys = params.getall('sort_key')
    dirs = params.getall('sort_dir')
    if sort and (keys or dirs):
        raise exception.Invalid('Use either sort or sort_key/sort_dir, '
                                'not both.')
    pairs = []
    if sort:
        for item in ','.join(sort).split(','):
            key, _sep, direction = item.strip().partition(':')
            pairs.append((key, direction or 'desc'))
    elif keys:
        if len(dirs) > 1 and len(dirs) != len(keys):
            raise exception.Invalid('Give one sort_dir, or one for each '
                                    'sort_key.')
        dirs = dirs * len(keys) if len(dirs) == 1 else (
            dirs or ['desc'] * len(keys))
        pairs = list(zip(keys, dirs))
    elif dirs:
        pairs = [('created_at', dirs[0])] if len(dirs) == 1 else None
        if pairs is None:
            raise exception.Invalid('sort_dir without sort_key takes one '
                                    'value.')
    else:
        pairs = [('created_at', 'desc')]
    if len(pairs) > MAX_SORT_KEYS:
        raise exception.Invalid('At most %d sort keys.' % MAX_SORT_KEYS)
    return [_sort_spec(fields, k, d) for k, d in pairs]


def _operands(field, op, text, name):
    try:
        texts = (glance_utils.split_filter_value_for_quotes(text)
                 if op == 'in' else [text])
    except glance_exception.InvalidParameterValue as e:
        raise exception.Invalid(str(e))
    if len(texts) > MAX_IN_VALUES:
        raise exception.Invalid("At most %d values in an 'in' filter; '%s' "
                                "has %d." % (MAX_IN_VALUES, name, len(texts)))
    try:
        return [field.parse_filter(t) for t in texts]
    except (f.InvalidValue, ValueError) as e:
        raise exception.Invalid("Invalid filter value for '%s': %s"
                                % (name, e))


def _filter_spec(fields, key, text):
    if key == 'tags':
        return {'where': 'tag', 'op': 'eq', 'values': [text]}
    name, _dot, sub = key.partition('.')
    field = fields.get(name)
    if field is None or not field.filterable or (sub and not isinstance(
            field, f.Dict)):
        raise exception.Invalid(
            "Cannot filter on '%s'; filters are: %s, metadata.KEY%s"
            % (key[:64], ', '.join(sorted(n for n, fd in fields.items()
                                          if fd.filterable)),
               ''.join(', %s.KEY' % n for n, fd in fields.items()
                       if fd.filterable and isinstance(fd, f.Dict)
                       and n != 'metadata')))
    try:
        op, value = glance_utils.split_filter_op(text)
    except ValueError as e:
        raise exception.Invalid(str(e))
    if op not in field.ops:
        raise exception.Invalid(
            "Unknown or unsupported filter operator '%s' for '%s'; use one "
            "of: %s" % (op[:16], name, ', '.join(field.ops)))
    if name == 'metadata':
        if not sub:
            raise exception.Invalid('Filter metadata as metadata.KEY=VALUE')
        return {'where': 'metadata', 'key': sub, 'op': op,
                'values': _operands(field.element, op, value, key)}
    if isinstance(field, f.Dict) and not sub:
        raise exception.Invalid('Filter %s as %s.KEY=VALUE' % (name, name))
    if name in base.COLUMNS:
        values = _operands(field, op, value, key)
        column = name
        if name == 'version':
            column = 'version_key'
        elif isinstance(field, f.DateTime):
            values = [timeutils.parse_isotime(v) for v in values]
            values = [timeutils.normalize_time(v).isoformat()
                      for v in values]
        return {'where': 'column', 'column': column, 'op': op,
                'values': values}
    element = field.element if not field.scalar else field
    return {'where': 'property', 'field': name, 'column': field.column,
            'key': sub or None, 'op': op,
            'values': _operands(element, op, value, key)}


def list_artifacts(context, type_cls, params, types):
    """One page of visible artifacts of ``type_cls`` (of every type in
    ``types`` for base.AnyType), and whether there may be more.

    ``params`` is the request's query (a webob MultiDict).
    """
    policy.authorize(context, 'artifacts:list_artifacts', {})
    fields = type_cls.all_fields()
    limit = _limit(params)
    marker = params.get('marker')
    if marker is not None and not f.is_uuid(marker):
        raise exception.Invalid("marker must be an artifact id (a UUID), "
                                "not '%s'" % marker[:64])
    sorts = _sorts(fields, params)
    filters = []
    latest = False
    member_status = params.get('member_status', 'accepted')
    if member_status not in MEMBER_STATUSES + ('all',):
        raise exception.Invalid(
            "member_status must be one of %s, not '%s'"
            % (', '.join(MEMBER_STATUSES + ('all',)), member_status[:32]))
    for key, text in params.items():
        if key in ('limit', 'marker', 'sort', 'sort_key', 'sort_dir',
                   'member_status'):
            continue
        if key == 'version' and text == 'latest':
            latest = True
            continue
        filters.append(_filter_spec(fields, key, text))
    if len(filters) > MAX_FILTERS:
        raise exception.Invalid('At most %d filters per request.'
                                % MAX_FILTERS)
    type_name = type_cls.name
    if type_cls is base.AnyType:
        type_name = None
        filters.append({'where': 'column', 'column': 'type_name',
                        'op': 'in', 'values': sorted(types)})
    records = data_api().artifact_list(
        context, type_name, filters=filters, sorts=sorts, limit=limit,
        marker=marker, latest=latest,
        member_status=None if member_status == 'all' else member_status)
    views = [present(types[r['type_name']], r) for r in records]
    return views, len(records) == limit and limit > 0


# -- references --------------------------------------------------------------

MAX_GRAPH = 1000


def reference_fields(types):
    """[(type name, field name)] of every reference field of ``types``."""
    return sorted((t.name, n) for t in types.values()
                  for n, fd in t.fields.items() if f.reference_of(fd))


def references(type_cls, record):
    """[(field, position or key, id)] that an artifact record refers to."""
    rows = {}
    for row in record['properties']:
        rows.setdefault(row['name'], []).append(row)
    found = []
    for name, field in sorted(type_cls.fields.items()):
        if f.reference_of(field) and name in rows:
            value = _from_rows(field, rows[name])
            found += [(name, where, ref)
                      for ref, where in f.referenced_ids(field, value)]
    return found


def _check_references(context, type_cls, artifact_id, values, types):
    """Every id that the reference fields in ``values`` hold names a
    visible artifact of an allowed type and version, and refers back
    neither to this artifact nor, through others, to it."""
    for name, value in values.items():
        field = type_cls.all_fields()[name]
        ref = f.reference_of(field)
        if ref is None:
            continue
        for target_id, _where in f.referenced_ids(field, value):
            if target_id == artifact_id:
                raise exception.Invalid("'%s' cannot refer to the artifact "
                                        "itself." % name)
            try:
                target = data_api().artifact_get(context, target_id)
            except exception.NotFound:
                raise exception.Invalid(
                    "'%s' refers to %s: there is no artifact with that id "
                    "that you can see." % (name, target_id))
            allowed = ref.allowed_types or sorted(types)
            if target['type_name'] not in allowed:
                raise exception.Invalid(
                    "'%s' refers to %s, a %s; it takes %s."
                    % (name, target_id, target['type_name'],
                       ' or '.join(allowed)))
            if ref.versions and not ref.version_allowed(target['version']):
                raise exception.Invalid(
                    "'%s' refers to %s at version %s; it takes versions "
                    "%s." % (name, target_id, target['version'],
                             ref.versions))
            if _reaches(target_id, artifact_id, types):
                raise exception.Conflict(
                    "'%s' would make a cycle: %s refers, directly or "
                    "through others, to this artifact." % (name, target_id))


def _reaches(start, goal, types):
    """Whether ``goal`` is reachable from ``start`` along references
    (whoever may see them)."""
    admin = glance_context.get_admin_context()
    seen, todo = set(), [start]
    while todo:
        current = todo.pop()
        if current == goal:
            return True
        if current in seen or len(seen) > MAX_GRAPH:
            continue
        seen.add(current)
        try:
            record = data_api().artifact_get(admin, current)
        except exception.NotFound:
            continue
        type_cls = types.get(record['type_name'])
        if type_cls is not None:
            todo += [ref for _n, _w, ref in references(type_cls, record)]
    return False


def dependencies(context, type_cls, view_record, types, transitive):
    """The dependency graph of an artifact: the artifacts it refers to
    (and, when transitive, theirs) and the references between them."""
    nodes, edges = [], []
    seen = {view_record['id']}
    todo = [(type_cls, view_record)]
    while todo and len(seen) <= MAX_GRAPH:
        source_type, record = todo.pop(0)
        for name, where, ref in references(source_type, record):
            edges.append({'from': record['id'], 'to': ref, 'field': name,
                          'key': where})
            if ref in seen:
                continue
            seen.add(ref)
            try:
                target = data_api().artifact_get(context, ref)
            except exception.NotFound:
                nodes.append({'id': ref, 'visible': False})
                continue
            nodes.append({'id': ref, 'visible': True,
                          'type_name': target['type_name'],
                          'name': target['name'],
                          'version': target['version'],
                          'status': target['status'],
                          'self': artifact_url(target['type_name'], ref)})
            if transitive and target['type_name'] in types:
                todo.append((types[target['type_name']], target))
    return {'artifacts': nodes, 'references': edges}


# -- lifecycle ---------------------------------------------------------------

def _unset(field, value):
    if isinstance(field, f.BlobDict):
        return not value or any(b['status'] != 'active'
                                for b in value.values())
    if isinstance(field, f.Blob):
        return value is None or value['status'] != 'active'
    return value is None or value == [] or value == {} or value == ''


def activate(context, type_cls, artifact_id, types):
    """drafted -> active, once everything required on activation is there
    and every referenced artifact is active; repeating it is harmless."""
    record = get_record(context, type_cls, artifact_id)
    view = present(type_cls, record)
    policy.authorize(context, 'artifacts:activate_artifact',
                     {'project_id': view['owner'] or ''})
    if view['status'] == 'active':
        return
    if view['status'] != 'drafted':
        raise exception.Conflict('The artifact is %s; reactivate it '
                                 'instead.' % view['status'])
    if record['uploads']:
        raise exception.Conflict('An upload to the artifact is in '
                                 'progress; activate it when it ends.')
    missing = sorted(n for n, fd in type_cls.fields.items()
                     if fd.required_on_activate and _unset(fd, view[n]))
    if missing:
        raise exception.Invalid(
            'Cannot activate: %s must be set first (blobs with uploaded '
            'data).' % ', '.join(missing))
    for name, _where, ref in references(type_cls, record):
        try:
            target = data_api().artifact_get(context, ref)
        except exception.NotFound:
            target = {'status': 'gone or invisible'}
        if target['status'] != 'active':
            raise exception.Conflict(
                "Cannot activate: '%s' refers to %s, which is %s; activate "
                "it first." % (name, ref, target['status']))
    data_api().artifact_update(
        context, artifact_id, type_cls.name,
        {'status': 'active', 'activated_at': timeutils.utcnow()},
        expect={'status': 'drafted'})


def _switch(context, type_cls, artifact_id, action, source, target):
    view = get(context, type_cls, artifact_id)
    policy.authorize(context, 'artifacts:%s_artifact' % action,
                     {'project_id': view['owner'] or ''})
    if view['status'] == target:
        return
    if view['status'] != source:
        raise exception.Forbidden('Not allowed to %s an artifact in '
                                  'status %s.' % (action, view['status']))
    data_api().artifact_update(context, artifact_id, type_cls.name,
                               {'status': target}, expect={'status': source})


def deactivate(context, type_cls, artifact_id):
    """active -> deactivated: data downloads are refused to non-admins."""
    _switch(context, type_cls, artifact_id, 'deactivate', 'active',
            'deactivated')


def reactivate(context, type_cls, artifact_id):
    _switch(context, type_cls, artifact_id, 'reactivate', 'deactivated',
            'active')


# -- tags --------------------------------------------------------------------

def add_tag(context, type_cls, artifact_id, tag):
    view = get(context, type_cls, artifact_id)
    check_owner(context, view)
    field = base.COMMON_FIELDS['tags']
    _validated(field.element, 'tag', tag)
    if tag not in view['tags'] and len(view['tags']) >= field.max_count:
        raise exception.TooLarge('Maximum tag count of %d exceeded.'
                                 % field.max_count)
    data_api().artifact_tag_add(context, artifact_id, type_cls.name, tag)


def delete_tag(context, type_cls, artifact_id, tag):
    view = get(context, type_cls, artifact_id)
    check_owner(context, view)
    data_api().artifact_tag_delete(context, artifact_id, type_cls.name, tag)
