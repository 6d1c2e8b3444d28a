"""HTTP handlers of /v2/artifacts. Each reads top-down: find the type,
parse the request, make one call into the catalog, shape the response.

Every handler takes the API (its enabled types) and the request, plus
the path variables of its route; errors of the domain become HTTP
statuses in router.py, in one place.
"""

import contextlib
import re
import urllib.parse

from oslo_config import cfg
import webob
import webob.exc

from glance.api.v2.artifacts import edge
from glance.api.v2.artifacts import openapi
from glance.api.v2.artifacts import ranges
from glance.artifacts import blobs
from glance.artifacts import catalog
from glance.artifacts import exception
from glance.artifacts import fields as f
from glance.artifacts import lifecycle
from glance.artifacts import members
from glance.artifacts import policy
from glance.artifacts import quota
from glance.artifacts import schemas
from glance.artifacts.types import base
from glance.common import wsgi

CONF = cfg.CONF
PATCH_MEDIA_TYPES = ('application/openstack-images-v2.1-json-patch',
                     'application/json-patch+json')
MAX_JSON_BODY = 1024 * 1024

_json_in = wsgi.JSONRequestDeserializer()
_json_out = wsgi.JSONResponseSerializer()


def _json(body, status=200, **headers):
    response = webob.Response(status=status, headers=headers)
    _json_out.default(response, body)
    return response


def _type(api, type_name, any_type=False):
    """The enabled type of that name; with ``any_type``, also the ``all``
    pseudo-type of lists and their schemas."""
    if any_type and type_name == base.AnyType.name:
        return base.AnyType
    type_cls = api.types.get(type_name)
    if type_cls is None:
        raise exception.UnknownType(
            "Unknown artifact type '%s'; the enabled types are: %s"
            % (type_name[:64], ', '.join(sorted(api.types))))
    return type_cls


def _writable(api, type_name, allow='GET'):
    """The enabled type of that name, if its artifacts can be written
    here; 405 for a read-only type (images), naming where to write."""
    type_cls = _type(api, type_name)
    if type_cls.read_only:
        # This error's body template shows the detail, not the explanation.
        raise webob.exc.HTTPMethodNotAllowed(
            detail='%s are read-only in the artifacts API: create, change, '
                   'share and delete them with /v2/%s.'
                   % (type_cls.display_name + 's', type_cls.name),
            headers=[('Allow', allow)])
    if type_cls.written_elsewhere:
        raise webob.exc.HTTPMethodNotAllowed(
            detail='%ss are written only through %s, which derives their '
                   'fields from their content.'
                   % (type_cls.display_name, type_cls.written_elsewhere),
            headers=[('Allow', allow)])
    return type_cls


def _body(req):
    """The parsed JSON body, which must be there and fit MAX_JSON_BODY."""
    if req.content_length is not None and \
            req.content_length > MAX_JSON_BODY:
        raise webob.exc.HTTPRequestEntityTooLarge(
            explanation='The request body may have at most %d bytes.'
                        % MAX_JSON_BODY)
    with _idle_timeout(req):
        try:
            data = req.body_file.read(MAX_JSON_BODY + 1)
        except TimeoutError:
            raise webob.exc.HTTPRequestTimeout(
                explanation='No data came for %d seconds.'
                            % CONF.artifacts.upload_idle_timeout)
        except Exception as e:  # whatever the WSGI server's reader raises
            raise webob.exc.HTTPBadRequest(
                explanation='The request body could not be read (%s).'
                            % type(e).__name__)
    if len(data) > MAX_JSON_BODY:
        raise webob.exc.HTTPRequestEntityTooLarge(
            explanation='The request body may have at most %d bytes.'
                        % MAX_JSON_BODY)
    if not data:
        raise webob.exc.HTTPBadRequest(
            explanation='The request needs a JSON body.')
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError:
        raise webob.exc.HTTPBadRequest(
            explanation='The request body is not UTF-8.')
    try:
        return _json_in.from_json(text)
    except RecursionError:
        raise webob.exc.HTTPBadRequest(
            explanation='The request body nests too deeply.')


