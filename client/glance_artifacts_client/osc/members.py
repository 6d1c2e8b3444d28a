"""artifact member add, list, set, delete."""

from osc_lib.command import command
from osc_lib import exceptions as osc_exceptions

from glance_artifacts_client.osc import common

COLUMNS = (('member_id', 'Member ID'), ('status', 'Status'),
           ('created_at', 'Created At'), ('updated_at', 'Updated At'))


def _add_arguments(parser, project=True):
    common.add_type_argument(parser)
    common.add_artifact_arguments(parser)
    if project:
        parser.add_argument('project', metavar='<project>',
                            help='Member project (name or ID)')


class AddArtifactMember(command.ShowOne):
    _description = ('Share a shared artifact with a project (a pending '
                    'member until it accepts)')

    def get_parser(self, prog_name):
        parser = super(AddArtifactMember, self).get_parser(prog_name)
        _add_arguments(parser)
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.artifact
        member = client.add_member(
            parsed_args.type_name, common.artifact_id(client, parsed_args),
            common.project_id(self.app.client_manager, parsed_args.project))
        return common.show_artifact(member)


class ListArtifactMember(command.Lister):
    _description = ('List the members of an artifact (a member sees only '
                    'itself)')

    def get_parser(self, prog_name):
        parser = super(ListArtifactMember, self).get_parser(prog_name)
        _add_arguments(parser, project=False)
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.artifact
        members = client.list_members(
            parsed_args.type_name, common.artifact_id(client, parsed_args))
        return ([h for _k, h in COLUMNS],
                [[m.get(k) for k, _h in COLUMNS] for m in members])


class SetArtifactMember(command.ShowOne):
    _description = ("Accept, reject or leave pending an artifact shared "
                    "with the project (the member's own call)")

    def get_parser(self, prog_name):
        parser = super(SetArtifactMember, self).get_parser(prog_name)
        _add_arguments(parser, project=False)
        parser.add_argument(
            '--project', metavar='<project>',
            help='Member project (name or ID; default: the project of '
                 'the token)')
        group = parser.add_mutually_exclusive_group(required=True)
        for status, flag in (('accepted', '--accept'),
                             ('rejected', '--reject'),
                             ('pending', '--pending')):
            group.add_argument(flag, action='store_const', const=status,
                               dest='status',
                               help='Set the membership %s' % status)
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.artifact
        manager = self.app.client_manager
        if parsed_args.project:
            project = common.project_id(manager, parsed_args.project)
        else:
            project = manager.session.get_project_id()
            if not project:
                raise osc_exceptions.CommandError(
                    'Give --project: the credentials name no project')
        member = client.update_member(
            parsed_args.type_name, common.artifact_id(client, parsed_args),
            project, parsed_args.status)
        return common.show_artifact(member)


class DeleteArtifactMember(command.Command):
    _description = 'Stop sharing an artifact with a project'

    def get_parser(self, prog_name):
        parser = super(DeleteArtifactMember, self).get_parser(prog_name)
        _add_arguments(parser)
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.artifact
        client.delete_member(
            parsed_args.type_name, common.artifact_id(client, parsed_args),
            common.project_id(self.app.client_manager, parsed_args.project))
