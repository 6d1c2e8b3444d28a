"""Field kinds that artifact types are declared with.

A field is a declaration: its kind and its flags. Everything else follows
from it: validating a value (``validate``), the JSON schema (``schema``),
whether and how lists filter and sort on it, and the column a value is
stored in (``column``). Type modules only instantiate these classes.
"""

import math
import re
import uuid

from oslo_utils import timeutils

from glance.artifacts import semver

#: How lists may compare a field, by the storage column of its values.
EQUALITY_OPS = ('eq', 'neq', 'in')
ORDER_OPS = ('eq', 'neq', 'in', 'lt', 'lte', 'gt', 'gte')
STRING_OPS = ORDER_OPS + ('like',)

STRING_MAX = 255
TEXT_MAX = 65535
INT_MIN = -(2 ** 63)
INT_MAX = 2 ** 63 - 1


class InvalidValue(ValueError):
    """A value does not match its field declaration; the text says why."""


class DeclarationError(TypeError):
    """A type declares a field in a way that cannot work."""


class Field(object):
    """A field of an artifact type.

    :param required: a value must be given at creation (and stays non-null)
    :param mutable: the value may change after the artifact is activated
    :param required_on_activate: activation needs a value
    :param sortable: lists may sort on it
    :param filterable: lists may filter on it
    :param default: the value of a new artifact that does not give one
    :param allowed_values: the only values accepted
    :param validators: callables that take a value and raise ValueError
        with a message when it is not acceptable
    :param description: shown in the JSON schema
    :param readonly: clients never write it: the server fills it (the
        common fields such as status, or a blob's inspector)
    """

    kind = None
    json_type = None
    column = None            # storage column of a value, see models
    ops = EQUALITY_OPS
    scalar = True

    def __init__(self, required=False, mutable=False,
                 required_on_activate=False, sortable=False,
                 filterable=False, default=None, allowed_values=None,
                 validators=(), description=None, readonly=False):
        self.required = required
        self.mutable = mutable
        self.required_on_activate = required_on_activate
        self.sortable = sortable
        self.filterable = filterable
        self.allowed_values = (list(allowed_values)
                               if allowed_values is not None else None)
        self.validators = tuple(validators)
        self.description = description
        self.readonly = readonly
        if sortable and not self.scalar:
            raise DeclarationError('a %s field cannot be sortable'
                                   % self.kind)
        if (sortable or filterable) and self.column is None:
            raise DeclarationError('a %s field cannot be sorted or '
                                   'filtered on' % self.kind)
        self.default = (self.validate(default)
                        if default is not None else None)

    # -- validation -------------------------------------------------------

    def _check(self, value):
        """Kind-specific check and normalisation of a non-null value."""
        raise NotImplementedError

    def validate(self, value):
        """Return the normalised value or raise InvalidValue."""
        if value is None:
            if self.required:
                raise InvalidValue('a value is required')
            return None
        value = self._check(value)
        if self.allowed_values is not None and value not in \
                self.allowed_values:
            raise InvalidValue('%s is not one of the allowed values %s'
                               % (_show(value), ', '.join(
                                   _show(v) for v in self.allowed_values)))
        for validator in self.validators:
            try:
                validator(value)
            except ValueError as e:
                raise InvalidValue(str(e))
        return value

    def initial(self):
        """The value of a new artifact that gives none."""
        return self.default

    # -- schema -----------------------------------------------------------

    def _schema(self):
        return {'type': self.json_type}

    def schema(self):
        s = self._schema()
        if not self.required and self.scalar:
            s['type'] = [s['type'], 'null']
        if self.allowed_values is not None:
            s['enum'] = list(self.allowed_values)
            if not self.required:
                s['enum'].append(None)
        if self.description:
            s['description'] = self.description
        if self.readonly:
            s['readOnly'] = True
        if self.default is not None:
            s['default'] = self.default
        flags = [f for f in ('mutable', 'required_on_activate', 'sortable',
                             'filterable') if getattr(self, f)]
        if flags:
            s['x-glance-artifacts'] = flags
        return s

    # -- storage and filters ----------------------------------------------

    def to_storage(self, value):
        return value

    def from_storage(self, value):
        return value

    def parse_filter(self, text):
        """Turn a query-string value into a stored value to compare with."""
        return self.to_storage(self.validate(text))


