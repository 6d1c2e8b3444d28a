"""The artifact catalog: create, read, list, patch and delete artifacts.

Everything here follows from the type declarations: the HTTP layer hands
over parsed JSON and query parameters; this module validates them against
the fields of the type (references included), turns them into data API
values and back, and calls the data API (``glance.db.artifacts.get_api()``).
List queries are parsed in queries.py, the lifecycle is lifecycle.py,
blob data blobs.py, members members.py.
"""

import copy
import functools
import os
import random
import socket
import time
import uuid

import jsonpatch
import jsonpointer
from oslo_config import cfg
from oslo_log import log as logging

from glance.artifacts import exception
from glance.artifacts import fields as f
from glance.artifacts import notifier
from glance.artifacts import policy
from glance.artifacts import queries
from glance.artifacts import quota
from glance.artifacts import semver
from glance.artifacts import store
from glance.artifacts.types import base
from glance.common import timeutils as glance_timeutils
from glance import context as glance_context
from glance.db import artifacts as artifacts_db

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
PREFIX = '/v2/artifacts'
PATCH_OPS = ('add', 'replace', 'remove')


def data_api():
    return artifacts_db.get_api()


def artifact_url(type_name, artifact_id):
    return '%s/%s/%s' % (PREFIX, type_name, artifact_id)


_admin = None


def admin_context():
    """An admin context for housekeeping (made once: each context Glance
    makes without an enforcer builds a policy enforcer of its own)."""
    global _admin
    if _admin is None:
        _admin = glance_context.get_admin_context()
    return _admin


CHANGE_RETRIES = 20


def retry_on_change(operation):
    """Run a read-decide-write operation again when the artifact changed
    between its read and its write (the data API raised Changed because
    the revision the operation decided on had moved on). Each try decides
    on the artifact as it then is, so a concurrent change is never lost;
    after CHANGE_RETRIES tries the client gets 409."""
    @functools.wraps(operation)
    def retrying(*args, **kwargs):
        for attempt in range(CHANGE_RETRIES):
            try:
                return operation(*args, **kwargs)
            except exception.Changed as e:
                changed = e
                time.sleep(random.uniform(0, 0.005 * (attempt + 1)))
        raise exception.Changed('%s It kept changing for %d tries; try '
                                'again.' % (changed, CHANGE_RETRIES))
    return retrying


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


def _blob_view(type_name, artifact_id, field_name, row, saving,
               copying=None, stores=True):
    url = '%s/%s' % (artifact_url(type_name, artifact_id), field_name)
    if row['key']:
        url += '/' + row['key']
    if saving:
        # An upload; staged data (as an image is 'uploading' once staged)
        # or an import of it ('importing').
        method = row.get('method')
        view = {'status': 'saving', 'size': None, 'checksum': None,
                'os_hash_algo': None, 'os_hash_value': None,
                'content_type': None, 'url': url}
        if method:
            view['status'] = ('uploading' if method in ('stage', 'staged')
                              else 'importing')
        if row.get('location') and method in ('staged', 'glance-direct'):
            view.update({k: row[k] for k in ('size', 'checksum',
                                             'os_hash_value',
                                             'content_type')},
                        os_hash_algo=CONF.hashing_algorithm)
        if stores and store.backends() != [None] and method:
            importing = []
            if method in ('glance-direct', 'web-download'):
                importing = [row['backend']] + [b for b in (
                    row['pending_stores'] or '').split(',') if b]
            view.update(stores='', os_glance_failed_import='',
                        os_glance_importing_to_stores=','.join(importing))
        return view
    view = {'status': row['status'], 'size': row['size'],
            'checksum': row['checksum'],
            'os_hash_algo': row['os_hash_algo'],
            'os_hash_value': row['os_hash_value'],
            'content_type': row['content_type'], 'url': url}
    if stores and store.backends() != [None]:
        # Where the data is, with several stores, as images show it:
        # comma-separated store names (an image's are Glance's, in its
        # own view).
        view['stores'] = ','.join(
            [row['backend'] or store.default_backend()] +
            [c['backend'] for c in row.get('copies', ())])
        importing = []
        if copying:
            importing = [copying['backend']] + [
                b for b in (copying['pending_stores'] or '').split(',') if b]
        view['os_glance_importing_to_stores'] = ','.join(importing)
        view['os_glance_failed_import'] = row.get('failed_stores') or ''
    return view


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
    # An upload in progress shows as "saving" until it ends (staged data
    # and an import as "uploading" and "importing"); a copy to
    # more stores shows where it is copying to.
    entries = {(r['field'], r['key']): (r, False) for r in record['blobs']}
    copying = {}
    for r in record['uploads']:
        if r.get('copy_of'):
            copying[(r['field'], r['key'])] = r
        else:
            entries[(r['field'], r['key'])] = (r, True)
    blobs = {}
    for (name, key), (row, saving) in sorted(entries.items()):
        blobs.setdefault(name, {})[key] = _blob_view(
            type_name, record['id'], name, row, saving,
            copying.get((name, key)), stores=not type_cls.read_only)
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

