"""The OpenAPI 3.1 document of /v2/artifacts, made from the route table
(router.ROUTES) and the type declarations; nothing here repeats a path
or a field.

Each route is written out for every enabled type (and, where a handler
takes it, the ``all`` pseudo-type), every blob field and every action,
so that a client, or a fuzzer, knows the exact body of each. What the
route table cannot say, each handler's operation below does: its
summary, body, parameters and answers.

``GET /v2/artifacts/openapi.json`` serves the document for the enabled
types; ``glance-artifacts-manage openapi`` prints it, and
doc/api/openapi.json holds it for the default types.
"""

import copy
import re

from glance.artifacts import blobs
from glance.artifacts import fields as f
from glance.artifacts import lifecycle
from glance.artifacts import schemas
from glance.artifacts.types import base

PREFIX = schemas.PREFIX
V21_PATCH = 'application/openstack-images-v2.1-json-patch'
RFC_PATCH = 'application/json-patch+json'
JSON = 'application/json'


def _ref(name):
    return {'$ref': '#/components/schemas/%s' % name}


def _json_content(schema):
    return {JSON: {'schema': schema}}


# Errors come as webob renders them: JSON for clients that accept it,
# else HTML or plain text.
ERROR = {
    'type': 'object',
    'required': ['message', 'code', 'title'],
    'properties': {'message': {'type': 'string'},
                   'code': {'type': 'string'},
                   'title': {'type': 'string'}},
}
ERROR_CONTENT = {JSON: {'schema': _ref('Error')},
                 'text/html': {'schema': {'type': 'string'}},
                 'text/plain': {'schema': {'type': 'string'}}}
ERROR_TEXT = {
    400: 'The request is malformed or a value is not acceptable; the '
         'message says which.',
    401: 'No valid token (with Keystone authentication).',
    403: 'The caller may see the artifact but not do this.',
    404: 'No such artifact, type, field, member or tag that the caller '
         'can see.',
    405: 'The path takes other methods (see Allow).',
    408: 'The client sent no data for [artifacts] upload_idle_timeout '
         'seconds.',
    409: 'The artifact is not in a state that allows this, or changed '
         'meanwhile.',
    411: 'The request needs a length.',
    413: 'The body or the data is larger than allowed.',
    414: 'The request line is longer than the WSGI server takes '
         '(gunicorn: limit_request_line).',
    415: 'The body is not of a media type the operation takes.',
    416: 'The range lies outside the data.',
    431: 'The headers are larger than the WSGI server takes.',
    503: 'The store or the registry cannot be reached.',
}
# Errors any operation may answer.
COMMON_ERRORS = (400, 401, 404, 405, 414, 431)

ID = {'name': 'artifact_id', 'in': 'path', 'required': True,
      'schema': {'type': 'string', 'format': 'uuid'},
      'description': 'The artifact id.'}
TAG = {'name': 'tag', 'in': 'path', 'required': True,
       'schema': base.COMMON_FIELDS['tags'].element.schema()}
MEMBER = {'name': 'member', 'in': 'path', 'required': True,
          'schema': {'type': 'string', 'minLength': 1, 'maxLength': 255},
          'description': 'A project id.'}
STORE = {'name': 'store', 'in': 'path', 'required': True,
         'schema': {'type': 'string', 'minLength': 1, 'maxLength': 255},
         'description': 'A store (backend) name, as /v2/info/stores '
                        'shows them.'}
KEY = {'name': 'key', 'in': 'path', 'required': True,
       'schema': {'type': 'string', 'pattern': '^%s$' % blobs.KEY.pattern},
       'description': 'The entry of the blob dict.'}
