"""Glance's images as the records of the read-only artifact type
``images``, and the data API that shows them beside the artifacts.

Images are read through Glance's own database API (``glance.db.get_api()``)
with the caller's context, so which images a caller sees (visibility,
members, ``os_hidden``) is Glance's decision, not a copy of it. Nothing
here writes an image: images change through /v2/images.

A list pushes to Glance what Glance's ``image_get_all`` filters exactly
(equality on name, id, owner, formats, checksums, protected, tags and
properties; time comparisons; visibility), and checks every filter again
on each image, with the artifact semantics of the operators. Lists in
the order of creation (the default) read Glance page by page and stop
when the page is full; other orders and ``version=latest`` read every
image that the pushed filters leave, since Glance cannot order by an
artifact version. ``WithImages`` merges images into the list of every
type (``/v2/artifacts/all``) and finds them by id for references.
"""

import datetime
import functools

from oslo_utils import timeutils

from glance.artifacts import semver
from glance.common import exception as glance_exception
from glance.db.artifacts import errors

TYPE_NAME = 'images'
TYPE_VERSION = '1.0'
#: The image property that holds an image's artifact version (SemVer);
#: an image without it, or with a value that is no SemVer, is 0.0.0.
VERSION_PROPERTY = 'artifact_version'
#: The image property shown as the artifact's description.
DESCRIPTION_PROPERTY = 'description'
DEFAULT_VERSION = '0.0.0'
#: The type fields of an image and the storage column of their values.
FIELDS = {'disk_format': 'str_value', 'container_format': 'str_value',
          'size': 'int_value', 'virtual_size': 'int_value',
          'checksum': 'str_value', 'os_hash_algo': 'str_value',
          'os_hash_value': 'str_value', 'min_disk': 'int_value',
          'min_ram': 'int_value', 'os_hidden': 'bool_value',
          'image_status': 'str_value'}
#: The artifact status of an image status; the others are "drafted"
#: (queued, saving, uploading, importing: no data yet).
STATUSES = {'active': 'active', 'deactivated': 'deactivated'}
#: Images read from Glance per statement.
BATCH = 500


def glance_db():
    from glance import db as glance_db_module
    return glance_db_module.get_api()


# -- images -> records -------------------------------------------------------

def _version(properties):
    version = properties.get(VERSION_PROPERTY)
    if version is None:
        return DEFAULT_VERSION
    try:
        semver.sort_key(version)
    except semver.InvalidVersion:
        return DEFAULT_VERSION
    return version


def _record(image, tags):
    properties = {p['name']: p['value'] for p in image['properties']
                  if not p['deleted']}
    values = {name: image.get(name) for name in FIELDS}
    values['image_status'] = image['status']
    version = _version(properties)
    blobs = []
    if image['status'] in STATUSES and image['size'] is not None:
        blobs.append({'field': 'data', 'key': '', 'status': 'active',
                      'size': image['size'], 'checksum': image['checksum'],
                      'os_hash_algo': image['os_hash_algo'],
                      'os_hash_value': image['os_hash_value'],
                      'content_type': 'application/octet-stream',
                      'location': None, 'backend': ''})
    return {
        'id': image['id'], 'type_name': TYPE_NAME,
        'type_version': TYPE_VERSION, 'name': image['name'],
        'version': version, 'version_key': semver.sort_key(version),
        'description': properties.get(DESCRIPTION_PROPERTY),
        'owner': image['owner'], 'visibility': image['visibility'],
        'status': STATUSES.get(image['status'], 'drafted'),
        'protected': bool(image['protected']),
        'created_at': image['created_at'], 'updated_at': image['updated_at'],
        'activated_at': None, 'revision': 0, 'tags': sorted(tags),
        'metadata': properties,
        'properties': [{'name': name, 'position': None, 'key': None,
                        column: values[name]}
                       for name, column in sorted(FIELDS.items())
                       if values[name] is not None],
        'blobs': blobs, 'uploads': []}


def image_get(context, image_id):
    """The image ``image_id`` as an artifact record, if Glance lets the
    context see it (an image hidden from lists is still found by id);
    else NotFound."""
    db = glance_db()
    try:
        image = db.image_get(context, image_id)
        tags = db.image_tag_get_all(context, image_id)
    except (glance_exception.NotFound, glance_exception.Forbidden):
        raise errors.NotFound('no image with id %s' % image_id)
    return _record(image, tags)


# -- filters -----------------------------------------------------------------

def _typed(value, values):
    if isinstance(value, datetime.datetime):
        return [timeutils.normalize_time(timeutils.parse_isotime(v))
                if isinstance(v, str) else v for v in values]
    return values


_OPS = {'eq': lambda v, vs: v == vs[0], 'neq': lambda v, vs: v != vs[0],
        'in': lambda v, vs: v in vs, 'lt': lambda v, vs: v < vs[0],
        'lte': lambda v, vs: v <= vs[0], 'gt': lambda v, vs: v > vs[0],
        'gte': lambda v, vs: v >= vs[0]}


