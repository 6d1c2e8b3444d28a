"""artifact list, show, create, set, unset, delete, activate, deactivate,
reactivate, tag add, tag remove."""

import logging

from osc_lib.cli import parseractions
from osc_lib.command import command
from osc_lib import exceptions as osc_exceptions

from glance_artifacts_client.osc import common

LOG = logging.getLogger(__name__)

MEMBER_STATUSES = ('pending', 'accepted', 'rejected', 'all')


def _add_protected_options(parser):
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--protected', action='store_true', default=None,
                       help='Prevent the artifact from being deleted')
    group.add_argument('--unprotected', action='store_false',
                       dest='protected',
                       help='Allow the artifact to be deleted')


def _add_field_options(parser, verb):
    parser.add_argument('--description', metavar='<description>',
                        help='Description of the artifact')
    parser.add_argument('--visibility', metavar='<visibility>',
                        choices=common.VISIBILITIES,
                        help='Visibility: %s' % ', '.join(common.VISIBILITIES))
    _add_protected_options(parser)
    parser.add_argument(
        '--tag', metavar='<tag>', action='append', default=[],
        help='Tag to %s (repeat option for several tags)' % verb)
    parser.add_argument(
        '--property', metavar='<key=value>',
        action=parseractions.KeyValueAction, default={},
        help="Field of the artifact's type to set: text for string "
             "fields, JSON for the others (numbers, booleans, lists, "
             "dicts); repeat option for several fields")
    parser.add_argument(
        '--metadata', metavar='<key=value>',
        action=parseractions.KeyValueAction, default={},
        help='Metadata entry to set (repeat option for several entries)')


class ListArtifact(command.Lister):
    _description = ('List artifacts of a type, or of every type (all); '
                    'every page of the list unless --limit is given')

    def get_parser(self, prog_name):
        parser = super(ListArtifact, self).get_parser(prog_name)
        common.add_type_argument(parser, list_all=True)
        parser.add_argument('--name', metavar='<name>',
                            help='Filter on the name')
        parser.add_argument(
            '--name-like', metavar='<pattern>',
            help='Filter on the name with an SQL LIKE pattern, with case: '
                 '%% any characters, _ one character, a backslash before '
                 '%%, _ or a backslash for itself')
        parser.add_argument(
            '--artifact-version', metavar='<[op:]version>',
            dest='versions', action='append', default=[],
            help="Filter on the version: a version; 'latest', the "
                 "highest version of each name; or OP:VERSION with OP one "
                 "of eq, neq, lt, lte, gt, gte, in (repeat option for a "
                 "range, e.g. gte:1.0.0 and lt:2.0.0)")
        parser.add_argument('--status', metavar='<status>',
                            choices=('drafted', 'active', 'deactivated'),
                            help='Filter on the status: drafted, active or '
                                 'deactivated')
        parser.add_argument(
            '--visibility', metavar='<visibility>',
            choices=common.VISIBILITIES,
            help='Filter on the visibility (community artifacts are '
                 'listed only with --visibility community)')
        parser.add_argument('--project', metavar='<project>',
                            help='Filter on the owning project (name or ID)')
        parser.add_argument(
            '--member-status', metavar='<member-status>',
            choices=MEMBER_STATUSES,
            help='Filter shared artifacts on the membership status of the '
                 'project: %s (default: accepted)'
                 % ', '.join(MEMBER_STATUSES))
        parser.add_argument(
            '--tag', metavar='<tag>', action='append', default=[],
            help='Filter on a tag (repeat option: artifacts with all of '
                 'them)')
        parser.add_argument(
            '--tag-any', metavar='<tag>', action='append', default=[],
            help='Filter on tags (repeat option: artifacts with at least '
                 'one of them)')
        parser.add_argument(
            '--property', metavar='<key=[op:]value>',
            action=parseractions.KeyValueAppendAction, default={},
            help='Filter on a field of the type, or metadata.KEY, with an '
                 'optional operator as for --artifact-version (repeat '
                 'option for several fields, or a range)')
        parser.add_argument(
            '--sort', metavar='<key>[:<direction>]',
            help='Sort by keys and directions (asc or desc), separated '
                 'by commas (default: created_at:desc)')
        parser.add_argument(
            '--limit', metavar='<limit>', type=int,
            action=parseractions.NonNegativeAction,
            help='List at most this many artifacts')
        parser.add_argument(
            '--marker', metavar='<artifact>',
            help='List from the artifact after this one (ID)')
        parser.add_argument('--long', action='store_true', default=False,
                            help='List additional fields in output')
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.artifact
        filters = []
        if parsed_args.name is not None:
            filters.append(('name', 'eq:' + parsed_args.name))
        if parsed_args.name_like is not None:
            filters.append(('name', 'like:' + parsed_args.name_like))
        if any('"' in t for t in parsed_args.tag_any):
            raise osc_exceptions.CommandError(
                '--tag-any cannot give a tag with a double quote; use --tag')
        filters.extend(('version', v) for v in parsed_args.versions)
        for key in ('status', 'visibility', 'member_status'):
            if getattr(parsed_args, key) is not None:
                filters.append((key, getattr(parsed_args, key)))
        if parsed_args.project is not None:
            filters.append(('owner', common.project_id(
                self.app.client_manager, parsed_args.project)))
        for key, values in parsed_args.property.items():
            filters.extend((key, v) for v in values)
        marker = None
        if parsed_args.marker:
            marker = client.artifact_id(parsed_args.type_name,
                                        parsed_args.marker)
        columns = list(common.LIST_COLUMNS)
        if parsed_args.type_name == 'all':
            columns.insert(1, ('type_name', 'Type'))
        if parsed_args.long:
            columns.extend(common.LONG_COLUMNS)
        artifacts = client.list_artifacts(
            parsed_args.type_name, filters, tags=parsed_args.tag,
            tags_any=parsed_args.tag_any, sort=parsed_args.sort,
            limit=parsed_args.limit, marker=marker)
        return ([h for _k, h in columns],
                ([common.formatted(a.get(k)) for k, _h in columns]
                 for a in artifacts))