#: The longest pattern of a like: filter (every character of the longest
#: string escaped).
LIKE_MAX = 2 * STRING_MAX
#: The wildcards of like_parts.
ANY_CHARS, ONE_CHAR = ('%',), ('_',)


def like_parts(pattern):
    """The parts of a like: filter's pattern (SQL LIKE, escaped with
    backslash): ANY_CHARS ('%'), ONE_CHAR ('_'), and the literal strings
    between them. InvalidValue for a backslash that does not escape %, _
    or another backslash, or a pattern that is too long or not
    storable."""
    check_storable(pattern)
    if len(pattern) > LIKE_MAX:
        raise InvalidValue('a pattern has at most %d characters, got %d'
                           % (LIKE_MAX, len(pattern)))
    parts = []
    literal = []
    chars = iter(pattern)
    for c in chars:
        if c == '\\':
            escaped = next(chars, None)
            if escaped not in ('%', '_', '\\'):
                raise InvalidValue("in a pattern a backslash escapes %, _ or "
                                   "a backslash, as \\%, \\_ or \\\\")
            literal.append(escaped)
        elif c in '%_':
            if literal:
                parts.append(''.join(literal))
                literal = []
            parts.append(ANY_CHARS if c == '%' else ONE_CHAR)
        else:
            literal.append(c)
    if literal:
        parts.append(''.join(literal))
    return parts


def check_storable(text):
    """``text`` if every database can store it: no NUL character and no
    lone surrogate (a JSON escape such as \\ud800 that is no character)."""
    if '\x00' in text:
        raise InvalidValue('must not contain NUL characters')
    try:
        text.encode('utf-8')
    except UnicodeEncodeError as e:
        raise InvalidValue('must not contain lone surrogates (such as '
                           '\\u%04x at position %d): they are no characters'
                           % (ord(text[e.start]), e.start))
    return text


def _show(value):
    return "'%s'" % value if isinstance(value, str) else str(value)


class String(Field):
    kind = 'string'
    json_type = 'string'
    column = 'str_value'
    ops = STRING_OPS

    def __init__(self, min_length=0, max_length=STRING_MAX, **flags):
        if not 0 <= min_length <= max_length <= STRING_MAX:
            raise DeclarationError('string lengths must satisfy 0 <= '
                                   'min_length <= max_length <= %d'
                                   % STRING_MAX)
        self.min_length = min_length
        self.max_length = max_length
        super(String, self).__init__(**flags)

    def _check(self, value):
        if not isinstance(value, str):
            raise InvalidValue('expected a string, got %s'
                               % _json_name(value))
        if len(value) < self.min_length:
            raise InvalidValue('must have at least %d characters'
                               % self.min_length)
        if len(value) > self.max_length:
            raise InvalidValue('must have at most %d characters, got %d'
                               % (self.max_length, len(value)))
        return check_storable(value)

    def _schema(self):
        s = {'type': 'string', 'maxLength': self.max_length}
        if self.min_length:
            s['minLength'] = self.min_length
        return s


class Text(String):
    """Long text: stored whole, never sorted or filtered on."""
    kind = 'text'
    column = 'text_value'
    ops = ()

    def __init__(self, min_length=0, max_length=TEXT_MAX, **flags):
        if not 0 <= min_length <= max_length <= TEXT_MAX:
            raise DeclarationError('text lengths must satisfy 0 <= '
                                   'min_length <= max_length <= %d'
                                   % TEXT_MAX)
        if flags.get('sortable') or flags.get('filterable'):
            raise DeclarationError('a text field cannot be sorted or '
                                   'filtered on; use a string field')
        self.min_length = min_length
        self.max_length = max_length
        Field.__init__(self, **flags)