def _held(record, spec):
    where = spec['where']
    if where == 'tag':
        return record['tags']
    if where == 'metadata':
        value = record['metadata'].get(spec['key'])
        return [] if value is None else [value]
    if spec.get('key') is not None:
        return []       # image fields hold no lists or dicts
    return [row[spec['column']] for row in record['properties']
            if row['name'] == spec['field'] and
            row.get(spec['column']) is not None]


def matches(record, spec):
    """Whether a record passes one filter of the data API, with the
    semantics of the SQL the artifacts get: a null never matches; for
    values held in rows, neq means that none equals."""
    op, values = spec['op'], spec['values']
    if spec['where'] == 'column':
        value = record[spec['column']]
        if value is None:
            return False
        try:
            return _OPS[op](value, _typed(value, values))
        except TypeError:
            return False
    held = _held(record, spec)
    if op == 'neq':
        return not any(h == values[0] for h in held)
    try:
        return any(_OPS[op](h, values) for h in held)
    except TypeError:
        return False


def _pushed(filters):
    """The part of ``filters`` that Glance's image_get_all applies
    exactly, as its filters; and the visibility to ask for."""
    pushed = {'deleted': False}
    visibility = None
    hidden = False
    for spec in filters:
        where, op, values = spec['where'], spec['op'], spec['values']
        if where == 'column':
            column = spec['column']
            if column == 'visibility':
                visibility = values[0] if op == 'eq' else 'all'
            elif column in ('name', 'id') and op == 'eq':
                # "eq:" so that a name with a colon is not read as an
                # operator.
                pushed[column] = 'eq:' + values[0]
            elif column == 'owner' and op == 'eq':
                pushed['owner'] = values[0]
            elif column == 'protected' and op == 'eq':
                pushed['protected'] = values[0]
            elif column in ('created_at', 'updated_at') and \
                    op != 'in' and column not in pushed:
                pushed[column] = '%s:%s' % (op, values[0])
        elif where == 'tag' and op == 'eq':
            pushed.setdefault('tags', []).append(values[0])
        elif where == 'metadata' and op == 'eq':
            pushed.setdefault('properties', {})[spec['key']] = values[0]
        elif where == 'property':
            field = spec['field']
            if field == 'os_hidden':
                hidden = True
                if op == 'eq':
                    pushed['os_hidden'] = values[0]
            elif op == 'eq' and field in ('disk_format', 'container_format'):
                pushed[field] = 'eq:' + values[0]
            elif op == 'eq' and field in ('checksum', 'os_hash_value'):
                pushed[field] = values[0]
    if not hidden:
        # As GET /v2/images: hidden images are listed only when asked for.
        pushed['os_hidden'] = False
    if visibility is not None:
        pushed['visibility'] = visibility
    return pushed


# -- order -------------------------------------------------------------------

def _sort_value(record, sort):
    if sort['where'] == 'column':
        return record[sort['column']]
    values = [row[sort['column']] for row in record['properties']
              if row['name'] == sort['field']]
    return values[0] if values else None


def sort_keys(sorts):
    """[(sort spec, direction)] of a list's order: ``sorts`` and then id,
    as the data API orders."""
    keys = [(s, s['dir']) for s in sorts]
    if not any(s['where'] == 'column' and s['column'] == 'id'
               for s in sorts):
        keys.append(({'where': 'column', 'column': 'id'},
                     sorts[-1]['dir'] if sorts else 'desc'))
    return keys


def key_values(record, keys):
    """The values of a record's sort keys (a marker's, for the data API's
    marker_values)."""
    return [_sort_value(record, s) for s, _dir in keys]


def _compare(keys, a, b):
    """Compare two lists of key values in the order of ``keys``: nulls
    last in either direction, as the data API orders."""
    for (_s, direction), x, y in zip(keys, a, b):
        if x == y:
            continue
        if x is None or y is None:
            return 1 if x is None else -1
        less = x < y
        return (-1 if less else 1) * (1 if direction == 'asc' else -1)
    return 0


def ordered(records, keys):
    return sorted(records, key=functools.cmp_to_key(
        lambda a, b: _compare(keys, key_values(a, keys),
                              key_values(b, keys))))


def _by_creation(keys):
    """The direction when a list is in the order of creation (what
    Glance pages by), else None."""
    columns = [s.get('column') if s['where'] == 'column' else None
               for s, _d in keys]
    directions = {d for _s, d in keys}
    if columns == ['created_at', 'id'] and len(directions) == 1:
        return directions.pop()
    return None


# -- lists -------------------------------------------------------------------

