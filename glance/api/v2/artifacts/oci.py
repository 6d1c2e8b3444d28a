"""The OCI distribution API (opencontainers/distribution-spec v1.1) over
the catalog, for ``oras``, ``skopeo``, ``helm`` and every other OCI
client. It is the paste app of the ``oci`` flavors of
etc/glance-api-paste.ini and answers at the root of its listener
(``/v2/``), as the specification requires; the domain is
glance/artifacts/oci.py.

The whole API is the table ``ROUTES``: a path pattern (a repository name
has any number of components, so the table holds regular expressions)
and the handler of each method. Errors are the specification's
``{"errors": [{"code", "message", "detail"}]}``, with the statuses of
``STATUSES``.
"""

import base64
import binascii
import datetime
import json
import re
import urllib.parse

from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1.identity import v3 as ks_v3
from keystoneauth1 import session as ks_session
from oslo_config import cfg
from oslo_log import log as logging
import webob
import webob.dec
import webob.exc

from glance.api.v2.artifacts import edge
from glance.api.v2.artifacts import handlers
from glance.api.v2.artifacts import ranges
from glance.api.v2.artifacts import router
from glance.artifacts import catalog
from glance.artifacts import exception
from glance.artifacts import gc
from glance.artifacts import loader
from glance.artifacts import oci
from glance.artifacts.types import oci as oci_types

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

DIGEST_HEADER = 'Docker-Content-Digest'
UPLOAD_HEADER = 'Docker-Upload-UUID'
VERSION_HEADER = ('Docker-Distribution-API-Version', 'registry/2.0')

_NAME = r'(?P<name>%s)' % oci.REPOSITORY.pattern


def _route(pattern):
    return re.compile('/v2/' + pattern)


# The status of each error of the specification.
STATUSES = [
    (oci.RangeInvalid, 416),
    (oci.ManifestTooLarge, 413),
    (oci.BlobUnknown, 404),
    (oci.BlobUploadUnknown, 404),
    (oci.ManifestUnknown, 404),
    (oci.NameUnknown, 404),
    (oci.Denied, 403),
    (oci.Unsupported, 415),
    (oci.Error, 400),
]

# Errors of the catalog, as the specification's: (class, status, code).
DOMAIN_ERRORS = [
    (exception.OverLimit, 413, 'DENIED'),
    (exception.TooLarge, 413, 'SIZE_INVALID'),
    (exception.Forbidden, 403, 'DENIED'),
    (exception.NotFound, 404, 'NAME_UNKNOWN'),
    (exception.Timeout, 408, 'BLOB_UPLOAD_INVALID'),
    (exception.Invalid, 400, 'BLOB_UPLOAD_INVALID'),
    (exception.Duplicate, 409, 'DENIED'),
    (exception.Conflict, 409, 'DENIED'),
    (exception.NoData, 404, 'BLOB_UNKNOWN'),
    (exception.InvalidMarker, 400, 'UNSUPPORTED'),
    (exception.StoreUnavailable, 503, 'UNAVAILABLE'),
    (exception.Unavailable, 503, 'UNAVAILABLE'),
    (exception.UnknownType, 404, 'NAME_UNKNOWN'),
]


def error_response(status, code, message, detail=None, headers=()):
    body = {'errors': [{'code': code, 'message': message,
                        'detail': detail if detail is not None else {}}]}
    response = webob.Response(status=status,
                              content_type='application/json',
                              charset=None)
    response.body = json.dumps(body).encode('utf-8')
    response.headers.update(headers)
    return response


def _error_of(e):
    """(status, code) of a domain error."""
    if isinstance(e, oci.Error):
        return next(s for cls, s in STATUSES if isinstance(e, cls)), e.code
    return next((s, c) for cls, s, c in DOMAIN_ERRORS if isinstance(e, cls))


# -- the handlers ------------------------------------------------------------

def check_version(api, req):
    return _json({})


