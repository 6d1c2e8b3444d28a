"""The registry service: runs data API calls on its own database.

Only the functions of glance.db.artifacts.interface are callable, and
only glance-api may call them. Before it runs a call, the registry checks
it as glance-api's domain would check the request of the user it runs
for (``glance.artifacts.guard``: policy, writable fields, lifecycle,
quota limits read by the registry itself), and the data API checks
ownership and visibility; so a caller gets through the registry nothing
that the same user could not do through glance-api. (The registry is the
one part of the persistence room that runs the domain's checks: it is a
service of its own, reachable by other services than glance-api.)

Whose calls they are depends on the pipeline
(glance-artifacts-registry-paste.ini):

- ``identity = token`` (the keystone flavor): each call carries the
  user's own token (X-Auth-Token) and a service token (X-Service-Token),
  both validated by keystonemiddleware; the service token must hold one
  of ``service_roles``. The context is built from the user's token alone
  (by Glance's context middleware), and what the caller forwards is
  ignored: a service, or an admin of any project, acts as itself and no
  more. glance-api's own service identity (``glance_api_users``, names
  in ``glance_api_user_domain`` or ids, or ``glance_api_roles``) alone
  may send what only glance-api produces (finished uploads) and, with its
  own token as both tokens, its housekeeping (clean-up of dead uploads,
  garbage collection, delayed deletes, cycle checks).
- ``identity = forwarded`` (no auth, for development): the context that
  glance-api forwards (admin flag, project, roles) is taken as it is, the
  caller is glance-api, and so are the quota limits it sends.
"""

from oslo_config import cfg
from oslo_log import log as logging
import webob
import webob.dec
import webob.exc

from glance.api import policy as glance_policy
from glance.artifacts import guard
from glance.artifacts import loader
from glance import context as glance_context
from glance.db.artifacts import errors
from glance.db.artifacts import interface
from glance.db.artifacts.registry import rpc
from glance.db.artifacts import sqlalchemy_api

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
MAX_BODY = 16 * 1024 * 1024
IMAGES = 'images'       # glance-api's alone: the registry never sees images


def _run(caller, types, call):
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
    function = getattr(sqlalchemy_api, command)
    try:
        context, kwargs = guard.check(caller, types, command, function,
                                      kwargs)
        return {'result': function(context, **kwargs)}
    except errors.DataError as e:
        return {'error': rpc.error_to_wire(e)}
    except (TypeError, ValueError, KeyError, AttributeError) as e:
        # Arguments of a shape the checks did not foresee: the caller's
        # mistake, logged in case it is ours.
        LOG.warning('Refused a malformed call of %s: %s: %s', command,
                    type(e).__name__, e, exc_info=True)
        return {'error': rpc.error_to_wire(errors.Invalid(
            'Bad arguments for %s: %s: %s'
            % (command, type(e).__name__, e)))}


IDENTITIES = ('token', 'forwarded')


def _names(text):
    return {n.strip() for n in (text or '').split(',') if n.strip()}


