"""The registry service: runs data API calls on its own database.

Only the functions of glance.db.artifacts.interface are callable; the
caller's context (admin flag and project) comes with each request from
glance-api, which authenticated the user.
"""

from oslo_log import log as logging
import webob
import webob.dec
import webob.exc

from glance.db.artifacts import errors
from glance.db.artifacts import interface
from glance.db.artifacts.registry import rpc
from glance.db.artifacts import sqlalchemy_api

LOG = logging.getLogger(__name__)
MAX_BODY = 16 * 1024 * 1024


def _run(context, call):
    if not isinstance(call, dict) or set(call) - {'command', 'kwargs'}:
        raise webob.exc.HTTPBadRequest(
            explanation='Each call is {"command": ..., "kwargs": {...}}.')
    command = call.get('command')
    if command not in interface.FUNCTIONS:
        raise webob.exc.HTTPBadRequest(
            explanation='Unknown command %r; the commands are the data '
                        'API functions.' % (command,))
    kwargs = call.get('kwargs') or {}
    if not isinstance(kwargs, dict):
        raise webob.exc.HTTPBadRequest(explanation='kwargs is an object.')
    try:
        return {'result': getattr(sqlalchemy_api, command)(context,
                                                           **kwargs)}
    except errors.DataError as e:
        return {'error': {'class': type(e).__name__, 'message': str(e)}}
    except TypeError as e:
        raise webob.exc.HTTPBadRequest(explanation='Bad arguments for %s: '
                                       '%s' % (command, e))


class RPC(object):
    """POST /rpc: a list of data API calls, answered in order."""

    @webob.dec.wsgify
    def __call__(self, req):
        if req.path_info.rstrip('/') != '/rpc':
            raise webob.exc.HTTPNotFound()
        if req.method != 'POST':
            raise webob.exc.HTTPMethodNotAllowed(headers=[('Allow',
                                                           'POST')])
        caller = getattr(req, 'context', None)    # set by Glance's filters
        if not (caller is not None and (caller.is_admin or
                                        'service' in caller.roles)):
            # The forwarded context is trusted: only glance-api (a service
            # or admin token under Keystone) may send it.
            raise webob.exc.HTTPForbidden(
                explanation='Only services may call the registry.')
        if req.content_length is None or req.content_length > MAX_BODY:
            raise webob.exc.HTTPRequestEntityTooLarge()
        try:
            body = rpc.loads(req.body)
            context = rpc.Context(**body['context'])
            calls = body['calls']
        except (ValueError, KeyError, TypeError) as e:
            raise webob.exc.HTTPBadRequest(explanation='Malformed RPC '
                                           'request: %s' % e)
        results = [_run(context, call) for call in calls]
        return webob.Response(body=rpc.dumps(results),
                              content_type='application/json')

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls()