def _pages(context, pushed, direction, marker, member_status):
    """Images that pass ``pushed``, in the order of creation, after the
    image ``marker``, read BATCH at a time."""
    db = glance_db()
    while True:
        try:
            images = db.image_get_all(
                context, filters=dict(pushed), marker=marker, limit=BATCH,
                sort_key=['created_at', 'id'],
                sort_dir=[direction, direction],
                member_status=member_status or 'all', return_tag=True)
        except (glance_exception.NotFound, glance_exception.Forbidden):
            raise errors.InvalidMarker('marker %s is not an image of this '
                                       'list' % marker)
        for image in images:
            yield _record(image, image['tags'])
        if len(images) < BATCH:
            return
        marker = images[-1]['id']


def image_list(context, filters=(), sorts=(), limit=25, marker=None,
               latest=False, member_status='accepted', after=None):
    """Images as the data API's artifact_list lists artifacts; ``after``
    (the key values of a record that is not an image, in the order of
    sort_keys(sorts)) starts the list after it instead of a marker."""
    keys = sort_keys(sorts)
    filters = [f for f in filters
               if not (f['where'] == 'column' and
                       f['column'] == 'type_name')]
    pushed = _pushed(filters)
    start = None
    if marker is not None:
        try:
            marked = image_get(context, marker)
        except errors.NotFound:
            marked = None
        if marked is None or not all(matches(marked, f) for f in filters) \
                or (marked['visibility'] == 'community' and
                    not context.is_admin and
                    marked['owner'] != context.owner and
                    'visibility' not in pushed):
            raise errors.InvalidMarker('marker %s is not an image of this '
                                       'list' % marker)
        after = key_values(marked, keys)
        start = marker
    direction = _by_creation(keys)
    if direction is not None and not latest:
        if after is not None and start is None:
            # Start reading Glance where the foreign marker's time is.
            bound = after[0].isoformat()
            pushed.setdefault('created_at', '%s:%s' % (
                'lte' if direction == 'desc' else 'gte', bound))
        found = []
        for record in _pages(context, pushed, direction, start,
                             member_status):
            if found and len(found) >= limit:
                break
            if not all(matches(record, f) for f in filters):
                continue
            if after is not None and start is None and _compare(
                    keys, key_values(record, keys), after) <= 0:
                continue
            found.append(record)
        return found[:limit]
    records = [r for r in _pages(context, pushed, 'desc', None,
                                 member_status)
               if all(matches(r, f) for f in filters)]
    if latest:
        highest = {}
        for r in records:
            highest[r['name']] = max(highest.get(r['name'], ''),
                                     r['version_key'])
        records = [r for r in records
                   if r['version_key'] == highest[r['name']]]
    records = ordered(records, keys)
    if after is not None:
        records = [r for r in records
                   if _compare(keys, key_values(r, keys), after) > 0]
    return records[:limit]


# -- the data API with images ------------------------------------------------

def _includes_images(filters):
    probe = {'type_name': TYPE_NAME}
    return all(matches(probe, f) for f in filters
               if f['where'] == 'column' and f['column'] == 'type_name')


class WithImages(object):
    """A data API (``api``) that also finds images: by id when no type is
    asked for (references), as the type ``images``, and among the
    artifacts of every type. Everything else is ``api``'s."""

    def __init__(self, api):
        self.api = api

    def __getattr__(self, name):
        return getattr(self.api, name)

    def artifact_get(self, context, artifact_id, type_name=None):
        if type_name == TYPE_NAME:
            return image_get(context, artifact_id)
        try:
            return self.api.artifact_get(context, artifact_id, type_name)
        except errors.NotFound:
            if type_name is not None:
                raise
        return image_get(context, artifact_id)

    def artifact_list(self, context, type_name, filters=(), sorts=(),
                      limit=25, marker=None, latest=False,
                      member_status='accepted'):
        if type_name == TYPE_NAME:
            return image_list(context, filters, sorts, limit, marker,
                              latest, member_status)
        if type_name is not None or not _includes_images(filters):
            return self.api.artifact_list(
                context, type_name, filters, sorts, limit, marker, latest,
                member_status)
        keys = sort_keys(sorts)
        after = None
        own_marker = marker
        if marker is not None:
            try:
                marked = self.api.artifact_get(context, marker)
                marked['version_key'] = semver.sort_key(marked['version'])
            except errors.NotFound:
                marked = None
            if marked is None:
                # An image: the artifacts start after its key values.
                marked = image_get(context, marker)
                own_marker = None
                images = image_list(context, filters, sorts, limit, marker,
                                    latest, member_status)
            after = key_values(marked, keys)
        if own_marker is not None or marker is None:
            images = image_list(context, filters, sorts, limit, None,
                                latest, member_status, after=after)
        artifacts = self.api.artifact_list(
            context, None, filters, sorts, limit, own_marker, latest,
            member_status, **({'marker_values': after}
                              if marker is not None and own_marker is None
                              else {}))
        for record in artifacts:
            record['version_key'] = semver.sort_key(record['version'])
        merged = ordered(artifacts + images, keys)[:limit]
        for record in merged:
            record.pop('version_key', None)
        return merged
