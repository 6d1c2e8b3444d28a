"""TOSCA templates.

A template's content is inspected: it is a YAML service template with a
tosca_definitions_version, or a CSAR (a zip) whose TOSCA-Metadata/
TOSCA.meta names its entry definitions, such a template inside the
archive. template_format, tosca_definitions_version and, for a CSAR,
entry_definitions are set from it. A CSAR larger than 1 GiB (it may carry
the VM images of its VNFs) is inspected when the artifact is activated,
so that its upload ends as soon as its data is stored.
"""

from glance.artifacts import exception
from glance.artifacts import fields as f
from glance.artifacts import inspection
from glance.artifacts.types import base

GiB = 2 ** 30
TOSCA_VERSIONS = ('tosca_simple_yaml_1_0', 'tosca_simple_yaml_1_1',
                  'tosca_simple_yaml_1_2', 'tosca_simple_yaml_1_3',
                  'tosca_simple_profile_for_nfv_1_0_0')
META = 'TOSCA-Metadata/TOSCA.meta'
META_KEYS = ('TOSCA-Meta-File-Version', 'CSAR-Version', 'Created-By',
             'Entry-Definitions')
META_MAX_BYTES = 64 * 1024
ZIP_MAGIC = (b'PK\x03\x04', b'PK\x05\x06')


def check_service_template(data, where):
    """The tosca_definitions_version of a service template, or Invalid."""
    doc = inspection.load_yaml(data, where)
    if not isinstance(doc, dict):
        raise exception.Invalid('%s: a TOSCA service template is a YAML '
                                'mapping with tosca_definitions_version'
                                % where)
    if 'tosca_definitions_version' not in doc:
        raise exception.Invalid('%s: tosca_definitions_version is missing; '
                                'it is one of %s'
                                % (where, ', '.join(TOSCA_VERSIONS)))
    version = doc['tosca_definitions_version']
    if version not in TOSCA_VERSIONS:
        raise exception.Invalid(
            "%s: tosca_definitions_version '%s' is not one of %s"
            % (where, str(version)[:64], ', '.join(TOSCA_VERSIONS)))
    return version


def parse_meta(data, where):
    """The keys of a TOSCA.meta block ("Key: value" lines)."""
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError:
        raise exception.Invalid('%s: not UTF-8 text' % where)
    meta = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition(':')
        if not sep or not key.strip():
            raise exception.Invalid("%s: line %d is not 'Key: value'"
                                    % (where, number))
        meta.setdefault(key.strip(), value.strip())
    missing = [k for k in META_KEYS if not meta.get(k)]
    if missing:
        raise exception.Invalid('%s: %s missing; TOSCA.meta has %s'
                                % (where, ', '.join(missing),
                                   ', '.join(META_KEYS)))
    return meta


def inspect_template(content, artifact, lookup):
    with content.open() as fp:
        magic = fp.read(4)
    if magic not in ZIP_MAGIC:
        version = check_service_template(
            content.read(inspection.YAML_MAX_BYTES), content.where)
        return {'template_format': 'yaml',
                'tosca_definitions_version': version,
                'entry_definitions': None}
    with inspection.open_zip(content, content.where) as archive:
        if META not in archive:
            raise exception.Invalid('%s: %s is missing: a CSAR names its '
                                    'entry definitions there'
                                    % (content.where, META))
        meta_where = archive.member_where(META)
        meta = parse_meta(archive.read(META, META_MAX_BYTES), meta_where)
        entry = meta['Entry-Definitions']
        problem = inspection.check_member_name(entry)
        if problem is not None or entry not in archive:
            raise exception.Invalid('%s: Entry-Definitions %s is not in the '
                                    'archive' % (meta_where, entry[:255]))
        version = check_service_template(archive.read(entry),
                                         archive.member_where(entry))
    return {'template_format': 'csar', 'tosca_definitions_version': version,
            'entry_definitions': entry}


class ToscaTemplate(base.ArtifactType):
    name = 'tosca_templates'
    display_name = 'TOSCA template'
    type_version = '1.1'
    description = 'A TOSCA service template or CSAR archive.'
    fields = {
        # A CSAR may carry the VM images of its VNFs.
        'template': f.Blob(max_size=16 * GiB, required_on_activate=True,
                           inspector=inspect_template,
                           inspect_on_activate_above=GiB,
                           description='The service template (YAML) or '
                                       'CSAR archive.'),
        'template_format': f.String(
            allowed_values=['yaml', 'csar'], default='yaml', required=True,
            sortable=True, filterable=True,
            description='yaml for a single service template, csar for an '
                        'archive; set from the content.'),
        'tosca_definitions_version': f.String(
            readonly=True, sortable=True, filterable=True,
            description='The tosca_definitions_version of the service '
                        'template (of the entry definitions of a CSAR); '
                        'set from the content.'),
        'entry_definitions': f.String(
            readonly=True,
            description='The path of the entry definitions in a CSAR; set '
                        'from its TOSCA.meta.'),
    }
