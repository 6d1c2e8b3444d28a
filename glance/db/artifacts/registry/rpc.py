"""The wire format of the registry: JSON, as Glance's registry RPC.

A request body is {"context": {...}, "calls": [{"command": NAME,
"kwargs": {...}}]}; the response is a list with, for each call, {"result":
...} or {"error": {"class": NAME, "message": TEXT}}. Datetimes travel as
{"$datetime": ISO 8601}.
"""

import datetime
import json

from glance.db.artifacts import errors

ERRORS = {cls.__name__: cls for cls in (errors.NotFound, errors.Duplicate,
                                        errors.Conflict,
                                        errors.InvalidMarker)}
FORMAT = '%Y-%m-%dT%H:%M:%S.%f'


def _encode(value):
    if isinstance(value, datetime.datetime):
        return {'$datetime': value.strftime(FORMAT)}
    raise TypeError('cannot send %r' % type(value).__name__)


def _decode(obj):
    if set(obj) == {'$datetime'}:
        return datetime.datetime.strptime(obj['$datetime'], FORMAT)
    return obj


def dumps(value):
    return json.dumps(value, default=_encode).encode('utf-8')


def loads(data):
    return json.loads(data, object_hook=_decode)


class Context(object):
    """The part of the caller's context the data API uses."""

    def __init__(self, is_admin=False, owner=None):
        self.is_admin = bool(is_admin)
        self.owner = owner


def context_to_wire(context):
    return {'is_admin': bool(context.is_admin), 'owner': context.owner}
