"""glance-artifacts-manage: database and store commands, as
glance-manage's.

    glance-artifacts-manage --config-file /etc/glance/glance-api.conf db sync
    glance-artifacts-manage --config-file ... db version
    glance-artifacts-manage --config-file ... store gc [--dry-run]
                                                       [--older-than SECONDS]
                                                       [--force]

``store gc`` exits with status 1 when the pass left anything undone: a
step that failed or was refused (nothing is deleted on an answer that is
not the truth), or a backend where more was unused than
``[artifacts] gc_max_delete_fraction`` allows.
"""

import json
import sys

import glance_store
from oslo_config import cfg
from oslo_db import options as db_options
import sqlalchemy as sa

from glance.artifacts import config  # noqa: F401  (registers options)
from glance.db.artifacts import migration
from glance.db.artifacts import models

CONF = cfg.CONF
db_options.set_defaults(CONF)


def _engine():
    connection = CONF.database.connection
    if not connection:
        raise SystemExit('No [database] connection is configured; give '
                         '--config-file with the glance-api.conf to use.')
    return sa.create_engine(connection)


def db_sync():
    """Create or upgrade the glance-artifacts tables (idempotent), and
    index Glance's images by name and version. With glance-api's
    configuration in registry mode, whose database is Glance's and holds
    none of the artifacts' tables (the registry's does), only the index
    of Glance's images is made there."""
    engine = _engine()
    if CONF.artifacts.data_api == 'registry':
        migration.upgrade_image_index(engine)
        print('the index of Glance\'s images is at revision %s (registry '
              'mode: the artifacts\' tables are in the registry\'s '
              'database)' % migration.current(
                  engine, models.INDEX_VERSION_TABLE))
    else:
        migration.upgrade(engine)
        print('glance-artifacts database is at revision %s'
              % migration.current(engine))
    if not sa.inspect(engine).has_table('images'):
        return    # Glance's own tables come later (glance-manage db sync)
    from glance.db.artifacts import image_versions
    try:
        read = image_versions.fill(engine)
    except sa.exc.DBAPIError as e:
        # As on a registry's host whose database user may not read
        # Glance's tables: glance-api fills the index as it lists.
        print('Glance\'s images were not indexed by version: %s' % e.orig)
        return
    if read:
        print('indexed the versions of %d images' % read)


def db_version():
    """Print the applied glance-artifacts revision (in registry mode,
    with glance-api's configuration: that of the index of Glance's
    images)."""
    if CONF.artifacts.data_api == 'registry':
        current = migration.current(_engine(), models.INDEX_VERSION_TABLE)
        print(current if current is not None else
              'None (the index of Glance\'s images is not created yet)')
        return
    current = migration.current(_engine())
    print(current if current is not None else
          'None (the glance-artifacts tables are not created yet)')


def store_gc():
    """Delete blob data that no blob and no upload uses, carry out due
    delayed deletes and clean up dead uploads; prints what it found (a
    dry run names what would be deleted)."""
    # The stores as glance-api configures them (glance.common.wsgi_app).
    from glance.common import wsgi_app
    if CONF.enabled_backends:
        glance_store.register_store_opts(
            CONF, reserved_stores=wsgi_app.RESERVED_STORES)
        glance_store.create_multi_stores(
            CONF, reserved_stores=wsgi_app.RESERVED_STORES)
    else:
        glance_store.register_opts(CONF)
        glance_store.create_stores(CONF)
    from glance.artifacts import gc
    report = gc.collect(CONF.category.older_than,
                        dry_run=CONF.category.dry_run,
                        force=CONF.category.force)
    report['dry_run'] = CONF.category.dry_run
    print(json.dumps(report, indent=2, sort_keys=True))
    if gc.failed(report):
        raise SystemExit('Garbage collection left work undone; see '
                         '"errors", "error" and "refused" above. Nothing '
                         'was deleted where they show.')


COMMANDS = {'db': {'sync': db_sync, 'version': db_version},
            'store': {'gc': store_gc}}
HELP = {'db': 'database commands', 'store': 'blob data commands'}


def seconds(text):
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


def _add_commands(subparsers):
    for category, functions in COMMANDS.items():
        parser = subparsers.add_parser(category, help=HELP[category])
        actions = parser.add_subparsers(dest='action')
        actions.required = True
        for name, function in functions.items():
            action = actions.add_parser(name, help=function.__doc__)
            if function is store_gc:
                action.add_argument(
                    '--dry-run', action='store_true',
                    help='count what would be deleted; delete nothing')
                action.add_argument(
                    '--older-than', type=seconds, default=3600,
                    metavar='SECS',
                    help='leave unused data younger than this alone '
                         '(default 3600)')
                action.add_argument(
                    '--force', action='store_true',
                    help='delete even when more of a backend is unused '
                         'than [artifacts] gc_max_delete_fraction allows '
                         '(check with --dry-run first)')


def main(argv=None):
    CONF.register_cli_opt(cfg.SubCommandOpt(
        'category', title='Commands', handler=_add_commands))
    CONF(argv if argv is not None else sys.argv[1:],
         project='glance', prog='glance-artifacts-manage')
    try:
        COMMANDS[CONF.category.name][CONF.category.action]()
    except sa.exc.OperationalError as e:
        raise SystemExit('Cannot reach the database: %s' % e.orig)
    return 0


if __name__ == '__main__':
    sys.exit(main())
