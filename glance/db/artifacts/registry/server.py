"""The registry service: runs data API calls on its own database.

Only the functions of glance.db.artifacts.interface are callable, and
only glance-api may call them. Whose calls they are depends on the
pipeline (glance-artifacts-registry-paste.ini):

- ``identity = token`` (the keystone flavor): each call carries the
  user's own token (X-Auth-Token) and glance-api's service token
  (X-Service-Token), both validated by keystonemiddleware; the service
  token must hold one of ``service_roles``. The context is built from the
  user's token alone (by Glance's context middleware), and what glance-api
  forwards is ignored: a service, or an admin of any project, acts as
  itself and no more.
- ``identity = forwarded`` (no auth, for development): the context that
  glance-api forwards (admin flag and project) is taken as it is.
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


IDENTITIES = ('token', 'forwarded')


class RPC(object):
    """POST /rpc: a list of data API calls, answered in order."""

    def __init__(self, identity='forwarded', service_roles=('service',)):
        if identity not in IDENTITIES:
            raise ValueError('identity is one of %s, not %r'
                             % (', '.join(IDENTITIES), identity))
        self.identity = identity
        self.service_roles = set(service_roles)

    def _caller(self, req, forwarded):
        """The context the calls run in."""
        caller = getattr(req, 'context', None)    # set by Glance's filters
        if self.identity == 'forwarded':
            # No auth: glance-api's forwarded context is taken as it is
            # (Glance's unauthenticated context is an admin; an older
            # keystone pipeline still needs an admin or service token).
            if not (caller is not None and (caller.is_admin or
                                            'service' in caller.roles)):
                raise webob.exc.HTTPForbidden(
                    explanation='Only services may call the registry.')
            return rpc.Context(**forwarded)
        roles = {r.strip() for r in
                 req.headers.get('X-Service-Roles', '').split(',')}
        if (caller is None or
                req.headers.get('X-Service-Identity-Status') != 'Confirmed'
                or not roles & self.service_roles):
            raise webob.exc.HTTPForbidden(
                explanation='The registry takes calls from glance-api '
                            'only: the user\'s token with a service token '
                            'that has the role %s.'
                            % ' or '.join(sorted(self.service_roles)))
        return rpc.Context(is_admin=caller.is_admin, owner=caller.owner)

    @webob.dec.wsgify
    def __call__(self, req):
        if req.path_info.rstrip('/') != '/rpc':
            raise webob.exc.HTTPNotFound()
        if req.method != 'POST':
            raise webob.exc.HTTPMethodNotAllowed(headers=[('Allow',
                                                           'POST')])
        if self.identity == 'token':
            self._caller(req, None)     # refuse before reading the body
        if req.content_length is None or req.content_length > MAX_BODY:
            raise webob.exc.HTTPRequestEntityTooLarge()
        try:
            body = rpc.loads(req.body)
            context = self._caller(req, body['context'])
            calls = body['calls']
        except (ValueError, KeyError, TypeError) as e:
            raise webob.exc.HTTPBadRequest(explanation='Malformed RPC '
                                           'request: %s' % e)
        results = [_run(context, call) for call in calls]
        return webob.Response(body=rpc.dumps(results),
                              content_type='application/json')

    @classmethod
    def factory(cls, global_conf, **local_conf):
        """paste.app_factory; ``identity`` (token or forwarded) and
        ``service_roles`` (comma-separated) come from the app's section."""
        return cls(identity=local_conf.get('identity', 'forwarded'),
                   service_roles=[r.strip() for r in local_conf.get(
                       'service_roles', 'service').split(',') if r.strip()])
