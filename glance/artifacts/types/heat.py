"""Heat templates and environments.

Their content is inspected at upload: a template must be a Heat
Orchestration Template (YAML or JSON) of a version Heat knows, with only
the sections of a HOT; its description, parameters and outputs fill
read-only fields. Nested templates are checked the same way. An
environment must be YAML with only the sections Heat's environments
have.
"""

from glance.artifacts import exception
from glance.artifacts import fields as f
from glance.artifacts import inspection
from glance.artifacts.types import base

MiB = 2 ** 20

#: The values of heat_template_version that Heat knows (its
#: "heat.templates" entry points, wallaby being the last it added).
HOT_VERSIONS = ('2013-05-23', '2014-10-16', '2015-04-30', '2015-10-15',
                '2016-04-08', '2016-10-14', 'newton', '2017-02-24',
                'ocata', '2017-09-01', 'pike', '2018-03-02', 'queens',
                '2018-08-31', 'rocky', '2021-04-16', 'wallaby')
HOT_SECTIONS = ('heat_template_version', 'description', 'parameter_groups',
                'parameters', 'resources', 'outputs', 'conditions')
PARAMETER_TYPES = ('string', 'number', 'json', 'comma_delimited_list',
                   'boolean')
ENVIRONMENT_SECTIONS = ('parameters', 'parameter_defaults',
                        'resource_registry', 'encrypted_param_names',
                        'event_sinks', 'parameter_merge_strategies')


def _names(mapping):
    return ', '.join(sorted(str(k) for k in mapping))


def _mapping(doc, section, where):
    value = doc.get(section)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise exception.Invalid('%s: %s must be a mapping, not %s'
                                % (where, section, type(value).__name__))
    return value


def parse_template(content):
    """(version, description, {parameter: type}, [output]) of a HOT, or
    Invalid saying what is wrong with it."""
    where = content.where
    doc = inspection.load_yaml(content.read(inspection.YAML_MAX_BYTES),
                               where)
    if not isinstance(doc, dict):
        raise exception.Invalid(
            '%s: a Heat template is a YAML mapping that starts with '
            'heat_template_version, not a %s' % (where, type(doc).__name__))
    if 'heat_template_version' not in doc:
        raise exception.Invalid('%s: heat_template_version is missing; '
                                'Heat knows: %s'
                                % (where, ', '.join(HOT_VERSIONS)))
    version = inspection.scalar_text(doc['heat_template_version'])
    if version not in HOT_VERSIONS:
        raise exception.Invalid(
            "%s: heat_template_version '%s' is not one Heat knows: %s"
            % (where, str(doc['heat_template_version'])[:64],
               ', '.join(HOT_VERSIONS)))
    unknown = {k: None for k in doc if k not in HOT_SECTIONS}
    if unknown:
        raise exception.Invalid(
            '%s: unknown top-level section(s) %s; a HOT template has: %s'
            % (where, _names(unknown)[:255], ', '.join(HOT_SECTIONS)))
    description = doc.get('description')
    if description is not None and not isinstance(description, str):
        raise exception.Invalid('%s: description must be text' % where)
    parameters = {}
    for name, spec in _mapping(doc, 'parameters', where).items():
        kind = spec.get('type') if isinstance(spec, dict) else None
        if kind not in PARAMETER_TYPES:
            raise exception.Invalid(
                "%s: parameter '%s' needs a type, one of %s"
                % (where, str(name)[:64], ', '.join(PARAMETER_TYPES)))
        parameters[str(name)] = kind
    _mapping(doc, 'resources', where)
    outputs = [str(name) for name in _mapping(doc, 'outputs', where)]
    return version, description, parameters, outputs


def inspect_template(content, artifact, lookup):
    """The main template fills template_version, template_description,
    parameters and outputs."""
    version, description, parameters, outputs = parse_template(content)
    return {'template_version': version,
            'template_description': description,
            'parameters': parameters, 'outputs': outputs}


def inspect_nested_template(content, artifact, lookup):
    """A nested template is checked as the main one; it fills nothing."""
    parse_template(content)
    return {}


def inspect_environment(content, artifact, lookup):
    """An environment: a YAML mapping of the sections Heat takes, none of
    them empty (an empty file is an empty environment)."""
    where = content.where
    doc = inspection.load_yaml(content.read(inspection.YAML_MAX_BYTES),
                               where)
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise exception.Invalid('%s: a Heat environment is a YAML mapping, '
                                'not a %s' % (where, type(doc).__name__))
    unknown = {k: None for k in doc if k not in ENVIRONMENT_SECTIONS}
    if unknown:
        raise exception.Invalid(
            '%s: unknown section(s) %s; a Heat environment has: %s'
            % (where, _names(unknown)[:255], ', '.join(ENVIRONMENT_SECTIONS)))
    empty = sorted(k for k, v in doc.items() if v is None)
    if empty:
        raise exception.Invalid('%s: empty section(s) %s'
                                % (where, ', '.join(empty)))
    return {}


class HeatEnvironment(base.ArtifactType):
    name = 'heat_environments'
    display_name = 'Heat environment'
    type_version = '1.1'
    description = 'A Heat environment file: parameters and resource ' \
                  'registry entries for a stack.'
    fields = {
        'environment': f.Blob(max_size=10 * MiB, required_on_activate=True,
                              inspector=inspect_environment,
                              description='The environment file (YAML), '
                                          'with the sections Heat takes: '
                                          + ', '.join(ENVIRONMENT_SECTIONS)
                                          + '.'),
    }


class HeatTemplate(base.ArtifactType):
    name = 'heat_templates'
    display_name = 'Heat template'
    type_version = '1.1'
    description = 'A Heat Orchestration Template with its nested ' \
                  'templates and the environments it can run with.'
    fields = {
        'template': f.Blob(max_size=10 * MiB, required_on_activate=True,
                           inspector=inspect_template,
                           description='The template (HOT, YAML or JSON); '
                                       'its heat_template_version must be '
                                       'one Heat knows.'),
        'nested_templates': f.BlobDict(
            max_size=10 * MiB, max_count=255,
            inspector=inspect_nested_template,
            description='Templates the main one includes, by file name; '
                        'each is checked as the main one.'),
        'environments': f.ReferenceDict(
            allowed_types=['heat_environments'], mutable=True,
            description='Environments to use with the template, by name.'),
        'images': f.ReferenceList(
            allowed_types=['images'],
            description='Glance images the template boots servers from; '
                        'each must be an image you can see, and active '
                        'for the template to be activated.'),
        'default_envs': f.List(f.String(min_length=1), mutable=True,
                               description='Names of the environments '
                                           'to apply by default.'),
        'template_version': f.String(
            readonly=True, sortable=True, filterable=True,
            description='The heat_template_version of the template; set '
                        'from its content.'),
        'template_description': f.Text(
            readonly=True,
            description='The description of the template; set from its '
                        'content.'),
        'parameters': f.Dict(
            f.String(allowed_values=list(PARAMETER_TYPES)), max_count=1000,
            readonly=True, filterable=True,
            description='The parameters of the template and their types; '
                        'set from its content. Filter with '
                        'parameters.NAME=TYPE.'),
        'outputs': f.List(
            f.String(min_length=1), max_count=1000, readonly=True,
            filterable=True,
            description='The names of the outputs of the template; set '
                        'from its content.'),
    }