class ShowArtifact(command.ShowOne):
    _description = 'Show an artifact'

    def get_parser(self, prog_name):
        parser = super(ShowArtifact, self).get_parser(prog_name)
        common.add_type_argument(parser)
        common.add_artifact_arguments(parser)
        parser.add_argument(
            '--dependencies', metavar='<depth>',
            choices=('direct', 'transitive'),
            help='Also show the artifacts it refers to (direct or '
                 'transitive) and the references between them')
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.artifact
        artifact = common.find_artifact(client, parsed_args)
        if parsed_args.dependencies:
            artifact = client.get_artifact(parsed_args.type_name,
                                           artifact['id'],
                                           parsed_args.dependencies)
        return common.show_artifact(artifact)


class CreateArtifact(command.ShowOne):
    _description = 'Create an artifact (drafted)'

    def get_parser(self, prog_name):
        parser = super(CreateArtifact, self).get_parser(prog_name)
        common.add_type_argument(parser)
        parser.add_argument('--name', metavar='<name>', required=True,
                            help='Name of the artifact')
        parser.add_argument(
            '--artifact-version', metavar='<version>',
            dest='artifact_version',
            help='Version of the artifact, SemVer 2.0 (default: 0.0.0)')
        _add_field_options(parser, 'add')
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.artifact
        fields = common.field_values(client, parsed_args.type_name,
                                     parsed_args.property)
        fields['name'] = parsed_args.name
        if parsed_args.artifact_version is not None:
            fields['version'] = parsed_args.artifact_version
        for key in ('description', 'visibility', 'protected'):
            if getattr(parsed_args, key) is not None:
                fields[key] = getattr(parsed_args, key)
        if parsed_args.tag:
            fields['tags'] = parsed_args.tag
        if parsed_args.metadata:
            fields['metadata'] = parsed_args.metadata
        return common.show_artifact(
            client.create_artifact(parsed_args.type_name, fields))


class SetArtifact(command.Command):
    _description = 'Set fields, tags and metadata of an artifact'

    def get_parser(self, prog_name):
        parser = super(SetArtifact, self).get_parser(prog_name)
        common.add_type_argument(parser)
        common.add_artifact_arguments(parser)
        parser.add_argument('--name', metavar='<name>',
                            help='New name of the artifact')
        parser.add_argument('--new-artifact-version', metavar='<version>',
                            help='New version of the artifact')
        _add_field_options(parser, 'add')
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.artifact
        artifact = common.find_artifact(client, parsed_args)
        values = common.field_values(client, parsed_args.type_name,
                                     parsed_args.property)
        for key, option in (('name', 'name'),
                            ('version', 'new_artifact_version'),
                            ('description', 'description'),
                            ('visibility', 'visibility'),
                            ('protected', 'protected')):
            if getattr(parsed_args, option) is not None:
                values[key] = getattr(parsed_args, option)
        patch = [{'op': 'replace', 'path': '/' + _pointer(k), 'value': v}
                 for k, v in values.items()]
        patch += [{'op': 'add', 'path': '/metadata/' + _pointer(k),
                   'value': v}
                  for k, v in parsed_args.metadata.items()]
        if patch:
            client.update_artifact(parsed_args.type_name, artifact['id'],
                                   patch)
        for tag in parsed_args.tag:
            client.add_tag(parsed_args.type_name, artifact['id'], tag)


