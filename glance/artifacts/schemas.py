"""JSON schemas and summaries of artifact types, from their declarations."""

from glance.artifacts import catalog

PREFIX = catalog.PREFIX


def type_summary(type_cls):
    name = type_cls.name
    return {
        'name': name,
        'display_name': type_cls.display_name,
        'type_version': type_cls.type_version,
        'description': type_cls.description,
        'links': [
            {'rel': 'self', 'href': '%s/%s' % (PREFIX, name)},
            {'rel': 'describedby',
             'href': '%s/schemas/%s' % (PREFIX, name)},
            {'rel': 'list', 'href': '%s/schemas/%s/list' % (PREFIX, name)},
        ],
    }


def artifact_schema(type_cls):
    fields = type_cls.all_fields()
    properties = {name: field.schema() for name, field in fields.items()}
    properties['self'] = {'type': 'string', 'readOnly': True}
    properties['schema'] = {'type': 'string', 'readOnly': True}
    return {
        'name': type_cls.name,
        'title': type_cls.display_name,
        'description': type_cls.description,
        'version': type_cls.type_version,
        'type': 'object',
        'properties': properties,
        'required': sorted(n for n, fd in fields.items() if fd.required),
        'additionalProperties': False,
        'links': [
            {'rel': 'self', 'href': '{self}'},
            {'rel': 'describedby', 'href': '{schema}'},
        ],
    }


def list_schema(type_cls):
    return {
        'name': type_cls.name,
        'type': 'object',
        'properties': {
            'artifacts': {'type': 'array',
                          'items': artifact_schema(type_cls)},
            'schema': {'type': 'string'},
            'first': {'type': 'string'},
            'next': {'type': 'string'},
        },
        'links': [
            {'rel': 'first', 'href': '{first}'},
            {'rel': 'next', 'href': '{next}'},
            {'rel': 'describedby', 'href': '{schema}'},
        ],
    }


def member_schema():
    return {
        'name': 'member',
        'type': 'object',
        'properties': {
            'artifact_id': {'type': 'string', 'format': 'uuid'},
            'member_id': {'type': 'string', 'maxLength': 255},
            'status': {'type': 'string',
                       'enum': ['pending', 'accepted', 'rejected']},
            'created_at': {'type': 'string', 'format': 'date-time'},
            'updated_at': {'type': 'string', 'format': 'date-time'},
            'schema': {'type': 'string', 'readOnly': True},
        },
    }


def members_schema():
    return {
        'name': 'members',
        'type': 'object',
        'properties': {
            'members': {'type': 'array', 'items': member_schema()},
            'schema': {'type': 'string'},
        },
        'links': [{'rel': 'describedby', 'href': '{schema}'}],
    }
