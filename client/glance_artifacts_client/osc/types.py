"""artifact type list, artifact schema show, artifact usage."""

from osc_lib.command import command

from glance_artifacts_client.osc import common


class ListArtifactType(command.Lister):
    _description = 'List the enabled artifact types'

    def get_parser(self, prog_name):
        parser = super(ListArtifactType, self).get_parser(prog_name)
        parser.add_argument('--long', action='store_true', default=False,
                            help='List additional fields in output')
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.artifact
        columns = [('name', 'Name'), ('display_name', 'Display Name'),
                   ('type_version', 'Type Version')]
        if parsed_args.long:
            columns.append(('description', 'Description'))
        return ([h for _k, h in columns],
                [[t.get(k) for k, _h in columns]
                 for t in client.list_types()])


class ShowArtifactSchema(command.Lister):
    _description = ("Show the fields of an artifact type, from its JSON "
                    "schema (-f json --long: each field's whole schema)")

    def get_parser(self, prog_name):
        parser = super(ShowArtifactSchema, self).get_parser(prog_name)
        common.add_type_argument(parser, list_all=True)
        parser.add_argument('--long', action='store_true', default=False,
                            help="List each field's whole JSON schema")
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.artifact
        schema = client.get_schema(parsed_args.type_name)
        headers = ['Field', 'Type', 'Flags', 'Description']
        if parsed_args.long:
            headers.append('Schema')
        rows = []
        for name, field in schema['properties'].items():
            kind = field.get('type', '')
            if isinstance(kind, list):
                kind = ', '.join(k for k in kind if k != 'null')
            flags = list(field.get('x-glance-artifacts', ()))
            if field.get('readOnly'):
                flags.insert(0, 'read-only')
            row = [name, kind, common.formatted(flags),
                   field.get('description', '')]
            if parsed_args.long:
                row.append(common.formatted(field))
            rows.append(row)
        return headers, rows


class ShowArtifactUsage(command.Lister):
    _description = ("Show the artifact quotas of the project: usage and "
                    "limit of each (sizes in MiB; no limit when quotas "
                    "are off)")

    def take_action(self, parsed_args):
        client = self.app.client_manager.artifact
        usage = client.get_usage()
        return (['Resource', 'Usage', 'Limit', 'Usage Bytes'],
                [[name, value.get('usage'), value.get('limit'),
                  value.get('usage_bytes')]
                 for name, value in sorted(usage.items())])