UPLOAD_HEADERS = [
    {'name': 'Content-MD5', 'in': 'header',
     'schema': {'type': 'string', 'pattern': '^[0-9a-fA-F]{32}$'},
     'description': 'The MD5 of the data, in hex; a mismatch is 400.'},
    {'name': 'X-Openstack-Artifact-Os-Hash-Value', 'in': 'header',
     'schema': {'type': 'string', 'pattern': '^[0-9a-fA-F]+$'},
     'description': 'The hashing_algorithm digest of the data, in hex.'},
    {'name': 'X-Openstack-Artifact-Size', 'in': 'header',
     'schema': {'type': 'string', 'pattern': '^[0-9]{1,19}$'},
     'description': 'The size of the data, for a chunked upload.'},
    {'name': 'X-Openstack-Artifact-Content-Type', 'in': 'header',
     'schema': {'type': 'string',
                'pattern': '^%s$' % blobs.MEDIA_TYPE.pattern},
     'description': 'The media type downloads are served with.'},
    {'name': 'X-Openstack-Artifact-Store', 'in': 'header',
     'schema': {'type': 'string', 'minLength': 1, 'maxLength': 255},
     'description': 'The store backend (policy artifacts:select_backend).'},
]
LIST_PARAMETERS = [
    {'name': 'limit', 'in': 'query',
     'schema': {'type': 'integer', 'minimum': 0},
     'description': 'Page size, cut to [artifacts] api_limit_max.'},
    {'name': 'marker', 'in': 'query',
     'schema': {'type': 'string', 'format': 'uuid'},
     'description': 'The id of the last artifact of the previous page.'},
    {'name': 'sort', 'in': 'query', 'schema': {'type': 'string'},
     'description': 'key:dir,... on sortable fields.'},
    {'name': 'sort_key', 'in': 'query', 'schema': {'type': 'string'}},
    {'name': 'sort_dir', 'in': 'query',
     'schema': {'type': 'string', 'enum': ['asc', 'desc']}},
    {'name': 'member_status', 'in': 'query',
     'schema': {'type': 'string',
                'enum': list(base.MEMBER_STATUSES) + ['all']}},
]
DEPENDENCIES = {'name': 'dependencies', 'in': 'query',
                'schema': {'type': 'string',
                           'enum': ['direct', 'transitive']},
                'description': 'Add the dependency graph.'}
RANGE = {'name': 'Range', 'in': 'header', 'schema': {'type': 'string'},
         'description': 'One byte range, as RFC 9110 says; others are '
                        'ignored.'}
DEPENDENCY_GRAPH = {
    'type': 'object',
    'required': ['artifacts', 'references'],
    'properties': {
        'artifacts': {'type': 'array', 'items': {
            'type': 'object', 'required': ['id', 'visible'],
            'properties': {
                'id': {'type': 'string'}, 'visible': {'type': 'boolean'},
                'type_name': {'type': 'string'},
                'name': {'type': 'string'},
                'version': {'type': 'string'},
                'status': {'type': 'string'},
                'self': {'type': 'string'}}}},
        'references': {'type': 'array', 'items': {
            'type': 'object', 'required': ['from', 'to', 'field', 'key'],
            'properties': {
                'from': {'type': 'string'}, 'to': {'type': 'string'},
                'field': {'type': 'string'},
                'key': {'type': ['string', 'integer', 'null']}}}},
    },
}
TYPES_LIST = {
    'type': 'object', 'required': ['artifact_types'],
    'properties': {'artifact_types': {'type': 'array', 'items': {
        'type': 'object',
        'required': ['name', 'display_name', 'type_version',
                     'description', 'links'],
        'properties': {
            'name': {'type': 'string'},
            'display_name': {'type': 'string'},
            'type_version': {'type': 'string'},
            'description': {'type': 'string'},
            'links': {'type': 'array', 'items': {
                'type': 'object', 'required': ['rel', 'href'],
                'properties': {'rel': {'type': 'string'},
                               'href': {'type': 'string'}}}}}}}},
}
JSON_PATCH = {
    'type': 'array',
    'items': {
        'type': 'object', 'required': ['op', 'path'],
        'properties': {'op': {'type': 'string',
                              'enum': ['add', 'replace', 'remove']},
                       'path': {'type': 'string', 'pattern': '^/'},
                       'value': {}}},
}
ANY_OBJECT = {'type': 'object'}
_COUNT = {'type': 'object', 'required': ['usage', 'limit'],
          'properties': {'usage': {'type': 'integer'},
                         'limit': {'type': ['integer', 'null']}}}
USAGE = {
    'type': 'object', 'required': ['usage'],
    'properties': {'usage': {
        'type': 'object',
        'required': ['artifact_count_total', 'artifact_size_total',
                     'artifact_count_uploading'],
        'properties': {
            'artifact_count_total': _COUNT,
            'artifact_count_uploading': _COUNT,
            'artifact_size_total': {
                'type': 'object',
                'required': ['usage', 'usage_bytes', 'limit'],
                'properties': {
                    'usage': {'type': 'number'},
                    'usage_bytes': {'type': 'integer'},
                    'limit': {'type': ['integer', 'null']}}}}}},
}


