"""The wire format of the registry: JSON, as Glance's registry RPC.

A request body is {"context": {...}, "calls": [{"command": NAME,
"kwargs": {...}}]}; the response is a list with, for each call, {"result":
...} or {"error": {"class": NAME, "message": TEXT}}.

Datetimes travel as {"$datetime": ISO 8601}. So that no value a user
sent can be taken for one, every object key that starts with "$" travels
with one more "$" in front: a metadata key "$datetime" is "$$datetime" on
the wire. Any JSON value therefore arrives as it was sent.
"""

import datetime
import json

from glance.db.artifacts import errors

ERRORS = {cls.__name__: cls for cls in (errors.NotFound, errors.Duplicate,
                                        errors.Conflict, errors.Changed,
                                        errors.InvalidMarker,
                                        errors.OverLimit, errors.Forbidden,
                                        errors.Invalid, errors.TooLarge,
                                        errors.Unavailable)}


def error_to_wire(error):
    """{'class', 'message'} of a data API error: the class is the nearest
    one the wire knows (a domain's subclass, such as ReadOnly, travels as
    its base, Forbidden)."""
    name = next((cls.__name__ for cls in type(error).__mro__
                 if ERRORS.get(cls.__name__) is cls), 'DataError')
    return {'class': name, 'message': str(error)}


DATETIME = '$datetime'


def _escape(key):
    return '$' + key if key.startswith('$') else key


def _encode(value):
    if isinstance(value, dict):
        return {_escape(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, datetime.datetime):
        return {DATETIME: value.isoformat()}
    if value is None or isinstance(value, (str, int, float)):
        return value
    raise TypeError('cannot send %r' % type(value).__name__)


def _decode(obj):
    if set(obj) == {DATETIME}:
        return datetime.datetime.fromisoformat(obj[DATETIME])
    decoded = {}
    for key, value in obj.items():
        if key.startswith('$'):
            if not key.startswith('$$'):
                raise ValueError('unknown wire object key %r' % key[:64])
            key = key[1:]
        decoded[key] = value
    return decoded


def dumps(value):
    return json.dumps(_encode(value)).encode('utf-8')


def loads(data):
    return json.loads(data, object_hook=_decode)


def context_to_wire(context):
    """What glance-api says of the caller: the registry's no-auth flavor
    takes it as it is; the keystone flavor ignores it and reads the
    caller's tokens."""
    return {'is_admin': bool(context.is_admin), 'owner': context.owner,
            'user_id': getattr(context, 'user_id', None),
            'roles': list(getattr(context, 'roles', None) or [])}