def _page_link(req, base, **changes):
    params = [(k, v) for k, v in req.GET.items() if k not in changes]
    params += [(k, v) for k, v in changes.items() if v is not None]
    query = urllib.parse.urlencode(params)
    return base + ('?' + query if query else '')


# -- types and schemas -------------------------------------------------------

def list_types(api, req):
    policy.authorize(req.context, 'artifacts:list_types', {})
    return _json({'artifact_types': [
        schemas.type_summary(api.types[name])
        for name in sorted(api.types)]})


def show_openapi(api, req):
    policy.authorize(req.context, 'artifacts:list_types', {})
    return _json(openapi.document(api.routes, api.types))


def show_schema(api, req, type_name):
    policy.authorize(req.context, 'artifacts:list_types', {})
    return _json(schemas.artifact_schema(_type(api, type_name, True)))


def show_list_schema(api, req, type_name):
    policy.authorize(req.context, 'artifacts:list_types', {})
    return _json(schemas.list_schema(_type(api, type_name, True)))


# -- quotas ------------------------------------------------------------------

def show_usage(api, req):
    policy.authorize(req.context, 'artifacts:get_usage', {})
    return _json({'usage': quota.usage(req.context)})


# -- artifacts ---------------------------------------------------------------

def create_artifact(api, req, type_name):
    if type_name == base.AnyType.name:
        # This error's body template shows the detail, not the explanation.
        raise webob.exc.HTTPMethodNotAllowed(
            detail='%s lists artifacts of every type; create them at '
                   '%s/{type}.' % (type_name, catalog.PREFIX),
            headers=[('Allow', 'GET')])
    type_cls = _writable(api, type_name)
    body = _body(req)
    artifact = catalog.create(req.context, type_cls, body, api.types)
    return _json(artifact, status=201, Location=artifact['self'])


def list_artifacts(api, req, type_name):
    type_cls = _type(api, type_name, any_type=True)
    views, more = catalog.list_artifacts(req.context, type_cls, req.GET,
                                         api.types)
    base = '%s/%s' % (catalog.PREFIX, type_name)
    body = {'artifacts': views,
            'first': _page_link(req, base, marker=None),
            'schema': '%s/schemas/%s/list' % (catalog.PREFIX, type_name)}
    if more:
        body['next'] = _page_link(req, base, marker=views[-1]['id'])
    return _json(body)


def show_artifact(api, req, type_name, artifact_id):
    type_cls = _type(api, type_name)
    mode = req.GET.get('dependencies')
    if mode not in (None, 'direct', 'transitive'):
        raise webob.exc.HTTPBadRequest(
            explanation="dependencies must be direct or transitive, not "
                        "'%s'" % mode[:32])
    record = catalog.get_record(req.context, type_cls, artifact_id)
    view = catalog.present(type_cls, record)
    if mode:
        view['dependency_graph'] = lifecycle.dependencies(
            req.context, type_cls, record, api.types, mode == 'transitive')
    return _json(view)


def update_artifact(api, req, type_name, artifact_id):
    type_cls = _writable(api, type_name)
    if req.content_type not in PATCH_MEDIA_TYPES:
        # This error's body template shows the detail, not the explanation.
        raise webob.exc.HTTPUnsupportedMediaType(
            detail="PATCH takes a JSON patch as %s, not '%s'."
                   % (' or '.join(PATCH_MEDIA_TYPES), req.content_type[:64]),
            headers=[('Accept-Patch', ', '.join(PATCH_MEDIA_TYPES))])
    patch = _body(req)
    return _json(catalog.update(req.context, type_cls, artifact_id, patch,
                                api.types))


def delete_artifact(api, req, type_name, artifact_id):
    type_cls = _writable(api, type_name)
    catalog.delete(req.context, type_cls, artifact_id, api.types)
    return webob.Response(status=204)