class Operation(object):
    """What a handler takes and answers, beyond its path.

    ``scope`` says which types its ``{type_name}`` expands to: 'typed'
    (the enabled types), 'any' (and ``all``) or None (no type).
    ``body`` is a media type -> schema name (or schema) map,
    ``answers`` a status -> (description, schema name or None, headers)
    map, ``errors`` the 4xx/5xx statuses besides the common ones.
    """

    def __init__(self, summary, answers, errors=(), body=None,
                 parameters=(), scope='typed', links=False, filters=False,
                 suffix='', variants=()):
        self.summary = summary
        # The operations (names in OPERATIONS) that the same handler
        # serves on the paths of their own suffixes.
        self.variants = variants
        # After the blob (or the entry of a blob dict) of a route that
        # takes the rest of the path: its own path.
        self.suffix = suffix
        self.filters = filters
        self.answers = answers
        self.errors = errors
        self.body = body
        self.parameters = list(parameters)
        self.scope = scope
        self.links = links


OPERATIONS = {
    'list_types': Operation(
        'List the enabled artifact types.',
        {200: ('The types.', 'ArtifactTypes', {})}, scope=None),
    'show_openapi': Operation(
        'This OpenAPI document, for the enabled types.',
        {200: ('The document.', 'JSONSchema', {})}, scope=None),
    'show_member_schema': Operation(
        'The JSON schema of a member.',
        {200: ('The schema.', 'JSONSchema', {})}, scope=None),
    'show_members_schema': Operation(
        'The JSON schema of a member list.',
        {200: ('The schema.', 'JSONSchema', {})}, scope=None),
    'show_usage': Operation(
        'The quota usage and limits of the caller\'s project.',
        {200: ('Per resource, its usage and limit (sizes in MiB).',
               'Usage', {})}, scope=None),
    'show_schema': Operation(
        'The JSON schema of an artifact of the type.',
        {200: ('The schema.', 'JSONSchema', {})}, scope='any'),
    'show_list_schema': Operation(
        'The JSON schema of a list of artifacts of the type.',
        {200: ('The schema.', 'JSONSchema', {})}, scope='any'),
    'create_artifact': Operation(
        'Create an artifact (drafted).',
        {201: ('The artifact.', '{type}.Artifact',
               {'Location': 'Its URL.'})},
        errors=(403, 409, 413), body={JSON: '{type}.New'}, links=True),
    'list_artifacts': Operation(
        'List the artifacts the caller can see, a page at a time.',
        {200: ('A page.', '{type}.List', {})},
        parameters=LIST_PARAMETERS, scope='any', filters=True),
    'show_artifact': Operation(
        'Show an artifact.',
        {200: ('The artifact.', '{type}.ArtifactWithGraph', {})},
        parameters=[DEPENDENCIES]),
    'update_artifact': Operation(
        'Change an artifact with a JSON patch (add, replace, remove).',
        {200: ('The artifact as changed.', '{type}.Artifact', {})},
        errors=(403, 409, 413, 415),
        body={V21_PATCH: 'JSONPatch', RFC_PATCH: 'JSONPatch'}),
    'delete_artifact': Operation(
        'Delete an artifact and its data.', {204: ('Deleted.', None, {})},
        errors=(403, 409)),
    'artifact_action': Operation(
        'Change the status of an artifact.', {204: ('Done.', None, {})},
        errors=(403, 409)),
    'add_tag': Operation('Add a tag (adding it again is harmless).',
                         {204: ('Added.', None, {})}, errors=(403, 409, 413)),
    'delete_tag': Operation('Remove a tag.', {204: ('Removed.', None, {})},
                            errors=(403, 409)),
    'add_member': Operation(
        'Share a shared artifact with a project (pending).',
        {200: ('The member.', 'Member', {})}, errors=(403, 409, 413),
        body={JSON: 'NewMember'}),
    'list_members': Operation(
        'The members of an artifact (a member sees itself).',
        {200: ('The members.', 'Members', {})}, errors=(403,)),
    'show_member': Operation('One member of an artifact.',
                             {200: ('The member.', 'Member', {})},
                             errors=(403,)),
    'update_member': Operation(
        'Accept or reject a share (the member itself).',
        {200: ('The member.', 'Member', {})}, errors=(403, 409, 413),
        body={JSON: 'MemberStatus'}),
    'delete_member': Operation('Stop sharing with a project.',
                               {204: ('Removed.', None, {})},
                               errors=(403, 409)),
    'upload_blob': Operation(
        'Upload the data of a blob (of a drafted artifact).',
        {204: ('Stored, verified and recorded.', None, {})},
        errors=(403, 408, 409, 411, 413, 415, 503),
        body={'application/octet-stream': {'type': 'string',
                                           'format': 'binary'}},
        parameters=UPLOAD_HEADERS, variants=('stage_blob',)),
    'stage_blob': Operation(
        'Stage data for a glance-direct import of a blob (of a drafted '
        'artifact) in Glance\'s staging store; the blob is uploading '
        'until the data is imported.',
        {204: ('Staged and verified.', None, {})},
        errors=(403, 408, 409, 411, 413, 415, 503),
        body={'application/octet-stream': {'type': 'string',
                                           'format': 'binary'}},
        parameters=UPLOAD_HEADERS[:-1], suffix='/stage'),
    'download_blob': Operation(
        'Download the data of a blob, or one byte range of it.',
        {200: ('The data.', 'Data', {
            'Content-MD5': 'MD5 of the data, in hex.',
            'X-Openstack-Artifact-Os-Hash-Algo': 'The multihash '
                                                 'algorithm.',
            'X-Openstack-Artifact-Os-Hash-Value': 'The multihash.'}),
         204: ('The blob has no data yet.', None, {}),
         206: ('The range.', 'Data', {
             'Content-Range': 'bytes FIRST-LAST/SIZE'}),
         303: ('The data of a read-only type is elsewhere (an image\'s '
               'at /v2/images/{id}/file).', None, {
                   'Location': 'Where the data is.'})},
        errors=(403, 416, 503), parameters=[RANGE]),
    'import_blob': Operation(
        'Import data into a blob in the background, as images are '
        'imported: glance-direct imports the staged data, web-download '
        'the data at a URL, copy-blob copies its data to more stores.',
        {202: ('Started; the blob shows the stores it is imported or '
               'copied to in os_glance_importing_to_stores, and those '
               'that failed in os_glance_failed_import.', None, {})},
        errors=(403, 409, 413), body={JSON: 'Import'}, suffix='/import'),
    'delete_from_store': Operation(
        'Delete the copy of a blob\'s data in one store (never the '
        'last one).', {204: ('Deleted.', None, {})}, errors=(403, 409)),
}