def get_blob(api, req, name, digest):
    artifact, row = oci.blob_to_pull(req.context, api.types, name, digest)
    size = row['size']
    headers = {'Content-Type': 'application/octet-stream',
               'Accept-Ranges': 'bytes', DIGEST_HEADER: digest}
    try:
        part = ranges.byte_range(req.headers.get('Range'), size)
    except ranges.Unsatisfiable:
        return error_response(416, 'BLOB_UNKNOWN',
                              'The range %r lies outside the blob (%d '
                              'bytes).' % (req.headers['Range'][:64], size),
                              headers=[('Content-Range', 'bytes */%d' % size)])
    return handlers.blob_response(req, artifact, row, part, headers)


def delete_blob(api, req, name, digest):
    oci.delete_blob(req.context, api.types, name, digest)
    return webob.Response(status=202)


def start_upload(api, req, name):
    digest = req.GET.get('digest')
    source, mounted = req.GET.get('from'), req.GET.get('mount')
    if mounted is not None and source is not None:
        if oci.mount(req.context, api.types, name, mounted, source):
            return _created(name, mounted)
    elif digest is not None:
        oci.put_blob(req.context, api.types, name, digest,
                     req.body_file, _length(req))
        return _created(name, digest)
    _no_body(req)
    session = oci.start_upload(req.context, api.types, name)
    return _accepted(name, session, 0)


def upload_status(api, req, name, session):
    received = oci.upload_status(req.context, api.types, name, session)
    response = _accepted(name, session, received)
    response.status = 204
    return response


def upload_chunk(api, req, name, session):
    start = _content_range(req)
    received = oci.upload_chunk(req.context, api.types, name, session,
                                req.body_file, _length(req), start)
    return _accepted(name, session, received)


def finish_upload(api, req, name, session):
    digest = req.GET.get('digest')
    if digest is None:
        raise oci.DigestInvalid('The upload is finished with ?digest= '
                                'naming the digest of its data.')
    oci.finish_upload(req.context, api.types, name, session, digest,
                      req.body_file, _length(req))
    return _created(name, digest)


def cancel_upload(api, req, name, session):
    oci.cancel_upload(req.context, api.types, name, session)
    return webob.Response(status=204)


def get_manifest(api, req, name, reference):
    digest, media_type, content = oci.get_manifest(req.context, api.types,
                                                   name, reference)
    response = webob.Response(status=200, content_type=media_type,
                              charset=None)
    if req.method == 'GET':
        response.body = content
    response.headers[DIGEST_HEADER] = digest
    response.headers['Content-Length'] = str(len(content))
    return response


def put_manifest(api, req, name, reference):
    content = req.body_file.read(oci_types.MANIFEST_MAX + 1)
    media_type = req.headers.get('Content-Type') or None
    if media_type is not None:
        media_type = media_type.split(';')[0].strip()
    digest, parsed = oci.put_manifest(req.context, api.types, name,
                                      reference, content, media_type)
    response = _created(name, digest, kind='manifests')
    if parsed['subject'] is not None:
        response.headers['OCI-Subject'] = parsed['subject']['digest']
    return response


def delete_manifest(api, req, name, reference):
    oci.delete_manifest(req.context, api.types, name, reference)
    return webob.Response(status=202)


def list_tags(api, req, name):
    n = _count(req.GET.get('n'))
    last = req.GET.get('last')
    tags, more = oci.tags(req.context, api.types, name, n, last)
    response = _json({'name': name, 'tags': tags})
    if more and tags:
        query = urllib.parse.urlencode({'n': n, 'last': tags[-1]})
        response.headers['Link'] = '<%s?%s>; rel="next"' % (
            req.path, query)
    return response


def list_referrers(api, req, name, digest):
    artifact_type = req.GET.get('artifactType')
    found = oci.referrers(req.context, api.types, name, digest,
                          artifact_type)
    response = _json({'schemaVersion': 2,
                      'mediaType': oci.INDEXES[0],
                      'manifests': found})
    response.content_type = oci.INDEXES[0]
    if artifact_type is not None:
        response.headers['OCI-Filters-Applied'] = 'artifactType'
    return response


def name_invalid(api, req, name):
    oci.check_name(name)
    raise oci.NameInvalid('%s is not a path of the OCI distribution API.'
                          % req.path_info[:300])


# -- the route table ---------------------------------------------------------

