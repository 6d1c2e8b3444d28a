"""List queries: the query string of GET /v2/artifacts/{type}, checked
against the type's declaration and turned into data API arguments.

Filters are ``field=[op:]value`` (as images, with Glance's own operator
and quoting helpers; ``like:`` takes an SQL LIKE pattern on string
fields), ``DICTFIELD.KEY=``, ``metadata.KEY=``, repeated ``tags=`` (every
tag), ``tags-any=`` (one of the tags, comma-separated as ``in:``),
``version=latest``; sorting is ``sort=key:dir,...`` or
``sort_key``/``sort_dir``; pages are ``limit`` and ``marker``.
"""

from oslo_config import cfg

from glance.artifacts import exception
from glance.artifacts import fields as f
from glance.artifacts.types import base
from glance.common import exception as glance_exception
from glance.common import utils as glance_utils

CONF = cfg.CONF
MAX_FILTERS = 64
MAX_IN_VALUES = 500
MAX_SORT_KEYS = 8
PAGING = ('limit', 'marker', 'sort', 'sort_key', 'sort_dir',
          'member_status')


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
    if op == 'like':
        try:
            f.like_parts(text)
        except f.InvalidValue as e:
            raise exception.Invalid("Invalid like: pattern for '%s': %s"
                                    % (name, e))
        return [text]
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
        return {'where': 'tag', 'op': 'eq',
                'values': _operands(fields['tags'].element, 'eq', text, key)}
    if key == 'tags-any':
        return {'where': 'tag', 'op': 'in',
                'values': _operands(fields['tags'].element, 'in', text, key)}
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
    if sub:
        try:
            f.check_key(sub, f.Dict.KEY_MAX)
        except f.InvalidValue as e:
            raise exception.Invalid("Invalid filter '%s': %s"
                                    % (key[:64], e))
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
            values = [f.parse_datetime(v).isoformat() for v in values]
        return {'where': 'column', 'column': column, 'op': op,
                'values': values}
    element = field.element if not field.scalar else field
    return {'where': 'property', 'field': name, 'column': field.column,
            'key': sub or None, 'op': op,
            'values': _operands(element, op, value, key)}


def parse(type_cls, params, types):
    """Keyword arguments of the data API's artifact_list for ``params``
    (the request's query, a webob MultiDict), or exception.Invalid."""
    fields = type_cls.all_fields()
    marker = params.get('marker')
    if marker is not None and not f.is_uuid(marker):
        raise exception.Invalid("marker must be an artifact id (a UUID), "
                                "not '%s'" % marker[:64])
    member_status = params.get('member_status', 'accepted')
    if member_status not in base.MEMBER_STATUSES + ('all',):
        raise exception.Invalid(
            "member_status must be one of %s, not '%s'"
            % (', '.join(base.MEMBER_STATUSES + ('all',)), member_status[:32]))
    filters = [_filter_spec(fields, key, text)
               for key, text in params.items()
               if key not in PAGING and (key, text) != ('version', 'latest')]
    if len(filters) > MAX_FILTERS:
        raise exception.Invalid('At most %d filters per request.'
                                % MAX_FILTERS)
    type_name = type_cls.name
    if type_cls is base.AnyType:
        type_name = None
        filters.append({'where': 'column', 'column': 'type_name',
                        'op': 'in', 'values': sorted(types)})
    return {'type_name': type_name, 'filters': filters,
            'sorts': _sorts(fields, params), 'limit': _limit(params),
            'marker': marker,
            'latest': ('version', 'latest') in params.items(),
            'member_status': (None if member_status == 'all'
                              else member_status)}
