"""The base of every artifact type, and the fields every artifact has."""

import re

from glance.artifacts import fields as f

STATUSES = ('drafted', 'active', 'deactivated')
MEMBER_STATUSES = ('pending', 'accepted', 'rejected')
VISIBILITIES = ('private', 'shared', 'community', 'public')
TYPE_NAME = re.compile(r'[a-z][a-z0-9_]{0,62}')

#: Fields of every artifact. The ones stored as columns of the artifacts
#: table are in COLUMNS; tags and metadata have tables of their own.
COMMON_FIELDS = {
    'id': f.String(readonly=True, sortable=True, filterable=True,
                   description='The artifact id, a UUID.'),
    'type_name': f.String(readonly=True, sortable=True, filterable=True,
                          description='The type of the artifact.'),
    'type_version': f.String(readonly=True,
                             description='The version of the type '
                                         'declaration.'),
    'name': f.String(min_length=1, max_length=255, required=True,
                     sortable=True, filterable=True,
                     description='The name of the artifact.'),
    'version': f.SemVer(default='0.0.0', required=True, sortable=True,
                        filterable=True,
                        description='A Semantic Version 2.0 string. '
                                    'Lists compare versions by SemVer '
                                    'precedence; filter with '
                                    'version=latest for the highest '
                                    'version of each name.'),
    'description': f.Text(max_length=4096, mutable=True,
                          description='Free text.'),
    'owner': f.String(readonly=True, sortable=True, filterable=True,
                      description='The project that owns the artifact.'),
    'visibility': f.String(allowed_values=VISIBILITIES, default='private',
                           required=True, mutable=True, sortable=True,
                           filterable=True,
                           description='Who can see the artifact, as for '
                                       'images.'),
    'status': f.String(allowed_values=STATUSES, readonly=True,
                       sortable=True, filterable=True,
                       description='drafted at creation.'),
    'protected': f.Boolean(default=False, required=True, mutable=True,
                           sortable=True, filterable=True,
                           description='A protected artifact cannot be '
                                       'deleted.'),
    'tags': f.List(f.String(min_length=1, max_length=255), max_count=128,
                   mutable=True, filterable=True,
                   description='Tags; filter with tags=T, repeated for '
                               'artifacts having all of them.'),
    'metadata': f.Dict(f.String(max_length=255), max_count=128,
                       mutable=True, filterable=True,
                       description='Free key/value strings; filter with '
                                   'metadata.KEY=VALUE.'),
    'created_at': f.DateTime(readonly=True, sortable=True, filterable=True),
    'updated_at': f.DateTime(readonly=True, sortable=True, filterable=True),
    'activated_at': f.DateTime(readonly=True, sortable=True,
                               filterable=True),
}

COLUMNS = frozenset(COMMON_FIELDS) - {'tags', 'metadata'}

#: Path segments under /v2/artifacts/{type}/{id}/ that are not fields.
RESERVED_FIELDS = ('actions', 'members', 'self', 'schema', 'dependency_graph')


class ArtifactType(object):
    """Subclass and declare: a type is data, not code.

    ``name`` is the URL segment (/v2/artifacts/{name}) and must be the
    name of the type's entry point in the ``glance.artifacts.types`` group.
    ``fields`` maps field names to instances of glance.artifacts.fields.
    ``read_only``: the type shows records that change elsewhere (images);
    the API answers 405 to every write.
    ``written_elsewhere``: the API that alone writes the type's artifacts,
    deriving their fields from content (the OCI types); /v2/artifacts
    shows them and serves their data, and answers 405 to every write.
    """

    name = None
    read_only = False
    written_elsewhere = None
    display_name = None
    type_version = '1.0'
    description = ''
    fields = {}

    @classmethod
    def all_fields(cls):
        merged = dict(COMMON_FIELDS)
        merged.update(cls.fields)
        return merged

    @classmethod
    def check_declaration(cls, entry_point_name):
        """Raise DeclarationError if the type cannot be served."""
        if cls.name != entry_point_name:
            raise f.DeclarationError(
                'its name %r differs from its entry point name %r'
                % (cls.name, entry_point_name))
        if not isinstance(cls.name, str) or not TYPE_NAME.fullmatch(cls.name):
            raise f.DeclarationError(
                'its name %r must be 1-63 characters of a-z, 0-9 and _, '
                'starting with a letter' % (cls.name,))
        if cls.name in ('all', 'schemas', 'usage'):
            raise f.DeclarationError('%r is a reserved name' % cls.name)
        for attr in ('display_name', 'type_version', 'description'):
            if not isinstance(getattr(cls, attr), str):
                raise f.DeclarationError('%s must be a string' % attr)
        if not isinstance(cls.fields, dict):
            raise f.DeclarationError('fields must be a dict')
        for field_name, field in cls.fields.items():
            if field_name in COMMON_FIELDS:
                raise f.DeclarationError(
                    'field %r clashes with a common field' % field_name)
            if field_name in RESERVED_FIELDS:
                raise f.DeclarationError(
                    'field name %r is reserved for the API (%s)'
                    % (field_name, ', '.join(RESERVED_FIELDS)))
            if not isinstance(field, f.Field):
                raise f.DeclarationError(
                    'field %r is not a glance.artifacts.fields.Field'
                    % field_name)
            if not re.fullmatch(r'[a-z][a-z0-9_]{0,63}', field_name):
                raise f.DeclarationError(
                    'field name %r must be 1-64 characters of a-z, 0-9 '
                    'and _, starting with a letter' % field_name)
            if field.readonly and (field.required or
                                   field.default is not None):
                # Clients never give a read-only field: the server fills
                # it (a blob's inspector), so it starts empty.
                raise f.DeclarationError(
                    'field %r: a read-only field is filled by the server; '
                    'it can be neither required nor have a default'
                    % field_name)


class AnyType(ArtifactType):
    """The ``all`` pseudo-type: artifacts of every enabled type, with the
    fields they have in common; read-only."""

    name = 'all'
    display_name = 'Artifact of any type'
    description = 'Lists artifacts across every enabled type.'