# Every path of the API and the handler of each method; the first
# pattern that matches the whole path is taken. HEAD is served by the
# handler of GET.
ROUTES = [
    (re.compile('/v2/?'), {'GET': check_version}),
    (_route(_NAME + '/blobs/uploads/?'), {'POST': start_upload}),
    (_route(_NAME + '/blobs/uploads/(?P<session>[^/]+)'),
     {'GET': upload_status, 'PATCH': upload_chunk,
      'PUT': finish_upload, 'DELETE': cancel_upload}),
    (_route(_NAME + '/blobs/(?P<digest>[^/]+)'),
     {'GET': get_blob, 'DELETE': delete_blob}),
    (_route(_NAME + '/manifests/(?P<reference>[^/]+)'),
     {'GET': get_manifest, 'PUT': put_manifest,
      'DELETE': delete_manifest}),
    (_route(_NAME + '/tags/list'), {'GET': list_tags}),
    (_route(_NAME + '/referrers/(?P<digest>[^/]+)'),
     {'GET': list_referrers}),
    # Any other name before a path of the API is not a repository name.
    (_route('(?P<name>.+)/(?:blobs|manifests|tags|referrers)(?:/.*)?'),
     {method: name_invalid
      for method in ('GET', 'PUT', 'POST', 'PATCH', 'DELETE')}),
]


# -- helpers of the handlers -------------------------------------------------

def _json(value, status=200):
    response = webob.Response(status=status, content_type='application/json',
                              charset=None)
    response.body = json.dumps(value).encode('utf-8')
    return response


def _created(name, digest, kind='blobs'):
    response = webob.Response(status=201)
    response.headers['Location'] = '/v2/%s/%s/%s' % (name, kind, digest)
    response.headers[DIGEST_HEADER] = digest
    response.headers['Content-Length'] = '0'
    return response


def _accepted(name, session, received):
    response = webob.Response(status=202)
    response.headers['Location'] = '/v2/%s/blobs/uploads/%s' % (
        name, session)
    response.headers['Range'] = '0-%d' % max(received - 1, 0)
    response.headers[UPLOAD_HEADER] = session
    response.headers['Content-Length'] = '0'
    return response


_DIGITS = re.compile('[0-9]{1,18}')


def _length(req):
    """The declared length of the body, or None (chunked)."""
    return req.content_length


def _no_body(req):
    if req.content_length:
        raise oci.BlobUploadInvalid('A POST that opens an upload has no '
                                    'body: give ?digest= to upload a '
                                    'whole blob at once.')


def _content_range(req):
    """The start of a chunk from its Content-Range (FROM-TO), or None."""
    header = req.headers.get('Content-Range')
    if header is None:
        return None
    match = re.fullmatch(r'(?:bytes )?([0-9]{1,18})-([0-9]{1,18})', header)
    if match is None or int(match.group(2)) < int(match.group(1)):
        raise oci.RangeInvalid('Content-Range is FROM-TO, inclusive, not '
                               '%r.' % header[:64])
    start, end = int(match.group(1)), int(match.group(2))
    if req.content_length is not None and \
            req.content_length != end - start + 1:
        raise oci.RangeInvalid('Content-Range %s is %d bytes, but the body '
                               'is %d.' % (header[:64], end - start + 1,
                                           req.content_length))
    return start


def _count(raw):
    if raw is None:
        return None
    if not _DIGITS.fullmatch(raw):
        raise oci.Unsupported('n is a number of tags, not %r.' % raw[:32])
    return int(raw)


def _unauthorized():
    return error_response(401, 'UNAUTHORIZED',
                          'Authentication is required: get a token from '
                          'the realm of WWW-Authenticate with your '
                          'Keystone credentials.')


# -- the application ---------------------------------------------------------