class UnsetArtifact(command.Command):
    _description = 'Unset fields, tags and metadata of an artifact'

    def get_parser(self, prog_name):
        parser = super(UnsetArtifact, self).get_parser(prog_name)
        common.add_type_argument(parser)
        common.add_artifact_arguments(parser)
        parser.add_argument(
            '--property', metavar='<key>', action='append', default=[],
            help='Field of the type to unset (repeat option for several)')
        parser.add_argument(
            '--metadata', metavar='<key>', action='append', default=[],
            help='Metadata entry to remove (repeat option for several)')
        parser.add_argument(
            '--tag', metavar='<tag>', action='append', default=[],
            help='Tag to remove (repeat option for several)')
        parser.add_argument('--description', action='store_true',
                            help='Unset the description')
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.artifact
        artifact = common.find_artifact(client, parsed_args)
        missing = ['metadata %s' % k for k in parsed_args.metadata
                   if k not in (artifact.get('metadata') or {})]
        missing += ['tag %s' % t for t in parsed_args.tag
                    if t not in (artifact.get('tags') or [])]
        if missing:
            raise osc_exceptions.CommandError(
                'The artifact %s has no %s; nothing was changed'
                % (artifact['id'], ', '.join(missing)))
        fields = list(parsed_args.property)
        if parsed_args.description:
            fields.append('description')
        patch = [{'op': 'remove', 'path': '/' + _pointer(k)}
                 for k in fields]
        patch += [{'op': 'remove', 'path': '/metadata/' + _pointer(k)}
                  for k in parsed_args.metadata]
        if patch:
            client.update_artifact(parsed_args.type_name, artifact['id'],
                                   patch)
        for tag in parsed_args.tag:
            client.remove_tag(parsed_args.type_name, artifact['id'], tag)


def _pointer(key):
    """``key`` as one token of a JSON pointer (RFC 6901)."""
    return key.replace('~', '~0').replace('/', '~1')


class DeleteArtifact(command.Command):
    _description = 'Delete artifact(s) and their data'

    def get_parser(self, prog_name):
        parser = super(DeleteArtifact, self).get_parser(prog_name)
        common.add_type_argument(parser)
        common.add_artifact_arguments(parser, nargs='+')
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.artifact
        failed = 0
        for name_or_id in parsed_args.artifact:
            try:
                client.delete_artifact(
                    parsed_args.type_name,
                    common.artifact_id(client, parsed_args, name_or_id))
            except Exception as e:
                failed += 1
                LOG.error("Failed to delete artifact with name or ID "
                          "'%s': %s", name_or_id, e)
        if failed:
            raise osc_exceptions.CommandError(
                'Failed to delete %d of %d artifacts.'
                % (failed, len(parsed_args.artifact)))


class _Action(command.Command):
    action = None

    def get_parser(self, prog_name):
        parser = super(_Action, self).get_parser(prog_name)
        common.add_type_argument(parser)
        common.add_artifact_arguments(parser)
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.artifact
        getattr(client, self.action)(
            parsed_args.type_name, common.artifact_id(client, parsed_args))


class ActivateArtifact(_Action):
    _description = ('Activate a drafted artifact (its required fields and '
                    'blobs must be set)')
    action = 'activate'


class DeactivateArtifact(_Action):
    _description = ('Deactivate an active artifact (its data is then '
                    'downloadable by admins only)')
    action = 'deactivate'


class ReactivateArtifact(_Action):
    _description = 'Reactivate a deactivated artifact'
    action = 'reactivate'


class _Tags(command.Command):
    action = None

    def get_parser(self, prog_name):
        parser = super(_Tags, self).get_parser(prog_name)
        common.add_type_argument(parser)
        common.add_artifact_arguments(parser)
        parser.add_argument('tags', metavar='<tag>', nargs='+',
                            help='Tag(s) to %s' % self.action.split('_')[0])
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.artifact
        artifact_id = common.artifact_id(client, parsed_args)
        for tag in parsed_args.tags:
            getattr(client, self.action)(parsed_args.type_name,
                                         artifact_id, tag)


class AddArtifactTag(_Tags):
    _description = 'Add tag(s) to an artifact (adding a tag twice is '\
                   'harmless)'
    action = 'add_tag'


class RemoveArtifactTag(_Tags):
    _description = 'Remove tag(s) from an artifact'
    action = 'remove_tag'