# What a read-only type (images) serves; its other routes answer 405.
READ_ONLY_OPERATIONS = ('list_artifacts', 'show_artifact', 'download_blob',
                        'show_schema', 'show_list_schema')


PATH_PARAMETERS = {'{artifact_id}': ID, '{tag}': TAG, '{member}': MEMBER,
                   '{store}': STORE}


def _expand(path, type_cls, suffix=''):
    """The concrete paths of a route for one type: [(path, path
    parameters)]; with ``suffix``, the paths of the operation after each
    blob or blob dict entry of a route that takes the rest of the
    path."""
    parts = [type_cls.name if part == '{type_name}' else part
             for part in path.strip('/').split('/')]
    params = [PATH_PARAMETERS[p] for p in parts if p in PATH_PARAMETERS]
    expanded = [('/' + '/'.join(parts), params)]
    if '{action}' in parts:
        expanded = [(p.replace('{action}', action), ps)
                    for p, ps in expanded for action in lifecycle.ACTIONS]
    if '{blob}' in parts:
        dict_route = '{key:.*}' in parts
        blob_fields = [(name, isinstance(field, f.BlobDict))
                       for name, field in sorted(type_cls.fields.items())
                       if isinstance(field, f.Blob)]
        if suffix:
            expanded = [
                (p.replace('{blob}', name).replace(
                    '/{key:.*}', '/{key}' if is_dict else '') + suffix,
                 ps + ([KEY] if is_dict else []))
                for p, ps in expanded for name, is_dict in blob_fields]
        else:
            expanded = [
                (p.replace('{blob}', name).replace('{key:.*}', '{key}'),
                 ps + ([KEY] if dict_route else []))
                for p, ps in expanded for name, is_dict in blob_fields
                if is_dict == dict_route]
    return expanded