class API(object):
    """The OCI distribution API at the root of its listener."""

    def __init__(self, types):
        self.types = types
        missing = [name for name in oci.TYPES if name not in types]
        if missing:
            raise loader.TypeLoadError(
                'The OCI distribution API needs the types %s: add them to '
                '[artifacts] enabled_types.' % ', '.join(missing))

    def __call__(self, environ, start_response):
        return edge.serve(self._handle, environ, start_response)

    @webob.dec.wsgify(RequestClass=router.Request)
    def _handle(self, req):
        try:
            edge.check_utf8(req.environ)
            path = req.environ['PATH_INFO'].encode('latin-1').decode('utf-8')
        except webob.exc.HTTPBadRequest as e:
            return error_response(400, 'NAME_INVALID', e.explanation)
        for pattern, methods in ROUTES:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            method = 'GET' if req.method == 'HEAD' else req.method
            if method not in methods:
                allowed = sorted(methods) + (['HEAD'] if 'GET' in methods
                                             else [])
                return error_response(405, 'UNSUPPORTED',
                                      '%s is not a method of %s: use %s.'
                                      % (req.method[:16], path[:300],
                                         ', '.join(allowed)),
                                      headers=[('Allow', ', '.join(allowed))])
            response = self._call(methods[method], req, match.groupdict())
            break
        else:
            response = error_response(404, 'NAME_UNKNOWN',
                                      'No such path of the OCI distribution '
                                      'API: %s.' % path[:300])
        # webob sends no body for HEAD, with the headers of GET.
        response.headers.setdefault(*VERSION_HEADER)
        return response

    def _call(self, handler, req, args):
        # Without credentials (Glance's anonymous context, flavor
        # keystone+oci with allow_anonymous_access): pulls of what is
        # public, and 401 for the rest, which the token filter turns into
        # a challenge, so that a client then authenticates.
        anonymous = oci.anonymous(req.context)
        if anonymous and (req.method not in ('GET', 'HEAD') or
                          handler is check_version):
            return _unauthorized()
        try:
            return handler(self, req, **args)
        except exception.ERRORS as e:
            status, code = _error_of(e)
            if anonymous and status in (403, 404):
                return _unauthorized()
            return error_response(status, code, str(e),
                                  getattr(e, 'detail', None))

    @classmethod
    def factory(cls, global_conf, **local_conf):
        """paste.app_factory, as the artifacts app's: the enabled types,
        the clean-up of dead uploads and the periodic garbage
        collection."""
        types = loader.load_types()
        api = cls(types)
        catalog.clean_all_stale_uploads()
        gc.start_periodic()
        return api


# -- Keystone credentials, the OCI way ---------------------------------------

#: The token the token endpoint gives a client without credentials, where
#: anonymous pulls are allowed; sent back as a bearer token, it stands for
#: no credentials.
ANONYMOUS = 'anonymous'
#: An application credential id: 32 hexadecimal digits.
_APPLICATION_CREDENTIAL = re.compile('[0-9a-f]{32}')
_REPOSITORY_PATH = re.compile('/v2/%s/(?:blobs|manifests|tags|referrers)/'
                              % _NAME)


