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
                                        errors.OverLimit)}
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


class Context(object):
    """The part of the caller's context the data API uses."""

    def __init__(self, is_admin=False, owner=None):
        self.is_admin = bool(is_admin)
        self.owner = owner


def context_to_wire(context):
    return {'is_admin': bool(context.is_admin), 'owner': context.owner}