def artifact_action(api, req, type_name, artifact_id, action):
    type_cls = _writable(api, type_name, allow='')
    if action == 'activate':
        lifecycle.activate(req.context, type_cls, artifact_id, api.types)
    elif action == 'deactivate':
        lifecycle.deactivate(req.context, type_cls, artifact_id)
    elif action == 'reactivate':
        lifecycle.reactivate(req.context, type_cls, artifact_id)
    else:
        raise webob.exc.HTTPNotFound(
            explanation="Unknown action '%s'; the actions are: %s"
                        % (action[:32], ', '.join(lifecycle.ACTIONS)))
    return webob.Response(status=204)


# -- tags and members --------------------------------------------------------

def add_tag(api, req, type_name, artifact_id, tag):
    catalog.add_tag(req.context, _writable(api, type_name, allow=''),
                    artifact_id, tag)
    return webob.Response(status=204)


def delete_tag(api, req, type_name, artifact_id, tag):
    catalog.delete_tag(req.context, _writable(api, type_name, allow=''),
                       artifact_id, tag)
    return webob.Response(status=204)


def add_member(api, req, type_name, artifact_id):
    return _json(members.add(req.context, _writable(api, type_name, ''),
                             artifact_id, _body(req)))


def list_members(api, req, type_name, artifact_id):
    return _json(members.list_members(req.context,
                                      _writable(api, type_name, ''),
                                      artifact_id))


def show_member(api, req, type_name, artifact_id, member):
    return _json(members.get_member(req.context,
                                    _writable(api, type_name, ''),
                                    artifact_id, member))


def update_member(api, req, type_name, artifact_id, member):
    return _json(members.update_member(req.context,
                                       _writable(api, type_name, ''),
                                       artifact_id, member, _body(req)))


def delete_member(api, req, type_name, artifact_id, member):
    members.delete_member(req.context, _writable(api, type_name, ''),
                          artifact_id, member)
    return webob.Response(status=204)


def show_member_schema(api, req):
    return _json(schemas.member_schema())


def show_members_schema(api, req):
    return _json(schemas.members_schema())


# -- blob data ---------------------------------------------------------------

SIZE_HEADER = 'x-openstack-artifact-size'
HASH_HEADER = 'x-openstack-artifact-os-hash-value'
ALGO_HEADER = 'x-openstack-artifact-os-hash-algo'
STORE_HEADER = 'x-openstack-artifact-store'
TYPE_HEADER = 'x-openstack-artifact-content-type'


_DIGITS = re.compile(r'[0-9]{1,19}')


def _declared_size(req):
    declared = req.headers.get(SIZE_HEADER)
    if declared is not None:
        if not _DIGITS.fullmatch(declared):
            raise webob.exc.HTTPBadRequest(
                explanation='%s must be a number of bytes (ASCII digits), '
                            'not %r' % (SIZE_HEADER, declared[:64]))
        declared = int(declared)
        if req.content_length is not None and \
                req.content_length != declared:
            raise webob.exc.HTTPBadRequest(
                explanation='%s (%d) and Content-Length (%d) differ.'
                            % (SIZE_HEADER, declared, req.content_length))
        return declared
    return req.content_length


# The paths after a blob (or the entry of a blob dict) and the method
# each takes: .../import (POST) and .../stage (PUT).
SUFFIXES = {'import': 'POST', 'stage': 'PUT'}


def _suffix(type_cls, blob, key):
    """(the blob's entry key, 'import' or 'stage' or None) of the path
    .../{blob}/{key}: a suffix comes after a single blob or after the
    entry of a blob dict (a dict's own entry may be named "import" or
    "stage")."""
    if key is None:
        return None, None
    field = type_cls.fields.get(blob)
    entry, slash, last = key.rpartition('/')
    if last in SUFFIXES and (slash or (
            isinstance(field, f.Blob) and
            not isinstance(field, f.BlobDict))):
        return entry or None, last
    return key, None