def creation_values(context, type_cls, body, types, artifact_id,
                    foreign=False):
    """The data API values of a new artifact ``artifact_id`` of the
    caller's project, from the fields in ``body``, after every check of a
    creation (policy, writable fields, validation, visibility,
    references; ``foreign`` as in _check_references)."""
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
    _check_references(context, type_cls, artifact_id, values, types,
                      foreign)
    values = _values(type_cls, values)
    values.update(id=artifact_id, type_name=type_cls.name,
                  type_version=type_cls.type_version, owner=context.owner,
                  status='drafted')
    return values


def create(context, type_cls, body, types):
    values = creation_values(context, type_cls, body, types,
                             str(uuid.uuid4()))
    limits = quota.limits(context.owner, [quota.COUNT_TOTAL])
    view = present(type_cls, data_api().artifact_create(context, values,
                                                        limits=limits))
    notifier.notify(context, 'artifact.create', view)
    return view


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


#: A recorded start at or past this is a time since the epoch, as
#: earlier versions recorded it (psutil's create_time()): too uncertain
#: to call a process dead by, so the upload's heartbeat decides.
_EPOCH_STARTS = 10 ** 9
_CLOCK_TICKS = os.sysconf('SC_CLK_TCK')


def _stat(pid):
    """(state, start) of process ``pid`` from /proc/PID/stat: its state
    letter ('Z' for a zombie) and when it started, in seconds since the
    machine booted. Unlike psutil's create_time(), which adds the boot
    time as the wall clock has it now, the start does not move when the
    clock is stepped (NTP, a virtual machine restored from a snapshot):
    a live uploader is never taken for another process. FileNotFoundError
    when there is no such process."""
    with open('/proc/%d/stat' % pid, 'rb') as f:
        # The command name, in parentheses, may hold spaces and ')'.
        fields = f.read().rsplit(b')', 1)[1].split()
    return fields[0].decode(), int(fields[19]) / _CLOCK_TICKS


def _process_alive(process):
    """Whether the process that recorded an upload runs: True, False, or
    None when it ran on another host or the record cannot tell."""
    try:
        host, pid, started = process.rsplit(':', 2)
        pid, started = int(pid), float(started)
    except ValueError:
        return None         # not of this project's making: not ours to say
    if host != socket.gethostname() or started >= _EPOCH_STARTS:
        return None
    try:
        state, start = _stat(pid)
    except (FileNotFoundError, ProcessLookupError):
        return False
    # A killed process stays a zombie until its parent reaps it; another
    # start is another process with the same pid.
    return state != 'Z' and abs(start - started) < 0.005


def this_process():
    """HOST:PID:START of this process, START in seconds since boot."""
    pid = os.getpid()
    return '%s:%d:%.2f' % (socket.gethostname(), pid, _stat(pid)[1])