class RPC(object):
    """POST /rpc: a list of data API calls, answered in order."""

    def __init__(self, identity='forwarded', service_roles=('service',),
                 glance_api_users=('glance',),
                 glance_api_user_domain='Default', glance_api_roles=(),
                 types=None):
        if identity not in IDENTITIES:
            raise ValueError('identity is one of %s, not %r'
                             % (', '.join(IDENTITIES), identity))
        self.identity = identity
        self.service_roles = set(service_roles)
        self.glance_api_users = set(glance_api_users)
        self.glance_api_user_domain = glance_api_user_domain
        self.glance_api_roles = set(glance_api_roles)
        self.types = types if types is not None else {}
        self._enforcer = None

    def _forwarded(self, req, forwarded):
        """No auth: glance-api's forwarded context, taken as it is."""
        caller = getattr(req, 'context', None)    # set by Glance's filters
        # Glance's unauthenticated context is an admin; an older keystone
        # pipeline still needs an admin or service token.
        if not (caller is not None and (caller.is_admin or
                                        'service' in caller.roles)):
            raise webob.exc.HTTPForbidden(
                explanation='Only services may call the registry.')
        if not isinstance(forwarded, dict):
            raise ValueError('the context is an object')
        roles = forwarded.get('roles') or []
        if not (isinstance(roles, list) and
                all(isinstance(r, str) for r in roles)):
            raise ValueError('roles are a list of strings')
        if self._enforcer is None:
            self._enforcer = glance_policy.Enforcer(
                suppress_deprecation_warnings=True)
        context = glance_context.RequestContext(
            is_admin=bool(forwarded.get('is_admin')),
            project_id=forwarded.get('owner'),
            user_id=forwarded.get('user_id'), roles=roles,
            policy_enforcer=self._enforcer)
        return guard.Caller(context, glance_api=True, own_limits=False)

    def _glance_api(self, req):
        """Whether the service token is glance-api's own."""
        headers = req.headers
        if headers.get('X-Service-User-Id') in self.glance_api_users:
            return True
        if (headers.get('X-Service-User-Name') in self.glance_api_users and
                headers.get('X-Service-User-Domain-Name') ==
                self.glance_api_user_domain):
            return True
        return bool(self._service_roles(req) & self.glance_api_roles)

    def _service_roles(self, req):
        return _names(req.headers.get('X-Service-Roles'))

    def _token_caller(self, req):
        """Keystone: the user of X-Auth-Token, sent by a service."""
        caller = getattr(req, 'context', None)    # set by Glance's filters
        if (caller is None or
                req.headers.get('X-Service-Identity-Status') != 'Confirmed'
                or not self._service_roles(req) & self.service_roles):
            raise webob.exc.HTTPForbidden(
                explanation='The registry takes calls from glance-api '
                            'only: the user\'s token with a service token '
                            'that has the role %s.'
                            % ' or '.join(sorted(self.service_roles)))
        glance_api = self._glance_api(req)
        if glance_api and caller.user_id and \
                caller.user_id == req.headers.get('X-Service-User-Id'):
            # glance-api's own token as both: its housekeeping.
            return guard.Caller(None, glance_api=True, own_limits=True)
        return guard.Caller(caller, glance_api=glance_api,
                            own_limits=True)

    @webob.dec.wsgify
    def __call__(self, req):
        if req.path_info.rstrip('/') != '/rpc':
            raise webob.exc.HTTPNotFound()
        if req.method != 'POST':
            raise webob.exc.HTTPMethodNotAllowed(headers=[('Allow',
                                                           'POST')])
        caller = None
        if self.identity == 'token':
            caller = self._token_caller(req)    # before reading the body
        if req.content_length is None or req.content_length > MAX_BODY:
            raise webob.exc.HTTPRequestEntityTooLarge()
        try:
            body = rpc.loads(req.body)
            if caller is None:
                caller = self._forwarded(req, body['context'])
            calls = body['calls']
            if not isinstance(calls, list):
                raise ValueError('calls are a list')
        except (ValueError, KeyError, TypeError) as e:
            raise webob.exc.HTTPBadRequest(explanation='Malformed RPC '
                                           'request: %s' % e)
        results = [_run(caller, self.types, call) for call in calls]
        return webob.Response(body=rpc.dumps(results),
                              content_type='application/json')

    @classmethod
    def factory(cls, global_conf, **local_conf):
        """paste.app_factory; ``identity`` (token or forwarded),
        ``service_roles``, ``glance_api_users``, ``glance_api_roles``
        (comma-separated) and ``glance_api_user_domain`` come from the
        app's section. The artifact types are the registry's
        ``[artifacts] enabled_types``, but for images, which only
        glance-api reads."""
        served = [t for t in CONF.artifacts.enabled_types if t != IMAGES]
        # The data API of this process is then the plain SQLAlchemy one
        # (glance.db.artifacts.get_api adds images for that type).
        CONF.set_override('enabled_types', served, 'artifacts')
        CONF.set_override('data_api', 'sqlalchemy', 'artifacts')
        return cls(
            identity=local_conf.get('identity', 'forwarded'),
            service_roles=_names(local_conf.get('service_roles',
                                                'service')),
            glance_api_users=_names(local_conf.get('glance_api_users',
                                                   'glance')),
            glance_api_user_domain=local_conf.get(
                'glance_api_user_domain', 'Default'),
            glance_api_roles=_names(local_conf.get('glance_api_roles', '')),
            types=loader.load_types(served))