def _filters(type_cls):
    """Query parameters of a list: its filters, field=[op:]value, for
    the filterable fields of the type (DICT.KEY filters have names of the
    client's choosing, and are not listed)."""
    params = []
    for name, field in sorted(type_cls.all_fields().items()):
        if not field.filterable or isinstance(field, f.Dict):
            continue
        param = {'name': name, 'in': 'query', 'schema': {'type': 'string'},
                 'description': '[op:]value with op one of %s'
                                % ', '.join(field.ops)}
        if 'like' in field.ops:
            param['description'] += (
                ' (like: takes an SQL LIKE pattern, with case: % any '
                'characters, _ one character, a backslash before %, _ or '
                'a backslash for itself)')
        if name == 'tags':
            param.update(schema={'type': 'array', 'items': {
                'type': 'string'}}, explode=True,
                description='Artifacts with every tag given.')
            params.append({'name': 'tags-any', 'in': 'query',
                           'schema': {'type': 'string'},
                           'description': 'Artifacts with at least one of '
                           'these tags, comma-separated (a tag with a '
                           'comma in double quotes).'})
        elif name == 'version':
            param['description'] += ', or latest'
        params.append(param)
    return params


def _operation_id(function_name, path):
    return '%s:%s' % (function_name, path)


def _answers(operation, type_name):
    answers = {}
    for status, (text, schema, headers) in operation.answers.items():
        answer = {'description': text}
        if schema == 'Data':
            answer['content'] = {'*/*': {'schema': {
                'type': 'string', 'format': 'binary'}}}
        elif schema is not None:
            answer['content'] = _json_content(
                _ref(schema.format(type=type_name)))
        if headers:
            answer['headers'] = {name: {'description': text,
                                        'schema': {'type': 'string'}}
                                 for name, text in headers.items()}
        answers[str(status)] = answer
    for status in sorted(set(COMMON_ERRORS) | set(operation.errors)):
        answers[str(status)] = {'$ref': '#/components/responses/Error%d'
                                        % status}
    return answers


def _links(type_cls, operations_by_path):
    """For a create operation: the operations on the new artifact, with
    its id from the 201 body."""
    item = '/%s/{artifact_id}' % type_cls.name
    return {re.sub('[^A-Za-z0-9_]+', '.', op_id).strip('.'): {
        'operationId': op_id,
        'parameters': {'artifact_id': '$response.body#/id'}}
        for path, op_id in sorted(operations_by_path)
        if path == item or path.startswith(item + '/')}


def _types_for(scope, types):
    if scope is None:
        return [None]
    listed = [types[name] for name in sorted(types)]
    return listed + [base.AnyType] if scope == 'any' else listed


def document(routes, types, version='1.0'):
    """The OpenAPI 3.1 document of ``routes`` (router.ROUTES) for the
    enabled ``types`` ({name: type class})."""
    paths = {}
    created = []
    for route, methods in routes:
        if route == '':
            continue            # the same operation as '/'
        served = [(method, name) for method, function in
                  sorted(methods.items()) for name in
                  (function.__name__,) +
                  OPERATIONS[function.__name__].variants]
        for method, name in served:
            operation = OPERATIONS[name]
            for type_cls in _types_for(operation.scope, types):
                if (getattr(type_cls, 'read_only', False) or
                        getattr(type_cls, 'written_elsewhere', None)) and \
                        name not in READ_ONLY_OPERATIONS:
                    continue
                expanded = (_expand(route, type_cls, operation.suffix)
                            if type_cls is not None else [(route, [])])
                for path, params in expanded:
                    op_id = _operation_id(name, path)
                    spec = {'operationId': op_id,
                            'summary': operation.summary,
                            'parameters': params + operation.parameters}
                    if operation.filters:
                        spec['parameters'] += _filters(type_cls)
                    if type_cls is not None:
                        spec['tags'] = [type_cls.name]
                    if operation.body:
                        spec['requestBody'] = {'required': True, 'content': {
                            media: {'schema': _ref(schema.format(
                                type=type_cls.name))
                                if isinstance(schema, str) else schema}
                            for media, schema in operation.body.items()}}
                    if operation.links:
                        created.append((type_cls, spec))
                    spec['responses'] = _answers(
                        operation, type_cls.name if type_cls else None)
                    paths.setdefault(path, {})[method.lower()] = spec
    operations = [(p, spec['operationId']) for p, methods in paths.items()
                  for spec in methods.values()]
    for type_cls, spec in created:
        spec['responses']['201']['links'] = _links(type_cls, operations)
    return {
        'openapi': '3.1.0',
        'info': {'title': 'glance-artifacts', 'version': version,
                 'description': 'The artifact repository of OpenStack '
                                'Glance, at /v2/artifacts.'},
        'servers': [{'url': PREFIX}],
        'paths': dict(sorted(paths.items())),
        'components': {
            'schemas': _components(types),
            'responses': {'Error%d' % status: {'description': text,
                                               'content': ERROR_CONTENT}
                          for status, text in sorted(ERROR_TEXT.items())}},
    }


