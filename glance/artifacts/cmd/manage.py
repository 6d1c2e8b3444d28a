"""glance-artifacts-manage: database commands, as glance-manage's.

    glance-artifacts-manage --config-file /etc/glance/glance-api.conf db sync
    glance-artifacts-manage --config-file ... db version
"""

import sys

from oslo_config import cfg
from oslo_db import options as db_options
import sqlalchemy as sa

from glance.artifacts import config  # noqa: F401  (registers options)
from glance.db.artifacts import migration

CONF = cfg.CONF
db_options.set_defaults(CONF)


def _engine():
    connection = CONF.database.connection
    if not connection:
        raise SystemExit('No [database] connection is configured; give '
                         '--config-file with the glance-api.conf to use.')
    return sa.create_engine(connection)


def db_sync():
    """Create or upgrade the glance-artifacts tables (idempotent)."""
    engine = _engine()
    migration.upgrade(engine)
    print('glance-artifacts database is at revision %s'
          % migration.current(engine))


def db_version():
    """Print the applied glance-artifacts revision."""
    current = migration.current(_engine())
    print(current if current is not None else
          'None (the glance-artifacts tables are not created yet)')


COMMANDS = {'sync': db_sync, 'version': db_version}


def _add_commands(subparsers):
    db = subparsers.add_parser('db', help='database commands')
    actions = db.add_subparsers(dest='action')
    actions.required = True
    for name, function in COMMANDS.items():
        actions.add_parser(name, help=function.__doc__)


def main(argv=None):
    CONF.register_cli_opt(cfg.SubCommandOpt(
        'category', title='Commands', handler=_add_commands))
    CONF(argv if argv is not None else sys.argv[1:],
         project='glance', prog='glance-artifacts-manage')
    try:
        COMMANDS[CONF.category.action]()
    except sa.exc.OperationalError as e:
        raise SystemExit('Cannot reach the database: %s' % e.orig)
    return 0


if __name__ == '__main__':
    sys.exit(main())
