"""What the commands share: the arguments that name a type, an artifact
and a blob, and the shaping of artifacts for OSC's formatters."""

import json
import re

from keystoneauth1.identity import base as identity_base
from osc_lib.cli import format_columns
from osc_lib import exceptions as osc_exceptions

VISIBILITIES = ('private', 'shared', 'community', 'public')

# The columns of lists: (artifact key, header).
LIST_COLUMNS = (('id', 'ID'), ('name', 'Name'), ('version', 'Version'),
                ('status', 'Status'))
LONG_COLUMNS = (('visibility', 'Visibility'), ('protected', 'Protected'),
                ('owner', 'Project'), ('tags', 'Tags'),
                ('created_at', 'Created At'), ('updated_at', 'Updated At'))


def add_type_argument(parser, list_all=False):
    parser.add_argument(
        'type_name', metavar='<type>',
        help=('Artifact type (see "artifact type list")'
              + (", or 'all' for every type" if list_all else '')))


def add_artifact_arguments(parser, nargs=None):
    """<artifact> (name or id; several with nargs='+') and
    --artifact-version."""
    parser.add_argument(
        'artifact', metavar='<artifact>', nargs=nargs,
        help='Artifact%s to act on (name or ID)'
             % ('(s)' if nargs else ''))
    parser.add_argument(
        '--artifact-version', metavar='<version>', dest='artifact_version',
        help="Version of the artifact named by <artifact>: a SemVer "
             "version or 'latest' (needed when several versions have "
             "the name)")


def add_blob_argument(parser):
    parser.add_argument(
        'blob', metavar='<field>[/<key>]',
        help='Blob field of the artifact, or an entry of a blob dict '
             'field (FIELD/KEY)')


def split_blob(text):
    """(field, key) of FIELD[/KEY]."""
    field, sep, key = text.partition('/')
    if not field or (sep and not key):
        raise osc_exceptions.CommandError(
            "A blob is FIELD or FIELD/KEY, not '%s'" % text)
    return field, (key if sep else None)


def artifact_id(client, parsed_args, name_or_id=None):
    """The id of the artifact the arguments name."""
    return client.artifact_id(parsed_args.type_name,
                              name_or_id or parsed_args.artifact,
                              parsed_args.artifact_version)


def find_artifact(client, parsed_args):
    return client.find_artifact(parsed_args.type_name, parsed_args.artifact,
                                parsed_args.artifact_version)


def formatted(value):
    """A value as OSC shows it: dicts and lists readable in tables and
    whole in JSON and YAML."""
    if isinstance(value, dict):
        return format_columns.DictColumn(value)
    if isinstance(value, list):
        return format_columns.ListColumn(value)
    return value


def show_artifact(artifact):
    """(columns, values) of ShowOne for an artifact (or a blob, or a
    member): every key it has, sorted."""
    columns = tuple(sorted(artifact))
    return columns, tuple(formatted(artifact[c]) for c in columns)


def field_values(client, type_name, properties):
    """Field values of --property KEY=VALUE: the text itself for a field
    the type's schema declares a string (and for fields it does not
    declare, which the server then refuses, naming them), JSON for the
    others (numbers, booleans, lists, dicts, references)."""
    if not properties:
        return {}
    schema = client.get_schema(type_name)['properties']
    values = {}
    for key, text in properties.items():
        declared = (schema.get(key) or {}).get('type', 'string')
        kinds = set(declared if isinstance(declared, list)
                    else [declared]) - {'null'}
        if kinds <= {'string'}:
            values[key] = text
            continue
        try:
            values[key] = json.loads(text)
        except ValueError:
            raise osc_exceptions.CommandError(
                "--property %s takes JSON (the field is %s), not '%s'"
                % (key, ' or '.join(sorted(kinds)), text))
    return values


_PROJECT_ID = re.compile(r'^[0-9a-f]{32}$')


def project_id(client_manager, project):
    """The id of ``project`` (a name or an id): a name is looked up in
    Keystone when the cloud has one and the caller may see it (as OSC's
    image commands do); otherwise the text is taken as an id."""
    session = getattr(client_manager, 'session', None)
    auth = getattr(session, 'auth', None)
    if _PROJECT_ID.match(project) or not isinstance(
            auth, identity_base.BaseIdentityPlugin):
        return project
    endpoint = {'service_type': 'identity', 'version': (3, 0),
                'interface': client_manager.interface,
                'region_name': client_manager.region_name}
    for path in ('/projects', '/auth/projects'):
        response = session.get(path, endpoint_filter=endpoint,
                               params={'name': project}, raise_exc=False)
        if response.status_code != 200:
            continue
        found = [p for p in response.json().get('projects', [])
                 if p.get('name') == project or p.get('id') == project]
        if len(found) > 1:
            raise osc_exceptions.CommandError(
                "%d projects are named '%s' (ids %s): give an id"
                % (len(found), project,
                   ', '.join(p['id'] for p in found)))
        if found:
            return found[0]['id']
    return project