def _new_artifact(type_cls):
    """The body of a create: the writable fields (null unsets a field
    that is not required, and empties a list or dict)."""
    fields = type_cls.all_fields()
    writable = {name: field for name, field in fields.items()
                if not field.readonly and not isinstance(field, f.Blob)}
    properties = {}
    for name, field in sorted(writable.items()):
        properties[name] = field.schema()
        if not field.scalar and not field.required:
            properties[name]['type'] = [properties[name]['type'], 'null']
    return {
        'type': 'object',
        'properties': properties,
        'required': sorted(name for name, field in writable.items()
                           if field.required and field.default is None),
        'additionalProperties': False,
    }


def _components(types):
    components = {
        'Error': ERROR,
        'ArtifactTypes': TYPES_LIST,
        'JSONSchema': ANY_OBJECT,
        'JSONPatch': JSON_PATCH,
        'Usage': USAGE,
        'Member': schemas.member_schema(),
        'Members': schemas.members_schema(),
        'NewMember': {'type': 'object', 'required': ['member'],
                      'additionalProperties': False,
                      'properties': {'member': MEMBER['schema']}},
        'Import': {'type': 'object', 'required': ['method'],
                   'additionalProperties': False,
                   'properties': {
                       'method': {
                           'type': 'object', 'required': ['name'],
                           'additionalProperties': False,
                           'properties': {
                               'name': {'type': 'string',
                                        'enum': sorted(
                                            blobs.IMPORT_METHODS)},
                               'uri': {'type': 'string', 'minLength': 1,
                                       'maxLength': blobs.URI_MAX,
                                       'description': 'web-download: the '
                                       'http or https URL of the data.'},
                               'validation_data': {
                                   'type': 'object',
                                   'additionalProperties': False,
                                   'properties': {
                                       'os_hash_algo': {'type': 'string'},
                                       'os_hash_value': {
                                           'type': 'string',
                                           'pattern': '^[0-9a-fA-F]+$'},
                                       'checksum': {
                                           'type': 'string',
                                           'pattern':
                                           '^[0-9a-fA-F]{32}$'}}}}},
                       'stores': {'type': 'array', 'minItems': 1,
                                  'items': STORE['schema']},
                       'all_stores': {'type': 'boolean'},
                       'all_stores_must_succeed': {'type': 'boolean'}}},
        'MemberStatus': {'type': 'object', 'required': ['status'],
                         'additionalProperties': False,
                         'properties': {'status': {
                             'type': 'string',
                             'enum': list(base.MEMBER_STATUSES)}}},
    }
    for type_cls in [types[n] for n in sorted(types)] + [base.AnyType]:
        name = type_cls.name
        artifact = schemas.artifact_schema(type_cls)
        components['%s.Artifact' % name] = artifact
        listed = schemas.list_schema(type_cls)
        listed['properties']['artifacts']['items'] = _ref(
            '%s.Artifact' % name)
        components['%s.List' % name] = listed
        if type_cls is base.AnyType:
            continue
        with_graph = copy.deepcopy(artifact)
        with_graph['properties']['dependency_graph'] = DEPENDENCY_GRAPH
        components['%s.ArtifactWithGraph' % name] = with_graph
        components['%s.New' % name] = _new_artifact(type_cls)
    return components