class KeystoneTokens(object):
    """paste filter ``oci-keystone``, first in the keystone+oci pipeline
    (before authtoken): the token endpoint of OCI clients, and their
    bearer tokens as Keystone tokens.

    - ``GET /token`` takes HTTP Basic credentials, authenticates them
      against Keystone ([artifacts] oci_keystone_url) and answers
      ``{"token", "access_token", "expires_in", "issued_at"}`` with the
      Keystone token. The user name is an application credential id (the
      password its secret), or ``USER@PROJECT`` (names in the Default
      domain), or a user name alone for the user's default project.
      Without credentials it gives the token ``anonymous`` where Glance's
      ``allow_anonymous_access`` is on, else 401.
    - ``Authorization: Bearer TOKEN`` on any other request becomes
      ``X-Auth-Token: TOKEN`` for authtoken (``anonymous``: no token).
    - Every 401 of the pipeline (Glance's context middleware, or the API
      for a request that needs credentials) becomes the specification's
      challenge: ``WWW-Authenticate: Bearer realm="<this
      listener>/token",service=...,scope=...``.
    """

    def __init__(self, app):
        self.app = app

    @webob.dec.wsgify
    def __call__(self, req):
        if req.path_info == '/token':
            return self._token(req)
        scheme, _, credential = req.headers.pop('Authorization',
                                                '').partition(' ')
        if scheme.lower() == 'bearer' and credential.strip() != ANONYMOUS:
            req.headers['X-Auth-Token'] = credential.strip()
        response = req.get_response(self.app)
        if response.status_int == 401:
            return self._challenge(req)
        return response

    @staticmethod
    def _challenge(req, message=None):
        header = 'Bearer realm="%s/token",service="%s"' % (
            req.host_url, req.host)
        match = _REPOSITORY_PATH.match(req.path_info)
        if match is not None:
            header += ',scope="repository:%s:%s"' % (
                match.group('name'), 'pull' if req.method in ('GET', 'HEAD')
                else 'pull,push')
        response = _unauthorized() if message is None else error_response(
            401, 'UNAUTHORIZED', message)
        response.headers['WWW-Authenticate'] = header
        response.headers.setdefault(*VERSION_HEADER)
        return response

    def _token(self, req):
        if req.method not in ('GET', 'HEAD'):
            return error_response(405, 'UNSUPPORTED', 'The token endpoint '
                                  'takes GET.', headers=[('Allow',
                                                          'GET, HEAD')])
        credentials = _basic(req.headers.get('Authorization', ''))
        if credentials is None:
            if not CONF.allow_anonymous_access:
                response = self._challenge(
                    req, 'Give your Keystone credentials with HTTP Basic: '
                         'an application credential id and its secret, or '
                         'USER@PROJECT and the password.')
                response.headers['WWW-Authenticate'] = (
                    'Basic realm="%s/token"' % req.host_url)
                return response
            return _token_response(ANONYMOUS, 3600, _now())
        try:
            access = _authenticate(*credentials)
        except ks_exceptions.Unauthorized:
            return error_response(401, 'UNAUTHORIZED', 'Keystone refused '
                                  'these credentials.', headers=[(
                                      'WWW-Authenticate',
                                      'Basic realm="%s/token"'
                                      % req.host_url)])
        except (ks_exceptions.ConnectFailure, ks_exceptions.ConnectTimeout,
                ks_exceptions.DiscoveryFailure,
                ks_exceptions.HttpServerError) as e:
            LOG.error('The OCI token endpoint could not reach Keystone: %s',
                      e)
            return error_response(503, 'UNAVAILABLE', 'Keystone cannot be '
                                  'reached; try again later.')
        except ks_exceptions.ClientException as e:
            return error_response(401, 'UNAUTHORIZED', 'Keystone refused '
                                  'these credentials: %s' % e)
        if not access.project_id:
            return error_response(401, 'UNAUTHORIZED', 'The credentials '
                                  'name no project: give USER@PROJECT.')
        issued = access.issued or _now()
        expires_in = int((access.expires - _now()).total_seconds())
        return _token_response(access.auth_token, max(expires_in, 0),
                               issued)

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _token_response(token, expires_in, issued):
    return _json({'token': token, 'access_token': token,
                  'expires_in': expires_in,
                  'issued_at': issued.strftime('%Y-%m-%dT%H:%M:%SZ')})


def _basic(header):
    """(user, password) of an HTTP Basic Authorization header, or None."""
    scheme, _, encoded = header.partition(' ')
    if scheme.lower() != 'basic':
        return None
    try:
        user, sep, password = base64.b64decode(
            encoded.strip(), validate=True).decode('utf-8').partition(':')
    except (binascii.Error, UnicodeDecodeError):
        return None
    if not sep or not user:
        return None
    return user, password


def _keystone_url():
    url = CONF.artifacts.oci_keystone_url
    if not url:
        try:
            url = CONF.keystone_authtoken.www_authenticate_uri
        except cfg.NoSuchOptError:
            url = None
    if not url:
        raise ks_exceptions.DiscoveryFailure(
            'No Keystone is configured: set [artifacts] oci_keystone_url.')
    url = url.rstrip('/')
    return url if url.endswith('/v3') else url + '/v3'


def _authenticate(user, password):
    """Keystone's AccessInfo for Basic credentials (see KeystoneTokens)."""
    if _APPLICATION_CREDENTIAL.fullmatch(user):
        auth = ks_v3.ApplicationCredential(
            auth_url=_keystone_url(), application_credential_id=user,
            application_credential_secret=password)
    else:
        name, _, project = user.partition('@')
        scope = {'project_name': project, 'project_domain_id': 'default'} \
            if project else {}
        auth = ks_v3.Password(auth_url=_keystone_url(), username=name,
                              password=password, user_domain_id='default',
                              **scope)
    return auth.get_access(ks_session.Session(
        timeout=CONF.artifacts.oci_keystone_timeout))