def clean_stale_uploads(uploads, failures=None):
    """Forget the uploads whose uploader is dead (a process of this host
    that is gone, or no heartbeat for [artifacts] upload_stale_after) and
    delete what they wrote. Returns how many were cleaned. The heartbeat's
    age is the database server's, so that hosts whose clocks differ
    agree. An upload that cannot be forgotten (the data API refused or
    failed) keeps its data; the error is logged, and appended to
    ``failures`` when given."""
    admin = admin_context()
    cleaned = 0
    for up in uploads:
        # Staged data waits for its import, with no process behind it.
        if up.get('method') != 'staged' and (
                _process_alive(up['process']) is False or
                up['idle'] > CONF.artifacts.upload_stale_after):
            try:
                # A dead import of staged data leaves the data staged.
                forgotten = data_api().blob_upload_abort(
                    admin, up['artifact_id'], up['field'], up['key'],
                    up['upload_id'],
                    restage=up.get('method') == 'glance-direct')
            except exception.ERRORS as e:
                LOG.error('Could not clean up dead upload %s of artifact '
                          '%s (its data is kept): %s', up['upload_id'],
                          up['artifact_id'], e)
                if failures is not None:
                    failures.append('dead upload %s: %s: %s' % (
                        up['upload_id'], type(e).__name__, e))
                continue
            if forgotten:
                _delete_partials(up)
                LOG.info('Cleaned up dead upload %s to %s of artifact %s',
                         up['upload_id'], up['field'], up['artifact_id'])
                cleaned += 1
    return cleaned


def _delete_partials(up):
    """Delete what a dead upload, stage, copy or import wrote."""
    if up.get('method') == 'stage':
        store.stage_delete_partial(up['upload_id'])
        return
    backends = [up['backend']]
    if up.get('method') in ('glance-direct', 'web-download'):
        # An import writes to each of its stores in turn.
        backends += [b for b in (up['pending_stores'] or '').split(',')
                     if b]
    for backend in backends:
        store.delete_partial(backend, up['upload_id'])


def clean_all_stale_uploads():
    """At start-up: clean up after uploaders that died."""
    admin = admin_context()
    try:
        return clean_stale_uploads(data_api().blob_upload_list(admin))
    except Exception as e:  # the database may not be there yet
        LOG.warning('Could not look for dead uploads at start-up: %s', e)
        return 0


def kept_for():
    """Seconds that deleted or replaced data is kept (delayed_delete), or
    None to delete it at once."""
    if CONF.artifacts.delayed_delete:
        return CONF.artifacts.scrub_time
    return None


def _check_id(artifact_id):
    if not f.is_uuid(artifact_id):
        raise exception.NotFound(
            "No artifact with id '%s': artifact ids are UUIDs"
            % artifact_id[:64])


def check_owner(context, view):
    policy.authorize(context, 'artifacts:modify_artifact',
                     {'project_id': view['owner'] or '',
                      'owner': view['owner'] or ''})


def check_delete(context, type_cls, view, types):
    """Whether the caller may delete the artifact ``view`` now: policy,
    protection, and no artifact referring to it."""
    artifact_id = view['id']
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


@retry_on_change
def delete(context, type_cls, artifact_id, types):
    record = get_record(context, type_cls, artifact_id)
    view = present(type_cls, record)
    check_delete(context, type_cls, view, types)
    keep_for = kept_for()
    record = data_api().artifact_delete(
        context, artifact_id, type_cls.name,
        expect={'revision': record['revision']}, keep_for=keep_for)
    # The records are gone; now the data, unless it waits as a pending
    # delete. An upload still running notices at its end that its record
    # is gone and deletes what it wrote.
    if keep_for is None:
        for blob in record['blobs']:
            for held in [blob] + blob.get('copies', []):
                store.delete(held['backend'] or None, held['location'])
    for up in record['uploads']:
        if up.get('method') == 'staged':
            # Staged on this host, or on one whose staging store is
            # shared; else it stays in the other host's staging store.
            store.stage_delete(up['location'])
        elif _process_alive(up['process']) is False:
            _delete_partials(up)
    notifier.notify(context, 'artifact.delete', present(type_cls, record))