_INTEGER = re.compile(r'[-+]?[0-9]+')
_NUMBER = re.compile(r'[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?')


class Integer(Field):
    kind = 'integer'
    json_type = 'integer'
    column = 'int_value'
    ops = ORDER_OPS

    def __init__(self, min_value=INT_MIN, max_value=INT_MAX, **flags):
        if not INT_MIN <= min_value <= max_value <= INT_MAX:
            raise DeclarationError('integer bounds must lie in 64 bits')
        self.min_value = min_value
        self.max_value = max_value
        super(Integer, self).__init__(**flags)

    def _check(self, value):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidValue('expected an integer, got %s'
                               % _json_name(value))
        if not self.min_value <= value <= self.max_value:
            raise InvalidValue('must be between %d and %d'
                               % (self.min_value, self.max_value))
        return value

    def _schema(self):
        return {'type': 'integer', 'minimum': self.min_value,
                'maximum': self.max_value}

    def parse_filter(self, text):
        if not _INTEGER.fullmatch(text):
            raise InvalidValue("'%s' is not an integer" % text[:64])
        if len(text) > 20:
            raise InvalidValue('must be between %d and %d'
                               % (self.min_value, self.max_value))
        return self.validate(int(text))


class Number(Field):
    kind = 'number'
    json_type = 'number'
    column = 'num_value'
    ops = ORDER_OPS

    def __init__(self, min_value=None, max_value=None, **flags):
        self.min_value = min_value
        self.max_value = max_value
        super(Number, self).__init__(**flags)

    def _check(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidValue('expected a number, got %s'
                               % _json_name(value))
        try:
            value = float(value)
        except OverflowError:
            raise InvalidValue('is too large for a number')
        if not math.isfinite(value):
            raise InvalidValue('must be a finite number')
        if self.min_value is not None and value < self.min_value:
            raise InvalidValue('must be at least %s' % self.min_value)
        if self.max_value is not None and value > self.max_value:
            raise InvalidValue('must be at most %s' % self.max_value)
        return value

    def _schema(self):
        s = {'type': 'number'}
        if self.min_value is not None:
            s['minimum'] = self.min_value
        if self.max_value is not None:
            s['maximum'] = self.max_value
        return s

    def parse_filter(self, text):
        if not _NUMBER.fullmatch(text):
            raise InvalidValue("'%s' is not a number" % text[:64])
        return self.validate(float(text))


class Boolean(Field):
    kind = 'boolean'
    json_type = 'boolean'
    column = 'bool_value'

    def _check(self, value):
        if not isinstance(value, bool):
            raise InvalidValue('expected true or false, got %s'
                               % _json_name(value))
        return value

    def parse_filter(self, text):
        lowered = text.lower()
        if lowered not in ('true', 'false'):
            raise InvalidValue("'%s' is not true or false" % text)
        return lowered == 'true'


class DateTime(Field):
    """A point in time, given as ISO 8601 and shown in UTC as
    YYYY-MM-DDTHH:MM:SS.ffffffZ, between years 1 and 9999 in UTC."""
    kind = 'datetime'
    json_type = 'string'
    column = 'str_value'
    ops = ORDER_OPS

    def _check(self, value):
        if not isinstance(value, str):
            raise InvalidValue('expected an ISO 8601 string, got %s'
                               % _json_name(value))
        return format_datetime(parse_datetime(value))

    def _schema(self):
        return {'type': 'string', 'format': 'date-time'}


def parse_datetime(text):
    """The naive UTC datetime of an ISO 8601 string, or InvalidValue."""
    try:
        parsed = timeutils.parse_isotime(text)
        if parsed.tzinfo is not None:
            parsed = timeutils.normalize_time(parsed)
    except (ValueError, OverflowError):
        raise InvalidValue("'%s' is not an ISO 8601 date and time between "
                           "years 1 and 9999 in UTC" % text[:64])
    return parsed


def format_datetime(value):
    """ISO 8601 in UTC, with a fixed width (years zero-padded to four
    digits) so that text order is time order."""
    if value.tzinfo is not None:
        value = timeutils.normalize_time(value)
    return '%04d-%02d-%02dT%02d:%02d:%02d.%06dZ' % (
        value.year, value.month, value.day, value.hour, value.minute,
        value.second, value.microsecond)


class SemVer(Field):
    """A Semantic Version 2.0 string; lists compare it by precedence."""
    kind = 'semver'
    json_type = 'string'
    column = 'str_value'
    ops = ORDER_OPS

    def _check(self, value):
        try:
            semver.sort_key(value)
        except semver.InvalidVersion as e:
            raise InvalidValue(str(e))
        return value

    def _schema(self):
        return {'type': 'string', 'maxLength': semver.MAX_LENGTH,
                'pattern': semver._SEMVER.pattern}

    # Stored as "<precedence key> <version>": the key orders, the rest
    # gives the value back exactly.
    def to_storage(self, value):
        return '%s %s' % (semver.sort_key(value), value)

    def from_storage(self, value):
        return value.split(' ', 1)[1]

    def parse_filter(self, text):
        return semver.sort_key(self.validate(text))


class Reference(Field):
    """The id of another artifact, of one of ``allowed_types`` (any enabled
    type when empty) and, when ``versions`` is given (such as
    ">=1.0.0,<2.0.0"), with a version in that range."""
    kind = 'reference'
    json_type = 'string'
    column = 'str_value'

    def __init__(self, allowed_types=(), versions=None, **flags):
        self.allowed_types = list(allowed_types)
        self.versions = versions
        self._bounds = parse_version_range(versions) if versions else []
        super(Reference, self).__init__(**flags)

    def version_allowed(self, version):
        key = semver.sort_key(version)
        return all(_RANGE_OPS[op](key, bound) for op, bound in self._bounds)

    def _check(self, value):
        if not is_uuid(value):
            raise InvalidValue("%s is not an artifact id (a UUID)"
                               % (_show(value[:64]) if isinstance(value, str)
                                  else _json_name(value)))
        return str(uuid.UUID(value))

    def _schema(self):
        s = {'type': 'string', 'format': 'uuid'}
        if self.allowed_types:
            s['x-allowed-types'] = self.allowed_types
        if self.versions:
            s['x-allowed-versions'] = self.versions
        return s


_RANGE_OPS = {'>=': lambda a, b: a >= b, '>': lambda a, b: a > b,
              '<=': lambda a, b: a <= b, '<': lambda a, b: a < b,
              '==': lambda a, b: a == b}
_RANGE_ITEM = re.compile(r'\s*(>=|<=|==|>|<)\s*(\S+)\s*')


def parse_version_range(text):
    """[(op, version key)] of a range such as ">=1.0.0,<2.0.0"."""
    bounds = []
    for item in text.split(','):
        match = _RANGE_ITEM.fullmatch(item)
        if match is None:
            raise DeclarationError('invalid version range %r: use '
                                   'comparisons such as >=1.0.0,<2.0.0'
                                   % text)
        try:
            bounds.append((match.group(1), semver.sort_key(match.group(2))))
        except semver.InvalidVersion as e:
            raise DeclarationError('invalid version range %r: %s'
                                   % (text, e))
    return bounds


_UUID = re.compile(r'[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?'
                   r'[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}')


def is_uuid(value):
    return isinstance(value, str) and bool(_UUID.fullmatch(value))


class Collection(Field):
    """Base of List and Dict: values of one scalar element kind."""
    scalar = False

    def __init__(self, element=None, min_count=0, max_count=255, **flags):
        self.element = element if element is not None else String()
        if not self.element.scalar or isinstance(self.element, Blob):
            raise DeclarationError('%s elements must be scalar fields'
                                   % self.kind)
        if not 0 <= min_count <= max_count:
            raise DeclarationError('counts must satisfy 0 <= min_count <= '
                                   'max_count')
        self.min_count = min_count
        self.max_count = max_count
        self.column = self.element.column
        self.ops = self.element.ops
        super(Collection, self).__init__(**flags)

    def initial(self):
        return self.default if self.default is not None else self.empty()

    def validate(self, value):
        if value is None:
            if self.required:
                raise InvalidValue('a value is required')
            return self.empty()
        return super(Collection, self).validate(value)

    def _count(self, n):
        if n < self.min_count:
            raise InvalidValue('must have at least %d items'
                               % self.min_count)
        if n > self.max_count:
            raise InvalidValue('must have at most %d items, got %d'
                               % (self.max_count, n))

    def _element(self, value, where):
        if value is None:
            raise InvalidValue('%s: null is not a value of a %s'
                               % (where, self.kind))
        try:
            return self.element.validate(value)
        except InvalidValue as e:
            raise InvalidValue('%s: %s' % (where, e))

    def parse_filter(self, text):
        return self.element.parse_filter(text)


class List(Collection):
    kind = 'list'
    json_type = 'array'

    def empty(self):
        return []

    def _check(self, value):
        if not isinstance(value, list):
            raise InvalidValue('expected a list, got %s' % _json_name(value))
        self._count(len(value))
        return [self._element(v, 'item %d' % i) for i, v in enumerate(value)]

    def _schema(self):
        return {'type': 'array', 'items': self.element.schema(),
                'minItems': self.min_count, 'maxItems': self.max_count}


class Dict(Collection):
    kind = 'dict'
    json_type = 'object'
    KEY_MAX = 255

    def empty(self):
        return {}

    def _check(self, value):
        if not isinstance(value, dict):
            raise InvalidValue('expected an object, got %s'
                               % _json_name(value))
        self._count(len(value))
        result = {}
        for key, item in value.items():
            check_key(key, self.KEY_MAX)
            result[key] = self._element(item, "key '%s'" % key)
        return result

    def _schema(self):
        return {'type': 'object',
                'additionalProperties': self.element.schema(),
                'propertyNames': {'minLength': 1,
                                  'maxLength': self.KEY_MAX},
                'minProperties': self.min_count,
                'maxProperties': self.max_count}


def check_key(key, max_length):
    """A dict key: 1..max_length storable characters, no slash."""
    if not 1 <= len(key) <= max_length:
        raise InvalidValue('keys must have 1 to %d characters' % max_length)
    if '/' in key:
        raise InvalidValue("key '%s' must not contain '/'" % key[:64])
    try:
        return check_storable(key)
    except InvalidValue as e:
        raise InvalidValue('key %d characters long: %s' % (len(key), e))


class ReferenceList(List):
    kind = 'reference_list'

    def __init__(self, allowed_types=(), versions=None, **flags):
        super(ReferenceList, self).__init__(
            element=Reference(allowed_types=allowed_types,
                              versions=versions), **flags)


class ReferenceDict(Dict):
    kind = 'reference_dict'

    def __init__(self, allowed_types=(), versions=None, **flags):
        super(ReferenceDict, self).__init__(
            element=Reference(allowed_types=allowed_types,
                              versions=versions), **flags)


def reference_of(field):
    """The Reference declaration of a reference field (or of its items),
    else None."""
    if isinstance(field, Reference):
        return field
    if isinstance(field, Collection) and isinstance(field.element,
                                                    Reference):
        return field.element
    return None


def referenced_ids(field, value):
    """The artifact ids a reference field's value holds, with where: [(id,
    position or key or None)]."""
    if value is None:
        return []
    if isinstance(value, list):
        return list(zip(value, range(len(value))))
    if isinstance(value, dict):
        return [(v, k) for k, v in sorted(value.items())]
    return [(value, None)]


class Blob(Field):
    """Binary data uploaded with PUT; its state is set by the server.

    :param max_size: the largest data accepted, in bytes
    :param inspector: a callable that looks at the data of an upload
        before it becomes the blob's, refuses content that is broken and
        gives values of the type's fields:
        ``inspector(content, artifact, lookup) -> {field name: value}``
        (see glance.artifacts.inspection for what it gets)
    :param inspect_on_activate_above: data larger than this many bytes is
        inspected when the artifact is activated instead of at its
        upload (None: always at the upload)
    """
    kind = 'blob'
    json_type = 'object'
    DEFAULT_MAX_SIZE = 2 ** 40

    def __init__(self, max_size=DEFAULT_MAX_SIZE, inspector=None,
                 inspect_on_activate_above=None, **flags):
        if flags.get('sortable') or flags.get('filterable'):
            raise DeclarationError('a blob field cannot be sorted or '
                                   'filtered on')
        if flags.get('default') is not None:
            raise DeclarationError('a blob field has no default')
        if inspector is not None and not callable(inspector):
            raise DeclarationError('an inspector must be callable')
        if inspect_on_activate_above is not None and (
                inspector is None or isinstance(
                    inspect_on_activate_above, bool) or not isinstance(
                    inspect_on_activate_above, int) or
                inspect_on_activate_above < 0):
            raise DeclarationError('inspect_on_activate_above is a number '
                                   'of bytes (0 or more) of a blob with an '
                                   'inspector')
        self.max_size = max_size
        self.inspector = inspector
        self.inspect_on_activate_above = inspect_on_activate_above
        super(Blob, self).__init__(**flags)

    def inspected_at_upload(self, size):
        """Whether data of ``size`` bytes is inspected at its upload (else
        at activation, or never without an inspector)."""
        return self.inspector is not None and (
            self.inspect_on_activate_above is None or
            size <= self.inspect_on_activate_above)

    def _inspection_schema(self, s):
        if self.inspector is not None:
            s['x-inspected'] = True
            if self.inspect_on_activate_above is not None:
                s['x-inspected-on-activate-above'] = \
                    self.inspect_on_activate_above
        return s

    def _check(self, value):
        raise InvalidValue('blob data is uploaded with PUT to the blob URL')

    def _schema(self):
        return self._inspection_schema(self._blob_schema())

    def _blob_schema(self):
        return {'type': 'object', 'readOnly': True,
                'x-max-size': self.max_size,
                'properties': {
                    # saving: an upload runs; uploading: data is staged
                    # (or being staged) for a glance-direct import;
                    # importing: an import runs (as images' statuses).
                    'status': {'type': 'string',
                               'enum': ['saving', 'uploading', 'importing',
                                        'active']},
                    'size': {'type': ['integer', 'null']},
                    'checksum': {'type': ['string', 'null']},
                    'os_hash_algo': {'type': ['string', 'null']},
                    'os_hash_value': {'type': ['string', 'null']},
                    'content_type': {'type': ['string', 'null']},
                    'url': {'type': 'string'},
                    # With several stores (enabled_backends), as images
                    # show them: comma-separated store names.
                    'stores': {'type': 'string'},
                    'os_glance_importing_to_stores': {'type': 'string'},
                    'os_glance_failed_import': {'type': 'string'},
                }}


class BlobDict(Blob):
    """Named blobs, one upload each (``PUT .../{field}/{key}``)."""
    kind = 'blob_dict'
    scalar = False

    def __init__(self, max_count=255, **flags):
        self.max_count = max_count
        super(BlobDict, self).__init__(**flags)

    def initial(self):
        return {}

    def _schema(self):
        return self._inspection_schema({
            'type': 'object', 'readOnly': True,
            'x-max-size': self.max_size,
            'maxProperties': self.max_count,
            'additionalProperties': self._blob_schema()})


def _json_name(value):
    return {str: 'a string', bool: 'a boolean', int: 'an integer',
            float: 'a number', list: 'a list', dict: 'an object',
            type(None): 'null'}.get(type(value), type(value).__name__)