def _only(type_cls, blob, key, suffix, method):
    """The blob's entry key when .../{blob}/{key} is a path that
    ``method`` serves (the blob itself, or its ``suffix``); else 405
    naming the method its path takes."""
    entry, found = _suffix(type_cls, blob, key)
    if found != suffix:
        allow = SUFFIXES[found] if found else 'GET, PUT'
        raise webob.exc.HTTPMethodNotAllowed(
            detail='%s takes %s, not %s.' % (
                'An import is started with POST' if found == 'import' else
                'Data is staged with PUT' if found == 'stage' else
                'Blob data is uploaded with PUT', allow, method),
            headers=[('Allow', allow)])
    return entry


def upload_blob(api, req, type_name, artifact_id, blob, key=None):
    """PUT .../{blob}[/{key}]: upload its data; PUT .../stage: stage
    data for a glance-direct import."""
    type_cls = _writable(api, type_name)
    entry, suffix = _suffix(type_cls, blob, key)
    if suffix != 'stage':
        key = _only(type_cls, blob, key, None, 'PUT')
    else:
        key = entry
    if req.content_type != 'application/octet-stream':
        raise webob.exc.HTTPUnsupportedMediaType(
            detail="Blob data is sent as application/octet-stream, not "
                   "'%s'." % req.content_type[:64])
    size = _declared_size(req)
    if suffix == 'stage':
        with _idle_timeout(req):
            blobs.stage(req.context, type_cls, artifact_id, blob, key,
                        req.body_file, size,
                        content_type=req.headers.get(TYPE_HEADER),
                        md5=req.headers.get('Content-MD5'),
                        os_hash_value=req.headers.get(HASH_HEADER))
        return webob.Response(status=204)
    with _idle_timeout(req):
        blobs.upload(req.context, type_cls, artifact_id, blob, key,
                     req.body_file, size,
                     content_type=req.headers.get(TYPE_HEADER),
                     md5=req.headers.get('Content-MD5'),
                     os_hash_value=req.headers.get(HASH_HEADER),
                     backend=req.headers.get(STORE_HEADER),
                     types=api.types)
    return webob.Response(status=204)


def _idle_timeout(req):
    """While a request body is read, a read that waits [artifacts]
    upload_idle_timeout seconds for data raises TimeoutError (where the
    WSGI server lets us set it: see edge.Body.idle_timeout)."""
    body = req.environ['wsgi.input']
    if not isinstance(body, edge.Body):
        return contextlib.nullcontext()
    return body.idle_timeout(CONF.artifacts.upload_idle_timeout)


def download_blob(api, req, type_name, artifact_id, blob, key=None):
    type_cls = _type(api, type_name)
    key = _only(type_cls, blob, key, None, 'GET')
    if type_cls.read_only:
        return _redirect_to_data(req, type_cls, artifact_id, blob, key)
    try:
        artifact, row = blobs.download(req.context, type_cls, artifact_id,
                                       blob, key)
    except exception.NoData as e:
        raise webob.exc.HTTPNoContent(explanation=str(e))
    size = row['size']
    headers = {'Content-Type': row['content_type'],
               'Accept-Ranges': 'bytes',
               ALGO_HEADER: row['os_hash_algo'],
               HASH_HEADER: row['os_hash_value']}
    try:
        part = (None if 'If-Range' in req.headers else
                ranges.byte_range(req.headers.get('Range'), size))
    except ranges.Unsatisfiable:
        raise webob.exc.HTTPRequestRangeNotSatisfiable(
            explanation='The range %r lies outside the data (%d bytes).'
                        % (req.headers['Range'][:64], size),
            headers=[('Content-Range', 'bytes */%d' % size)])
    if part is None:
        headers['Content-MD5'] = row['checksum']
    return blob_response(req, artifact, row, part, headers)


