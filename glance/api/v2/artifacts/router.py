"""The whole /v2/artifacts API in one table, and the paste app factory.

Paths are relative to the mount point (``/v2/artifacts`` in
glance-api-paste.ini). A path that matches with another method gets 405
with an Allow header; domain errors become HTTP errors in one place,
``Handler.__call__``.
"""

import re
import urllib.parse

from oslo_log import log as logging
import routes.middleware
import webob.dec
import webob.exc

from glance.api.v2.artifacts import edge
from glance.api.v2.artifacts import handlers as h
from glance.artifacts import catalog
from glance.artifacts import exception
from glance.artifacts import gc
from glance.artifacts import loader
from glance.common import wsgi

LOG = logging.getLogger(__name__)

ROUTES = [
    ('', {'GET': h.list_types}),
    ('/', {'GET': h.list_types}),
    ('/openapi.json', {'GET': h.show_openapi}),
    ('/schemas/member', {'GET': h.show_member_schema}),
    ('/schemas/members', {'GET': h.show_members_schema}),
    ('/schemas/{type_name}', {'GET': h.show_schema}),
    ('/schemas/{type_name}/list', {'GET': h.show_list_schema}),
    ('/usage', {'GET': h.show_usage}),
    ('/{type_name}', {'GET': h.list_artifacts,
                      'POST': h.create_artifact}),
    ('/stores/{store}/{type_name}/{artifact_id}/{blob}',
     {'DELETE': h.delete_from_store}),
    ('/stores/{store}/{type_name}/{artifact_id}/{blob}/{key:.*}',
     {'DELETE': h.delete_from_store}),
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
    # POST .../{blob}/import and .../{blob}/{key}/import.
    ('/{type_name}/{artifact_id}/{blob}/{key:.*}', {'GET': h.download_blob,
                                                    'PUT': h.upload_blob,
                                                    'POST': h.import_blob}),
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
    (exception.OverLimit, webob.exc.HTTPRequestEntityTooLarge),
    (exception.Timeout, webob.exc.HTTPRequestTimeout),
    (exception.StoreUnavailable, webob.exc.HTTPServiceUnavailable),
    (exception.Unavailable, webob.exc.HTTPServiceUnavailable),
]


def _printable(text):
    """``text`` with lone surrogates (from JSON escapes in a request)
    shown as escapes, so that every error message can be encoded."""
    return text.encode('utf-8', 'backslashreplace').decode('utf-8')


class Request(wsgi.Request):
    """Glance's request, with the body its environ holds: edge.Body, which
    reads every framing from the request's thread (Glance's own reads
    uWSGI's chunked input by itself)."""

    body_file = webob.Request.body_file


class Handler(object):
    """A WSGI app that calls one handler function of the table."""

    def __init__(self, api, function):
        self.api = api
        self.function = function

    @webob.dec.wsgify(RequestClass=Request)
    def __call__(self, req):
        # Path variables, as Routes gives them, are the bytes of the path
        # as Latin-1 (PEP 3333); API checked that the path and the query
        # string are UTF-8.
        args = {name: value.encode('latin-1').decode('utf-8')
                for name, value in
                req.environ['wsgiorg.routing_args'][1].items()
                if name != 'controller'}
        try:
            return self.function(self.api, req, **args)
        except tuple(e for e, _http in ERRORS) as e:
            http_error = next(h for error, h in ERRORS
                              if isinstance(e, error))
            raise http_error(explanation=_printable(str(e)))


class MethodNotAllowed(object):
    def __init__(self, allowed):
        self.allowed = allowed

    @webob.dec.wsgify
    def __call__(self, req):
        # This error's body template shows the detail, not the explanation.
        raise webob.exc.HTTPMethodNotAllowed(
            detail='Use %s.' % ', '.join(self.allowed),
            headers=[('Allow', ', '.join(self.allowed))])


def _check_path(environ):
    """400 for a path or query string that is not UTF-8, and for a path
    that could name a resource other than the one it shows: control
    characters (such as an encoded newline) or empty segments.

    PATH_INFO holds the path's bytes as Latin-1 (PEP 3333), after the
    mount point; Paste's urlmap, which mounts us, has already merged
    repeated slashes there, so empty segments are looked for in the
    request's own path when the server gives it (gunicorn's RAW_URI,
    uWSGI's and mod_wsgi's REQUEST_URI).
    """
    edge.check_utf8(environ)
    text = environ['PATH_INFO'].encode('latin-1').decode('utf-8')
    if any(ord(c) < 0x20 or ord(c) == 0x7f for c in text):
        raise webob.exc.HTTPBadRequest(
            explanation='The path contains control characters.')
    raw = environ.get('RAW_URI') or environ.get('REQUEST_URI') or ''
    raw = urllib.parse.unquote(_ABSOLUTE_URI.sub('', raw.partition('?')[0]))
    if (text not in ('', '/') and text.endswith('/')) or '//' in raw:
        raise webob.exc.HTTPBadRequest(
            explanation='The path has an empty segment.')


# The scheme and authority of a request target in absolute form.
_ABSOLUTE_URI = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*://[^/]*')


@webob.dec.wsgify
def _dispatch(req):
    match = req.environ['wsgiorg.routing_args'][1]
    if not match:
        raise webob.exc.HTTPNotFound(
            explanation='No such resource; see GET %s for the artifact '
                        'types.' % catalog.PREFIX)
    return match['controller']


class API(object):
    """The /v2/artifacts application: the enabled types and the routes.

    Routes matches paths only: unlike Glance's own router, it is not
    allowed to take the method from a ``_method`` query parameter or
    form field, so that a GET never changes anything and routing never
    reads a request body.
    """

    def __init__(self, types):
        self.types = types
        self.routes = ROUTES
        mapper = wsgi.APIMapper()
        for path, methods in ROUTES:
            for method, function in methods.items():
                mapper.connect(path, controller=Handler(self, function),
                               conditions={'method': [method]})
            mapper.connect(path, controller=MethodNotAllowed(
                sorted(methods)))
        self._routes = routes.middleware.RoutesMiddleware(
            _dispatch, mapper, use_method_override=False, singleton=False)

    def __call__(self, environ, start_response):
        # An answer given before the request body was read to its end
        # ends the connection (see edge.serve).
        return edge.serve(self._route, environ, start_response)

    @webob.dec.wsgify(RequestClass=Request)
    def _route(self, req):
        _check_path(req.environ)
        return self._routes

    @classmethod
    def factory(cls, global_conf, **local_conf):
        """paste.app_factory: load the enabled types now, so that a broken
        type stops glance-api at start-up rather than at a request, and
        clean up after uploads whose process died, and start the periodic
        garbage collection when it is configured."""
        types = loader.load_types()
        catalog.clean_all_stale_uploads()
        gc.start_periodic()
        return cls(types)
