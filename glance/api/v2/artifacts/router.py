"""The whole /v2/artifacts API in one table, and the paste app factory.

Paths are relative to the mount point (``/v2/artifacts`` in
glance-api-paste.ini). A path that matches with another method gets 405
with an Allow header; domain errors become HTTP errors in one place,
``Handler.__call__``.
"""

from oslo_log import log as logging
import webob.dec
import webob.exc

from glance.api.v2.artifacts import handlers as h
from glance.artifacts import catalog
from glance.artifacts import exception
from glance.artifacts import loader
from glance.common import wsgi

LOG = logging.getLogger(__name__)

ROUTES = [
    ('', {'GET': h.list_types}),
    ('/', {'GET': h.list_types}),
    ('/schemas/member', {'GET': h.show_member_schema}),
    ('/schemas/members', {'GET': h.show_members_schema}),
    ('/schemas/{type_name}', {'GET': h.show_schema}),
    ('/schemas/{type_name}/list', {'GET': h.show_list_schema}),
    ('/{type_name}', {'GET': h.list_artifacts,
                      'POST': h.create_artifact}),
    ('/{type_name}/{artifact_id}', {'GET': h.show_artifact,
                                    'PATCH': h.update_artifact,
                                    'DELETE': h.delete_artifact}),
    ('/{type_name}/{artifact_id}/actions/{action}',
     {'POST': h.artifact_action}),
    ('/{type_name}/{artifact_id}/tags/{tag}', {'PUT': h.add_tag,
                                               'DELETE': h.delete_tag}),
    ('/{type_name}/{artifact_id}/members', {'GET': h.list_members,
                                            'POST': h.add_member}),
    ('/{type_name}/{artifact_id}/members/{member}',
     {'GET': h.show_member, 'PUT': h.update_member,
      'DELETE': h.delete_member}),
    ('/{type_name}/{artifact_id}/{blob}', {'GET': h.download_blob,
                                           'PUT': h.upload_blob}),
    # {key:.*} takes any rest, so that keys with path tricks get a 400
    # saying so rather than a 404.
    ('/{type_name}/{artifact_id}/{blob}/{key:.*}', {'GET': h.download_blob,
                                                    'PUT': h.upload_blob}),
]

# Domain errors and their statuses (subclasses, such as ReadOnly of
# Forbidden, take their base's).
ERRORS = [
    (exception.Forbidden, webob.exc.HTTPForbidden),
    (exception.Invalid, webob.exc.HTTPBadRequest),
    (exception.InvalidMarker, webob.exc.HTTPBadRequest),
    (exception.NotFound, webob.exc.HTTPNotFound),
    (exception.UnknownType, webob.exc.HTTPNotFound),
    (exception.Duplicate, webob.exc.HTTPConflict),
    (exception.Conflict, webob.exc.HTTPConflict),
    (exception.TooLarge, webob.exc.HTTPRequestEntityTooLarge),
    (exception.StoreUnavailable, webob.exc.HTTPServiceUnavailable),
    (exception.Unavailable, webob.exc.HTTPServiceUnavailable),
]


class Handler(object):
    """A WSGI app that calls one handler function of the table."""

    def __init__(self, api, function):
        self.api = api
        self.function = function

    @webob.dec.wsgify(RequestClass=wsgi.Request)
    def __call__(self, req):
        args = dict(req.environ['wsgiorg.routing_args'][1])
        args.pop('controller', None)
        try:
            req.GET
        except UnicodeDecodeError:
            raise webob.exc.HTTPBadRequest(
                explanation='The query string is not valid UTF-8.')
        try:
            return self.function(self.api, req, **args)
        except tuple(e for e, _http in ERRORS) as e:
            http_error = next(h for error, h in ERRORS
                              if isinstance(e, error))
            raise http_error(explanation=str(e))


class MethodNotAllowed(object):
    def __init__(self, allowed):
        self.allowed = allowed

    @webob.dec.wsgify
    def __call__(self, req):
        raise webob.exc.HTTPMethodNotAllowed(
            explanation='%s is not allowed here; use %s.'
                        % (req.method, ', '.join(self.allowed)),
            headers=[('Allow', ', '.join(self.allowed))])


class API(wsgi.Router):
    """The /v2/artifacts application: the enabled types and the routes."""

    def __init__(self, types):
        self.types = types
        mapper = wsgi.APIMapper()
        for path, methods in ROUTES:
            for method, function in methods.items():
                mapper.connect(path, controller=Handler(self, function),
                               conditions={'method': [method]})
            mapper.connect(path, controller=MethodNotAllowed(
                sorted(methods)))
        super(API, self).__init__(mapper)

    @classmethod
    def factory(cls, global_conf, **local_conf):
        """paste.app_factory: load the enabled types now, so that a broken
        type stops glance-api at start-up rather than at a request, and
        clean up after uploads whose process died."""
        types = loader.load_types()
        catalog.clean_all_stale_uploads()
        return cls(types)