@retry_on_change
def update(context, type_cls, artifact_id, patch, types):
    """Apply a JSON patch (RFC 6902: add, replace, remove) to the
    artifact as it is when the change is written; ``patch`` may be a
    function that makes it from the artifact's view, then decided on
    each try."""
    record = get_record(context, type_cls, artifact_id)
    view = present(type_cls, record)
    check_owner(context, view)
    if callable(patch):
        patch = patch(view)
    if not isinstance(patch, list):
        raise exception.Invalid('A JSON patch must be a list of '
                                'operations.')
    doc = copy.deepcopy(view)
    touched = set()
    for number, op in enumerate(patch, 1):
        touched.add(_apply(type_cls, doc, op, number))
    changes = checked_changes(context, type_cls, view, {
        name: doc.get(name) for name in touched}, types)
    if not changes:
        return view
    record = data_api().artifact_update(
        context, artifact_id, type_cls.name, _values(type_cls, changes),
        expect={'revision': record['revision']})
    view = present(type_cls, record)
    notifier.notify(context, 'artifact.update', view)
    return view


def checked_changes(context, type_cls, view, new, types, readonly=(),
                    foreign=False):
    """The fields of ``new`` ({name: value}, None for removed) whose
    validated values differ from the artifact ``view``, after every check
    of a change by the caller: policy, writable fields (and the
    ``readonly`` ones that the server fills), fields frozen after
    activation, visibility, references (``foreign`` as in
    _check_references)."""
    check_owner(context, view)
    changes = {}
    for name, value in new.items():
        if name not in readonly:
            _check_writable(type_cls, name)
        field = type_cls.all_fields()[name]
        if value is None and not field.scalar:
            value = field.empty()
        value = _validated(field, name, value)
        if value != view[name]:
            changes[name] = value
    if not changes:
        return changes
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
    _check_references(context, type_cls, view['id'], changes, types,
                      foreign)
    return changes


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
    try:
        parts = jsonpointer.JsonPointer(path).parts
    except jsonpointer.JsonPointerException as e:
        raise exception.Invalid('Operation %d: %s is not a JSON pointer: %s'
                                % (number, path[:255], e))
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


def list_artifacts(context, type_cls, params, types):
    """One page of visible artifacts of ``type_cls`` (of every type in
    ``types`` for base.AnyType), and whether there may be more.

    ``params`` is the request's query (a webob MultiDict).
    """
    policy.authorize(context, 'artifacts:list_artifacts', {})
    query = queries.parse(type_cls, params, types)
    records = data_api().artifact_list(context, **query)
    # The all pseudo-type shows the fields every artifact has.
    views = [present(type_cls if type_cls is base.AnyType
                     else types[r['type_name']], r) for r in records]
    return views, len(records) == query['limit'] and query['limit'] > 0


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


def _check_references(context, type_cls, artifact_id, values, types,
                      foreign=False):
    """Every id that the reference fields in ``values`` hold names a
    visible artifact of an allowed type and version, and refers back
    neither to this artifact nor, through others, to it. ``foreign``: an
    id that the data API does not know is taken as checked elsewhere (the
    registry, which never sees Glance's images, on glance-api's word:
    glance-api found them among the images)."""
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
                if foreign:
                    continue
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
    (whoever may see them), at any depth."""
    return data_api().artifact_reaches(admin_context(), start, goal,
                                       reference_fields(types))


# -- tags --------------------------------------------------------------------

def check_tag(context, view, tag):
    """Whether the caller may add ``tag`` to the artifact ``view``."""
    check_owner(context, view)
    field = base.COMMON_FIELDS['tags']
    _validated(field.element, 'tag', tag)
    if tag not in view['tags'] and len(view['tags']) >= field.max_count:
        raise exception.TooLarge('Maximum tag count of %d exceeded.'
                                 % field.max_count)


@retry_on_change
def add_tag(context, type_cls, artifact_id, tag):
    record = get_record(context, type_cls, artifact_id)
    check_tag(context, present(type_cls, record), tag)
    data_api().artifact_tag_add(context, artifact_id, type_cls.name, tag,
                                expect={'revision': record['revision']})


def delete_tag(context, type_cls, artifact_id, tag):
    view = get(context, type_cls, artifact_id)
    check_owner(context, view)
    data_api().artifact_tag_delete(context, artifact_id, type_cls.name, tag)