def blob_response(req, artifact, row, part, headers):
    """The response with a blob row's data, whole (200) or the bytes
    [start, end) of ``part`` (206), with ``headers``; no data is read for
    HEAD."""
    size = row['size']
    if part is None:
        start, end, status = 0, size, 200
    else:
        (start, end), status = part, 206
        headers['Content-Range'] = 'bytes %d-%d/%d' % (start, end - 1, size)
    response = webob.Response(status=status)
    if req.method != 'HEAD':
        response.app_iter = blobs.read(req.context, artifact, row, part,
                                       req.remote_addr,
                                       edge.file_sender(req.environ))
    # Setting app_iter resets the headers that describe the body.
    response.headers.update(headers)
    response.headers['Content-Length'] = str(end - start)
    return response


def import_blob(api, req, type_name, artifact_id, blob, key):
    """POST .../{blob}/import and .../{blob}/{key}/import: start an
    import of the blob's data (202); its progress shows in the blob."""
    type_cls = _writable(api, type_name, allow='GET')
    key = _only(type_cls, blob, key, 'import', 'POST')
    body = _body(req)
    if not isinstance(body, dict) or set(body) - {
            'method', 'stores', 'all_stores', 'all_stores_must_succeed'}:
        raise webob.exc.HTTPBadRequest(
            explanation='An import is {"method": {"name": ...}, "stores": '
                        '[...], "all_stores_must_succeed": true|false}.')
    method = body.get('method')
    name = method.get('name') if isinstance(method, dict) else None
    if not isinstance(name, str) or name not in blobs.IMPORT_METHODS or (
            blobs.IMPORT_METHODS[name] not in CONF.enabled_import_methods):
        raise webob.exc.HTTPBadRequest(
            explanation="Unknown or disabled import method %r; the enabled "
                        "ones are: %s" % (str(name)[:64], ', '.join(
                            m for m, enabled_by in sorted(
                                blobs.IMPORT_METHODS.items())
                            if enabled_by in CONF.enabled_import_methods)
                            or 'none'))
    if name == 'copy-blob' and set(method) != {'name'}:
        raise webob.exc.HTTPBadRequest(
            explanation='Method %s takes no arguments but its name.' % name)
    must = body.get('all_stores_must_succeed', True)
    if not isinstance(must, bool):
        raise webob.exc.HTTPBadRequest(
            explanation='all_stores_must_succeed is true or false.')
    stores = body.get('stores')
    if stores is not None and not isinstance(stores, list):
        raise webob.exc.HTTPBadRequest(
            explanation='stores is a list of store names.')
    all_stores = body.get('all_stores', False)
    if not isinstance(all_stores, bool):
        raise webob.exc.HTTPBadRequest(
            explanation='all_stores is true or false.')
    if all_stores:
        if stores is not None:
            raise webob.exc.HTTPBadRequest(
                explanation='Give stores or all_stores, not both.')
        stores = 'all'
    if name == 'copy-blob':
        blobs.copy(req.context, type_cls, artifact_id, blob, key, stores,
                   all_stores_must_succeed=must)
    else:
        blobs.import_data(req.context, type_cls, artifact_id, blob, key,
                          method, stores, all_stores_must_succeed=must,
                          types=api.types)
    return webob.Response(status=202)


def delete_from_store(api, req, store, type_name, artifact_id, blob,
                      key=None):
    """DELETE /v2/artifacts/stores/{store}/{type}/{id}/{blob}[/{key}]:
    delete the copy of a blob's data in one store (as Glance's DELETE
    /v2/stores/{store}/{image})."""
    type_cls = _writable(api, type_name, allow='')
    blobs.drop(req.context, type_cls, artifact_id, blob, key, store)
    return webob.Response(status=204)


def _redirect_to_data(req, type_cls, artifact_id, blob, key):
    """An image's data is Glance's: 303 to /v2/images/{id}/file on this
    endpoint, where images' own download policy applies."""
    try:
        path = blobs.data_elsewhere(req.context, type_cls, artifact_id,
                                    blob, key)
    except exception.NoData as e:
        raise webob.exc.HTTPNoContent(explanation=str(e))
    mount = req.script_name
    root = mount[:-len(catalog.PREFIX)] if mount.endswith(
        catalog.PREFIX) else ''
    return webob.Response(status=303,
                          location=req.host_url + root + path)
