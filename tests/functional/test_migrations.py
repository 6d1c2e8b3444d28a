"""glance-artifacts-manage and our Alembic migrations, on SQLite files."""

import datetime
import json
import os
import subprocess
import uuid

from alembic import autogenerate
from alembic import migration as alembic_migration
import fixtures
import sqlalchemy as sa
import testtools
import webob

from glance.artifacts import semver
from glance.db.artifacts import migration
from glance.db.artifacts import models
from tests import base
from tests import databases


def _database(test, root, which=None, sqlite_name='db.sqlite'):
    """A new empty database of the kind ``which`` names (by default, of
    the kind GA_TEST_DATABASE names)."""
    try:
        url, drop = databases.create(root, which, sqlite_name=sqlite_name)
    except databases.Unavailable as e:
        base.unavailable(e)
    test.addCleanup(drop)
    return url


def _engine(test, prefix, which, sqlite_name):
    """An engine on a new empty database of the kind ``which`` names,
    in a temporary directory; all removed after the test."""
    root, cleanup = base.make_tempdir(prefix)
    test.addCleanup(cleanup)
    engine = sa.create_engine(_database(test, root, which, sqlite_name))
    test.addCleanup(engine.dispose)
    return engine


def _artifact_row(name, version, owner='p', **columns):
    now = datetime.datetime.utcnow()
    return dict(dict(id=os.urandom(16).hex()[:36], type_name='t',
                     type_version='1.0', name=name, version=version,
                     version_key=semver.sort_key(version), owner=owner,
                     visibility='private', status='drafted',
                     protected=False, created_at=now, updated_at=now),
                **columns)


class TestManage(testtools.TestCase):

    def setUp(self):
        super(TestManage, self).setUp()
        self.root, cleanup = base.make_tempdir('ga-migrations-')
        self.addCleanup(cleanup)
        self.conf = os.path.join(self.root, 'glance-api.conf')
        self.url = _database(self, self.root)
        with open(self.conf, 'w') as f:
            f.write('[database]\nconnection = %s\n' % self.url)

    def manage(self, *args, tool='glance-artifacts-manage'):
        return subprocess.run(
            [os.path.join(base.BIN, tool), '--config-file', self.conf] +
            list(args), capture_output=True, text=True)

    def tables(self):
        return set(sa.inspect(sa.create_engine(self.url)).get_table_names())

    def test_version_before_sync_says_no_tables(self):
        result = self.manage('db', 'version')
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertIn('None (the glance-artifacts tables are not created',
                      result.stdout)

    def test_sync_creates_our_tables_and_is_idempotent(self):
        for _ in range(2):
            result = self.manage('db', 'sync')
            self.assertEqual(0, result.returncode, result.stderr)
            self.assertIn('at revision %s' % migration.head(),
                          result.stdout)
        self.assertEqual({'ga_artifacts', 'ga_properties', 'ga_tags',
                          'ga_metadata', 'ga_members', 'ga_blobs',
                          'ga_blob_uploads', 'ga_blob_copies',
                          'ga_pending_deletes',
                          'ga_quota_locks', 'ga_image_versions',
                          'ga_image_versions_state', 'ga_alembic_version'},
                         self.tables())
        self.assertEqual(migration.head() + '\n',
                         self.manage('db', 'version').stdout)

    def test_sync_leaves_glances_tables_and_version_alone(self):
        result = self.manage('db', 'sync', tool='glance-manage')
        self.assertEqual(0, result.returncode, result.stderr)
        engine = sa.create_engine(self.url)
        glance_tables = self.tables()

        def glance_state():
            with engine.connect() as conn:
                return (conn.execute(sa.text(
                    'select version_num from alembic_version')).fetchall(),
                    {t: [c['name'] for c in
                         sa.inspect(conn).get_columns(t)]
                     for t in glance_tables})
        before = glance_state()
        self.assertEqual(0, self.manage('db', 'sync').returncode)
        self.assertEqual(before, glance_state())
        ours = self.tables() - glance_tables
        self.assertTrue(all(t.startswith('ga_') for t in ours), ours)
        self.assertFalse([t for t in self.tables()
                          if t.startswith('artifact')])

    def test_sync_indexes_the_versions_of_glances_images_each_time(self):
        self.assertEqual(0, self.manage('db', 'sync',
                                        tool='glance-manage').returncode)
        from glance.db.sqlalchemy import models as glance_models
        engine = sa.create_engine(self.url)
        self.addCleanup(engine.dispose)
        now = datetime.datetime.utcnow()
        ids = ['00000000-0000-0000-0000-%012d' % i for i in range(3)]
        with engine.begin() as conn:
            conn.execute(glance_models.Image.__table__.insert(), [dict(
                id=i, name='app', status='active', visibility='public',
                created_at=now, updated_at=now, deleted=False, min_disk=0,
                min_ram=0, protected=False, os_hidden=False) for i in ids])
            conn.execute(glance_models.ImageProperty.__table__.insert(),
                         dict(image_id=ids[1], name='artifact_version',
                              value='2.0.0', created_at=now,
                              updated_at=now, deleted=False))
        result = self.manage('db', 'sync')
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertIn('indexed the versions of 3 images', result.stdout)
        with engine.connect() as conn:
            self.assertEqual(
                [(ids[0], 'app', semver.sort_key('0.0.0')),
                 (ids[1], 'app', semver.sort_key('2.0.0')),
                 (ids[2], 'app', semver.sort_key('0.0.0'))],
                [tuple(r) for r in conn.execute(sa.text(
                    'SELECT image_id, name, version_key FROM '
                    'ga_image_versions ORDER BY image_id'))])
            self.assertEqual([(True, '')], [
                (bool(r[0]), r[1]) for r in conn.execute(sa.text(
                    'SELECT filled, cursor_id FROM '
                    'ga_image_versions_state'))])
        # An image written as a restore writes it, with an updated_at
        # older than the index's last pass: read again by the next sync.
        with engine.begin() as conn:
            conn.execute(glance_models.Image.__table__.insert(), dict(
                id=ids[0].replace('0000-0000', '0000-0001'), name='old',
                status='active', visibility='public', deleted=False,
                created_at=now - datetime.timedelta(days=30),
                updated_at=now - datetime.timedelta(days=30), min_disk=0,
                min_ram=0, protected=False, os_hidden=False))
        result = self.manage('db', 'sync')
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertIn('indexed the versions of 4 images', result.stdout)

    def test_sync_without_database_option_fails_with_a_message(self):
        with open(self.conf, 'w') as f:
            f.write('[DEFAULT]\n')
        result = self.manage('db', 'sync')
        self.assertEqual(1, result.returncode)
        self.assertIn('No [database] connection is configured',
                      result.stderr)


class TestSchema(testtools.TestCase):

    def setUp(self):
        super(TestSchema, self).setUp()
        root, cleanup = base.make_tempdir('ga-schema-')
        self.addCleanup(cleanup)
        self.engine = sa.create_engine(_database(self, root))
        self.addCleanup(self.engine.dispose)
        migration.upgrade(self.engine)

    def test_models_match_the_migrated_schema(self):
        with self.engine.connect() as conn:
            ctx = alembic_migration.MigrationContext.configure(conn)
            diff = autogenerate.compare_metadata(ctx, models.metadata)
        postgresql = self.engine.dialect.name == 'postgresql'
        self.assertEqual([], [d for d in diff
                              if not (isinstance(d, tuple) and (
                                  d[0] == 'remove_table' and
                                  d[1].name == 'ga_alembic_version' or
                                  # alembic does not heed ddl_if
                                  d[0] == 'add_index' and not postgresql and
                                  d[1].name in models.POSTGRESQL_ONLY))])
        indexes = {i['name'] for t in ('ga_artifacts', 'ga_properties')
                   for i in sa.inspect(self.engine).get_indexes(t)}
        self.assertEqual(models.POSTGRESQL_ONLY if postgresql else set(),
                         models.POSTGRESQL_ONLY & indexes)

    def test_identity_is_unique_in_the_database(self):
        with self.engine.begin() as conn:
            conn.execute(models.artifacts.insert(),
                         _artifact_row('n', '1.0.0'))
        with self.engine.begin() as conn:
            conn.execute(models.artifacts.insert(),
                         _artifact_row('n', '1.0.0', owner='q'))
        with testtools.ExpectedException(sa.exc.IntegrityError):
            with self.engine.begin() as conn:
                conn.execute(models.artifacts.insert(),
                             _artifact_row('n', '1.0.0'))

    def test_sql_order_of_version_key_is_semver_precedence(self):
        versions = ['1.10.0', '1.0.0', '1.0.0-rc.1', '1.2.0', '1.0.0-rc.10',
                    '1.0.0-rc.2', '0.0.1']
        with self.engine.begin() as conn:
            conn.execute(models.artifacts.insert(),
                         [_artifact_row('n', v) for v in versions])
            got = [r.version for r in conn.execute(
                sa.select(models.artifacts.c.version)
                .order_by(models.artifacts.c.version_key))]
        self.assertEqual(['0.0.1', '1.0.0-rc.1', '1.0.0-rc.2',
                          '1.0.0-rc.10', '1.0.0', '1.2.0', '1.10.0'], got)

    def test_lists_have_indexes_for_their_filters(self):
        indexes = {tuple(i['column_names'])
                   for t in ('ga_artifacts', 'ga_properties', 'ga_tags',
                             'ga_metadata')
                   for i in sa.inspect(self.engine).get_indexes(t)}
        for cols in [('type_name', 'name', 'version_key'),
                     ('type_name', 'created_at', 'id'),
                     ('type_name', 'updated_at', 'id'),
                     ('created_at', 'id'),
                     ('owner', 'type_name', 'name', 'id'),
                     ('name', 'str_value', 'artifact_id'),
                     ('name', 'int_value', 'artifact_id'),
                     ('name', 'num_value', 'artifact_id'),
                     ('value',), ('key', 'value')]:
            self.assertIn(cols, indexes)
        # Nothing that a planner could pick over them for a page: no
        # index on a column of a few values, nor a property index
        # without artifact_id.
        for cols in [('visibility',), ('status',), ('name', 'str_value'),
                     ('type_name', 'created_at'), ('owner',)]:
            self.assertNotIn(cols, indexes)


def _insert_artifact_a(conn, now):
    """An artifact 'a' as any revision's ga_artifacts holds it (SQL of
    its own: the models describe the head revision)."""
    conn.execute(sa.text(
        "INSERT INTO ga_artifacts (id, type_name, type_version, name, "
        "version, version_key, owner, visibility, status, protected, "
        "created_at, updated_at) VALUES ('a', 't', '1', 'n', '1.0.0', 'k', "
        "'', 'private', 'drafted', :f, :now, :now)"),
        {'f': False, 'now': now})


class TestUpgradeFrom0001(testtools.TestCase):
    """0002 on a database that 0001 made and artifacts were stored in."""

    def test_revision_padded_dates_and_exact_strings_after_upgrade(self):
        root, cleanup = base.make_tempdir('ga-upgrade-')
        self.addCleanup(cleanup)
        engine = sa.create_engine(_database(self, root))
        self.addCleanup(engine.dispose)
        migration.upgrade(engine, '0001_initial')
        now = datetime.datetime.utcnow()
        props = sa.table('ga_properties', *[sa.column(c) for c in (
            'artifact_id', 'name', 'str_value')])
        with engine.begin() as conn:
            _insert_artifact_a(conn, now)
            conn.execute(props.insert(), [
                {'artifact_id': 'a', 'name': 'when',
                 'str_value': '212-02-14T10:00:00.000000Z'},
                {'artifact_id': 'a', 'name': 'early',
                 'str_value': '1-01-01T00:00:00.000000Z'},
                {'artifact_id': 'a', 'name': 'text',
                 'str_value': '12-34-56T-not-a-dateZ'},
                {'artifact_id': 'a', 'name': 'late',
                 'str_value': '2020-01-01T00:00:00.000000Z'}])
        migration.upgrade(engine)
        self.assertEqual(migration.head(), migration.current(engine))
        with engine.connect() as conn:
            values = dict(conn.execute(sa.select(models.properties.c.name,
                                                 models.properties.c.str_value)
                                       ).fetchall())
            self.assertEqual(0, conn.execute(sa.select(
                models.artifacts.c.revision)).scalar())
        self.assertEqual({'when': '0212-02-14T10:00:00.000000Z',
                          'early': '0001-01-01T00:00:00.000000Z',
                          'text': '12-34-56T-not-a-dateZ',
                          'late': '2020-01-01T00:00:00.000000Z'}, values)
        with engine.begin() as conn:
            conn.execute(models.tags.insert(), [
                {'artifact_id': 'a', 'value': 't'},
                {'artifact_id': 'a', 'value': 't '}])


class _Plans(testtools.TestCase):
    """The plans of the statements the data API sends, on a database of
    the kind DATABASE names (whatever GA_TEST_DATABASE says)."""

    TYPES = ['heat_environments', 'heat_templates', 'murano_packages',
             'tosca_templates']
    DATABASE = None
    EXPLAIN = None

    def setUp(self):
        super(_Plans, self).setUp()
        self.engine = _engine(self, 'ga-plans-', self.DATABASE,
                              'plans.sqlite')
        migration.upgrade(self.engine)
        from glance.db.artifacts import sqlalchemy_api
        self.api = sqlalchemy_api
        saved = sqlalchemy_api._engine
        sqlalchemy_api._engine = self.engine
        self.addCleanup(setattr, sqlalchemy_api, '_engine', saved)
        self.statements = []
        sa.event.listen(self.engine, 'before_cursor_execute',
                        self._capture)
        with self.engine.begin() as conn:
            conn.execute(models.artifacts.insert(), _artifact_row(
                'n', '1.0.0', id='00000000-0000-0000-0000-000000000001',
                type_name='heat_templates'))

    def _capture(self, conn, cursor, statement, parameters, context,
                 executemany):
        if statement.lstrip().upper().startswith('SELECT'):
            self.statements.append((statement, parameters))

    def plan(self, context, type_name, query=''):
        """The plan of the statement that reads a page of the list the
        API would ask the data API for (``query``: a query string)."""
        self.statements = []
        self.api.artifact_list(context, **self.arguments(type_name, query))
        # The page is the one statement of artifacts with a LIMIT (the
        # marker's row, a count of a held value's rows and what the
        # page's artifacts own are read apart).
        [(statement, parameters)] = [
            (s, p) for s, p in self.statements
            if s.startswith('SELECT ga_artifacts.id') and 'LIMIT' in s]
        with self.engine.connect() as conn:
            return '\n'.join(str(r[-1]) for r in conn.exec_driver_sql(
                self.EXPLAIN + statement, parameters))

    def arguments(self, type_name, query):
        """What the API asks the data API for, for a list's query."""
        from glance.artifacts import loader
        from glance.artifacts import queries
        from glance.artifacts.types import base as types_base
        types = loader.load_types(self.TYPES)
        type_cls = (types_base.AnyType if type_name == 'all'
                    else types[type_name])
        return queries.parse(type_cls, webob.Request.blank(
            '/?' + query).GET, types)

    def context(self, project=None):
        from glance import context
        # Made an admin and then not, so that Glance does not ask its
        # policy (which needs a parsed configuration) whether it is one.
        ctx = context.RequestContext(project_id=project, is_admin=True,
                                     roles=['member'])
        ctx.is_admin = project is None
        return ctx


class TestSqlitePlans(_Plans):
    """On SQLite, after db sync, the list statements that the data API
    sends walk an order index and stop after a page (or seek a name),
    as they would on a catalog of a million artifacts: the planner has
    the statistics of one from the migration, not whatever ANALYZE would
    say of an empty or small catalog."""

    DATABASE = 'sqlite'
    EXPLAIN = 'EXPLAIN QUERY PLAN '

    def assertWalks(self, index, plan):
        self.assertIn('USING INDEX %s' % index, plan.replace(
            'COVERING INDEX', 'INDEX'))
        self.assertNotIn('TEMP B-TREE', plan)

    def test_pages_of_a_type_walk_its_creation_index_for_anyone(self):
        for project in (None, 'p'):
            for query in ('', 'visibility=public', 'status=active',
                          'tags=t', 'sort=created_at:asc'):
                self.assertWalks('ga_artifacts_type_created_idx', self.plan(
                    self.context(project), 'heat_templates', query))
        self.assertWalks('ga_artifacts_type_updated_idx', self.plan(
            self.context('p'), 'heat_templates', 'sort=updated_at:desc'))

    def test_all_types_walk_the_creation_index_without_type(self):
        for project in (None, 'p'):
            self.assertWalks('ga_artifacts_created_idx', self.plan(
                self.context(project), 'all'))

    def test_all_types_by_name_walk_the_name_index(self):
        for project in (None, 'p'):
            for order in ('asc', 'desc'):
                self.assertWalks('ga_artifacts_name_idx', self.plan(
                    self.context(project), 'all', 'sort=name:' + order))

    def test_a_marker_is_a_seek_in_the_order_index(self):
        plan = self.plan(self.context('p'), 'heat_templates',
                         'marker=00000000-0000-0000-0000-000000000001')
        self.assertIn('ga_artifacts_type_created_idx (type_name=? AND '
                      'created_at<?)', plan)
        self.assertNotIn('TEMP B-TREE', plan)

    def test_a_name_is_sought_in_the_name_index(self):
        for project in (None, 'p'):
            self.assertIn('ga_artifacts_name_version_idx (type_name=? AND '
                          'name=?)', self.plan(self.context(project),
                                               'heat_templates', 'name=n'))

    def test_a_name_prefix_is_a_range_of_the_name_index(self):
        for project in (None, 'p'):
            self.assertIn('ga_artifacts_name_version_idx (type_name=? AND '
                          'name>? AND name<?)', self.plan(
                              self.context(project), 'heat_templates',
                              'name=like:n%25'))

    def test_a_projects_artifacts_by_name_walk_the_owner_index(self):
        for project in (None, 'p'):
            plan = self.plan(self.context(project), 'heat_templates',
                             'owner=p&sort=name:asc')
            self.assertWalks('ga_artifacts_owner_name_idx', plan)
            self.assertIn('(owner=? AND type_name=?)', plan)

    def test_type_fields_and_latest_are_index_seeks_per_artifact(self):
        plan = self.plan(self.context('p'), 'murano_packages',
                         'package_type=Library&version=latest')
        self.assertWalks('ga_artifacts_type_created_idx', plan)
        self.assertIn('ga_properties_str_value_idx (name=? AND str_value=? '
                      'AND artifact_id=?)', plan)
        self.assertIn('ga_artifacts_name_version_idx (type_name=? AND '
                      'name=? AND version_key>?)', plan)

    def test_every_index_of_the_list_tables_has_statistics(self):
        with self.engine.connect() as conn:
            stats = {r[0] for r in conn.exec_driver_sql(
                'SELECT idx FROM sqlite_stat1')}
        for table in migration.LARGE_CATALOG:
            with self.engine.connect() as conn:
                names = [r[1] for r in conn.exec_driver_sql(
                    'PRAGMA index_list(%s)' % table)]
            self.assertTrue(names)
            self.assertEqual([], [n for n in names if n not in stats],
                             table)


class _ImagePlans(testtools.TestCase):
    """The plans of the images list's statements (our own SQL over
    Glance's tables, made by Glance's models) on a database of the kind
    DATABASE names, with IMAGES images."""

    DATABASE = None
    IMAGES = 3

    def setUp(self):
        super(_ImagePlans, self).setUp()
        self.engine = _engine(self, 'ga-image-plans-', self.DATABASE,
                              'glance.sqlite')
        from glance.db.sqlalchemy import models as glance_models
        glance_models.register_models(self.engine)
        from glance.db.artifacts import images
        self.images = images
        self.useFixture(fixtures.MonkeyPatch(
            'glance.db.artifacts.images.get_engine', lambda: self.engine))
        self.statements = []
        sa.event.listen(self.engine, 'before_cursor_execute',
                        self._capture)
        now = datetime.datetime.utcnow()
        # Changed long ago (the index of versions reads them in its first
        # pass, not again after).
        changed = now - datetime.timedelta(days=1)
        with self.engine.begin() as conn:
            conn.execute(glance_models.Image.__table__.insert(), [dict(
                id='00000000-0000-0000-0000-%012d' % i, name='i%d' % i,
                status='active', owner='p%d' % (i % 50),
                visibility=('public' if i % 10 == 0 else 'private'),
                created_at=now + datetime.timedelta(seconds=i),
                updated_at=changed, deleted=False, min_disk=0, min_ram=0,
                protected=False, os_hidden=False)
                for i in range(self.IMAGES)])
            conn.execute(glance_models.ImageTag.__table__.insert(), dict(
                image_id='00000000-0000-0000-0000-%012d' % 1, value='t',
                created_at=now, updated_at=now, deleted=False))

    def _capture(self, conn, cursor, statement, parameters, context,
                 executemany):
        if statement.lstrip().upper().startswith('SELECT'):
            self.statements.append((statement, parameters))

    def indexed(self):
        """Our tables too, and the index of image versions filled, as
        glance-artifacts-manage db sync leaves them."""
        migration.upgrade(self.engine)
        from glance.db.artifacts import image_versions
        self.assertEqual(self.IMAGES, image_versions.fill(self.engine))
        self.assertTrue(image_versions.refresh(self.engine))

    def statement(self, project=None, filters=(), sorts=None, latest=False):
        """[the page's statement, the statement of what its images hold
        (None if the page is empty)]."""
        from glance import context
        ctx = context.RequestContext(project_id=project, is_admin=True,
                                     roles=['member'])
        ctx.is_admin = project is None
        self.statements = []
        if sorts is None:
            sorts = [{'where': 'column', 'column': 'created_at',
                      'dir': 'desc'}]
        self.images.image_list(ctx, list(filters), sorts, limit=2,
                               latest=latest)
        [page] = [s for s in self.statements if 'LIMIT' in s[0] and
                  'ga_image_versions_state' not in s[0] and
                  'image_properties AS vp' not in s[0]]
        children = [s for s in self.statements if 'UNION ALL' in s[0]]
        return [page] + (children or [None])


class TestSqliteImagePlans(_ImagePlans):
    """On SQLite, where Glance's tables have no statistics, the images
    list reads a page through the index of its order or of a selective
    column, never through the index of deleted, os_hidden or a member's
    deleted flag that nearly every row shares (which read every image,
    or every membership per shared image: seconds a page at 100,000
    images)."""

    DATABASE = 'sqlite'

    def plans(self, *args, **kwargs):
        with self.engine.connect() as conn:
            return ['\n'.join(str(r[-1]) for r in conn.exec_driver_sql(
                'EXPLAIN QUERY PLAN ' + statement, parameters))
                for statement, parameters in self.statement(*args, **kwargs)]

    def assertNoCommonIndex(self, plan):
        for index in ('ix_images_deleted', 'os_hidden_image_idx',
                      'ix_image_members_deleted', 'ix_images_status',
                      'ix_image_properties_deleted',
                      'ix_image_tags_deleted'):
            self.assertNotIn(index, plan)

    def test_a_page_walks_the_creation_index_and_stops(self):
        page, _ = self.plans()
        self.assertIn('SCAN images USING INDEX created_at_image_idx', page)
        self.assertNotIn('TEMP B-TREE FOR ORDER BY', page.replace(
            'TEMP B-TREE FOR RIGHT PART OF ORDER BY', ''))
        self.assertNoCommonIndex(page)

    def test_a_members_shared_images_are_read_once_not_per_image(self):
        page, _ = self.plans('p')
        self.assertIn('LIST SUBQUERY', page)
        self.assertNotIn('CORRELATED', page)
        self.assertNoCommonIndex(page)

    def test_the_version_order_walks_our_version_index_and_stops(self):
        self.indexed()
        for project in (None, 'p'):
            page, _ = self.plans(project, sorts=[
                {'where': 'column', 'column': 'version_key', 'dir': 'desc'}])
            self.assertIn('SCAN ga_image_versions USING COVERING INDEX '
                          'ga_image_versions_key_idx', page)
            self.assertIn('SEARCH images USING INDEX sqlite_autoindex_'
                          'images_1 (id=?)', page)
            self.assertNotIn('TEMP B-TREE', page)
            self.assertNoCommonIndex(page)

    def test_the_latest_of_a_name_is_a_range_of_our_index_per_image(self):
        self.indexed()
        for project in (None, 'p'):
            page, _ = self.plans(project, latest=True)
            self.assertIn('SCAN images USING INDEX created_at_image_idx',
                          page)
            self.assertIn('SEARCH g2 USING COVERING INDEX '
                          'ga_image_versions_name_idx (name=? AND '
                          'version_key>?)', page)
            self.assertNotIn('TEMP B-TREE FOR ORDER BY', page.replace(
                'TEMP B-TREE FOR RIGHT PART OF ORDER BY', ''))
            self.assertNoCommonIndex(page)

    def test_what_a_pages_images_hold_is_read_by_their_ids(self):
        _, children = self.plans('p0')
        self.assertIn('SEARCH image_properties USING INDEX '
                      'ix_image_properties_image_id (image_id=?)', children)
        self.assertIn('SEARCH image_tags USING INDEX ix_image_tags_image_id '
                      '(image_id=?)', children)
        self.assertNoCommonIndex(children)

    def test_a_tag_is_sought_per_image_in_the_tag_index(self):
        page, _ = self.plans(filters=[{'where': 'tag', 'op': 'eq',
                                       'values': ['t']}])
        self.assertIn('ix_image_tags_image_id_tag_value (image_id=? AND '
                      'value=?)', page)
        self.assertNoCommonIndex(page)

    def test_a_name_or_owner_filter_does_not_walk_the_order(self):
        page, _ = self.plans(filters=[{'where': 'column', 'column': 'name',
                                       'op': 'eq', 'values': ['i1']}])
        self.assertEqual('SCAN images\nUSE TEMP B-TREE FOR ORDER BY', page)
        page, _ = self.plans(filters=[{'where': 'column', 'column': 'owner',
                                       'op': 'eq', 'values': ['p1']}])
        self.assertIn('SEARCH images USING INDEX owner_image_idx (owner=?)',
                      page)
        self.assertNoCommonIndex(page)


class TestMariaDBImagePlans(_ImagePlans):
    """On MariaDB, the images list does not intersect the indexes of
    deleted and os_hidden (which nearly every image shares: most of the
    table, four times the time of a scan for a name at 100,000 images):
    a name is a scan, an owner its index, and a page in the order of
    creation walks that index."""

    DATABASE = 'mysql'
    IMAGES = 5000

    def setUp(self):
        super(TestMariaDBImagePlans, self).setUp()
        with self.engine.connect() as conn:
            conn.exec_driver_sql('ANALYZE TABLE images').fetchall()

    def keys(self, *args, **kwargs):
        """{table: (access type, index)} of the page's plan."""
        statement, parameters = self.statement(*args, **kwargs)[0]
        with self.engine.connect() as conn:
            return {r['table']: (r['type'], r['key'])
                    for r in conn.exec_driver_sql(
                        'EXPLAIN ' + statement, parameters).mappings()}

    def test_a_name_is_a_scan_of_the_table_or_of_what_a_member_lists(self):
        name = [{'where': 'column', 'column': 'name', 'op': 'eq',
                 'values': ['i1']}]
        self.assertEqual(('ALL', None), self.keys(filters=name)['images'])
        # Public images and the project's own.
        self.assertEqual(('index_merge', 'visibility_image_idx,'
                          'owner_image_idx'),
                         self.keys('p1', filters=name)['images'])

    def test_an_owner_is_its_index(self):
        for project in (None, 'p1'):
            self.assertEqual(('ref', 'owner_image_idx'), self.keys(
                project, filters=[{'where': 'column', 'column': 'owner',
                                   'op': 'eq', 'values': ['p1']}])['images'])

    def test_a_page_walks_the_creation_index(self):
        for project in (None, 'p1'):
            self.assertEqual(('index', 'created_at_image_idx'),
                             self.keys(project)['images'])

    def test_hidden_images_sorted_by_name_are_found_by_their_index(self):
        hidden = [{'where': 'property', 'field': 'os_hidden',
                   'column': 'bool_value', 'key': None, 'op': 'eq',
                   'values': [True]}]
        by_name = [{'where': 'column', 'column': 'name', 'dir': 'asc'}]
        self.assertEqual(('ref', 'os_hidden_image_idx'), self.keys(
            filters=hidden, sorts=by_name)['images'])

    def test_the_version_order_walks_our_version_index_by_image_ids(self):
        # Image ids of our index are in Glance's collation: through a
        # conversion each image would be a scan, not its primary key.
        self.indexed()
        by_version = [{'where': 'column', 'column': 'version_key',
                       'dir': 'desc'}]
        for project in (None, 'p1'):
            keys = self.keys(project, sorts=by_version)
            self.assertEqual(('index', 'ga_image_versions_key_idx'),
                             keys['ga_image_versions'], project)
            self.assertEqual(('eq_ref', 'PRIMARY'), keys['images'], project)

    def test_the_latest_of_a_name_is_a_range_of_our_index_per_image(self):
        self.indexed()
        for project in (None, 'p1'):
            keys = self.keys(project, latest=True)
            self.assertEqual(('index', 'created_at_image_idx'),
                             keys['images'], project)
            self.assertIn(keys['g2'], [('ref', 'ga_image_versions_name_idx'),
                                       ('range',
                                        'ga_image_versions_name_idx')],
                          project)
            self.assertEqual(('eq_ref', 'PRIMARY'), keys['i2'], project)


class TestPostgreSQLImagePlans(_ImagePlans):
    """On PostgreSQL, lists by version walk our index of image versions
    (or the order of creation, asking it per image) and stop after the
    page, for an admin and for a member alike: no hash of every image the
    caller lists. (At 100,000 images the member's page also needs its
    memberships read as one array before it: benchmarks/list.py.)"""

    DATABASE = 'postgresql'
    IMAGES = 5000

    def setUp(self):
        super(TestPostgreSQLImagePlans, self).setUp()
        self.indexed()
        with self.engine.begin() as conn:
            conn.exec_driver_sql('ANALYZE')

    def plan(self, *args, **kwargs):
        statement, parameters = self.statement(*args, **kwargs)[0]
        with self.engine.connect() as conn:
            return '\n'.join(r[0] for r in conn.exec_driver_sql(
                'EXPLAIN ' + statement, parameters))

    def test_the_version_order_walks_our_version_index_and_stops(self):
        for project in (None, 'p1'):
            plan = self.plan(project, sorts=[
                {'where': 'column', 'column': 'version_key', 'dir': 'desc'}])
            self.assertIn('Scan Backward using ga_image_versions_key_idx',
                          plan)
            self.assertIn('Index Scan using images_pkey', plan)
            self.assertNotIn('Sort', plan)
            self.assertNotIn('Hash', plan)

    def test_the_latest_of_a_name_is_asked_per_image_of_the_page(self):
        for project in (None, 'p1'):
            plan = self.plan(project, latest=True)
            self.assertIn('Index Scan Backward using created_at_image_idx',
                          plan)
            # Per image of the page: a subplan, not a join of every image.
            self.assertIn('SubPlan', plan)
            self.assertIn('ga_image_versions_name_idx', plan)
            self.assertNotIn('Hash', plan)


class TestMariaDBPlans(_Plans):
    """On MariaDB, a page after a marker seeks to the marker in the order
    index (a range), where MariaDB would read the index from the start of
    the type and filter every row before the marker."""

    DATABASE = 'mysql'
    EXPLAIN = 'EXPLAIN FORMAT=JSON '

    def setUp(self):
        super(TestMariaDBPlans, self).setUp()
        # Enough of a catalog that the marker's range looks no better than
        # the whole type to MariaDB: the marker (made now) is newer than
        # most, the rows after it few.
        start = datetime.datetime.utcnow() - datetime.timedelta(days=1)
        with self.engine.begin() as conn:
            conn.execute(models.artifacts.insert(), [_artifact_row(
                'n%d' % i, '1.0.0', type_name='heat_templates',
                created_at=start + datetime.timedelta(seconds=i),
                updated_at=start + datetime.timedelta(seconds=i))
                for i in range(3000)])
            conn.exec_driver_sql('ANALYZE TABLE ga_artifacts').fetchall()

    def table_plan(self, *args):
        return json.loads(self.plan(*args))['query_block']['nested_loop'][
            0]['table']

    def test_a_marker_is_a_range_in_the_order_index(self):
        marker = 'marker=00000000-0000-0000-0000-000000000001'
        for project, type_name, query, index in [
                ('p', 'heat_templates', marker,
                 'ga_artifacts_type_created_idx'),
                (None, 'heat_templates', marker + '&status=drafted',
                 'ga_artifacts_type_created_idx'),
                ('p', 'heat_templates', marker + '&sort=updated_at:asc',
                 'ga_artifacts_type_updated_idx'),
                ('p', 'all', marker, 'ga_artifacts_created_idx')]:
            table = self.table_plan(self.context(project), type_name, query)
            self.assertEqual(('range', index),
                             (table['access_type'], table['key']), query)

    def test_a_name_prefix_is_a_range_of_the_name_index(self):
        for project in (None, 'p'):
            # A range of the few artifacts of that prefix, then a sort.
            step = json.loads(self.plan(
                self.context(project), 'heat_templates',
                'name=like:n299%25'))['query_block']['nested_loop'][0]
            table = step['read_sorted_file']['filesort']['table']
            # Of the type's names, or (migration 0009) of every type's.
            self.assertIn((table['access_type'], table['key'],
                           table['used_key_parts']),
                          [('range', 'ga_artifacts_name_version_idx',
                            ['type_name', 'name']),
                           ('range', 'ga_artifacts_name_idx', ['name'])])

    def test_all_types_by_name_walk_the_name_index(self):
        for project in (None, 'p'):
            table = self.table_plan(self.context(project), 'all',
                                    'sort=name:asc')
            self.assertEqual(('index', 'ga_artifacts_name_idx'),
                             (table['access_type'], table['key']))

    def test_a_name_or_owner_filter_keeps_its_own_index(self):
        marker = 'marker=00000000-0000-0000-0000-000000000001'
        for query, index in [('&name=n', 'ga_artifacts_name_version_idx'),
                             ('&owner=p', 'ga_artifacts_owner_name_idx')]:
            self.plan(self.context(), 'heat_templates', marker + query)
            page = [s for s, _p in self.statements if 'LIMIT' in s][0]
            self.assertNotIn('FORCE INDEX', page)


class TestPostgreSQLPlans(_Plans):
    """On PostgreSQL, a like: filter's prefix is an index range (of the
    varchar_pattern_ops indexes of migration 0008): the ordinary index
    serves LIKE only in a database whose collation is C."""

    DATABASE = 'postgresql'
    EXPLAIN = 'EXPLAIN '

    def setUp(self):
        super(TestPostgreSQLPlans, self).setUp()
        with self.engine.begin() as conn:
            conn.execute(models.artifacts.insert(), [_artifact_row(
                'n%d' % i, '1.0.0', type_name='heat_templates')
                for i in range(3000)])
            conn.exec_driver_sql('ANALYZE ga_artifacts')

    def test_a_name_prefix_is_a_range_of_the_pattern_index(self):
        for project in (None, 'p'):
            plan = self.plan(self.context(project), 'heat_templates',
                             'name=like:n299%25')
            self.assertIn('ga_artifacts_name_pattern_idx', plan)
            self.assertIn("(name)::text ~>=~ 'n299'::text", plan)

    def test_all_types_by_name_walk_the_name_index(self):
        for project in (None, 'p'):
            plan = self.plan(self.context(project), 'all', 'sort=name:asc')
            self.assertIn('Index Scan using ga_artifacts_name_idx', plan)
            self.assertNotIn('Sort', plan)


class TestMariaDBHeldValues(_Plans):
    """On MariaDB, a filter on a value that many artifacts hold (a tag,
    a type field) is asked artifact by artifact while the page walks the
    order index; one on a rare value starts from the rows holding it.
    Both list exactly the same artifacts."""

    DATABASE = 'mysql'
    EXPLAIN = 'EXPLAIN FORMAT=JSON '

    def setUp(self):
        super(TestMariaDBHeldValues, self).setUp()
        start = datetime.datetime.utcnow() - datetime.timedelta(days=1)
        visibilities = ('private', 'public', 'shared', 'community')
        rows, tags, members, props = [], [], [], []
        for i in range(3600):
            type_name = 'heat_templates' if i < 3000 else 'murano_packages'
            row = _artifact_row(
                'n%d' % (i % 700), '1.%d.0' % (i // 700),
                owner='pqr'[i % 3], type_name=type_name,
                visibility=visibilities[i % 4],
                # Ties in created_at, broken by id.
                created_at=start + datetime.timedelta(seconds=i // 2),
                updated_at=start)
            rows.append(row)
            tags += [{'artifact_id': row['id'], 'value': 'common'}]
            if i % 2:
                tags.append({'artifact_id': row['id'], 'value': 'odd'})
            if i % 1000 == 7:
                tags.append({'artifact_id': row['id'], 'value': 'rare'})
            if row['visibility'] == 'shared':
                members.append({'artifact_id': row['id'], 'member': 'q',
                                'status': ('accepted', 'pending')[i % 5 == 2],
                                'created_at': start, 'updated_at': start})
            if type_name == 'murano_packages':
                props.append({'artifact_id': row['id'],
                              'name': 'package_type',
                              'str_value': ('Library', 'Application')[
                                  i % 3 == 0]})
        with self.engine.begin() as conn:
            conn.execute(models.artifacts.insert(), rows)
            conn.execute(models.tags.insert(), tags)
            conn.execute(models.members.insert(), members)
            conn.execute(models.properties.insert(), props)
            conn.exec_driver_sql(
                'ANALYZE TABLE ga_artifacts, ga_tags, ga_members, '
                'ga_properties').fetchall()

    def nested_loop(self, *args):
        """The tables the page's statement joins, in their order."""
        step = json.loads(self.plan(*args))['query_block']
        while 'nested_loop' not in step:     # under a filesort
            [step] = [v for v in step.values() if isinstance(v, dict)]
        return [s['table'] for s in step['nested_loop']]

    def test_a_common_value_is_asked_per_artifact_in_the_order_index(self):
        # Values that 400 to 3600 rows hold, and the 3 of 'rare'.
        self.useFixture(fixtures.MockPatchObject(self.api, 'COMMON_ROWS',
                                                 300))
        for project, type_name, query in [
                (None, 'heat_templates', 'tags=common'),
                ('q', 'heat_templates', 'tags=odd'),
                (None, 'murano_packages', 'package_type=Library')]:
            [table] = self.nested_loop(self.context(project), type_name,
                                       query)
            self.assertEqual(('ga_artifacts',
                              'ga_artifacts_type_created_idx'),
                             (table['table_name'], table['key']), query)

    def test_a_rare_value_is_where_the_list_starts(self):
        self.useFixture(fixtures.MockPatchObject(self.api, 'COMMON_ROWS',
                                                 300))
        first = self.nested_loop(self.context(), 'heat_templates',
                                 'tags=rare')[0]
        self.assertEqual(('ga_tags', 'ga_tags_value_idx'),
                         (first['table_name'], first['key']))

    def test_asked_per_artifact_or_joined_the_lists_are_the_same(self):
        def pages(context, type_name, query, common_rows):
            self.useFixture(fixtures.MockPatchObject(
                self.api, 'COMMON_ROWS', common_rows))
            args = self.arguments(type_name, query + '&limit=40')
            first = self.api.artifact_list(context, **args)
            if not first:
                return [], []
            rest = self.api.artifact_list(context, **dict(
                args, limit=1000, marker=first[-1]['id']))
            return ([r['id'] for r in first], [r['id'] for r in rest])

        checked = 0
        for project in (None, 'p', 'q'):
            context = self.context(project)
            for type_name, query in [
                    ('heat_templates', 'tags=common'),
                    ('heat_templates', 'tags=odd&tags=common'),
                    ('heat_templates', 'tags=odd&tags=rare'),
                    ('heat_templates', 'tags=rare'),
                    ('heat_templates', 'tags=odd&version=latest'),
                    ('heat_templates', 'tags=odd&sort=name:asc,version:desc'),
                    ('heat_templates', 'tags=odd&visibility=community'),
                    ('murano_packages', 'package_type=Library'),
                    ('murano_packages',
                     'package_type=Library&tags=odd&version=latest'),
                    ('all', 'tags=odd')]:
                probed = pages(context, type_name, query, 1)
                joined = pages(context, type_name, query, 10 ** 9)
                self.assertEqual(joined, probed, (project, query))
                self.assertTrue(probed[0], (project, query))
                checked += 1
        self.assertEqual(30, checked)


class TestUpgradeTo0007(testtools.TestCase):
    """0007 names the data of existing blobs and pending deletes after
    their locations, and garbage collection finds them by those names,
    and by their locations where a location held none."""

    def test_existing_rows_get_the_data_name_their_location_holds(self):
        root, cleanup = base.make_tempdir('ga-upgrade-')
        self.addCleanup(cleanup)
        engine = sa.create_engine(_database(self, root))
        self.addCleanup(engine.dispose)
        migration.upgrade(engine, '0006_owner_name_index')
        now = datetime.datetime.utcnow()
        ids = [str(uuid.uuid4()) for _ in range(4)]
        locations = {
            'file': 'file:///var/lib/glance/images/artifact-%s' % ids[0],
            's3': 's3://key:secret@s3.example/bucket/artifact-%s' % ids[1],
            'rbd': 'rbd://fsid/images/artifact-%s/snap' % ids[2],
            'odd': 'file:///old/layout/artifact-%s.bin' % ids[3]}
        blobs = sa.table('ga_blobs', *[sa.column(c) for c in (
            'artifact_id', 'field', 'key', 'status', 'location', 'backend',
            'created_at', 'updated_at')])
        pending = sa.table('ga_pending_deletes', *[sa.column(c) for c in (
            'backend', 'location', 'delete_after')])
        with engine.begin() as conn:
            _insert_artifact_a(conn, now)
            conn.execute(blobs.insert(), [
                {'artifact_id': 'a', 'field': kind, 'key': '',
                 'status': 'active', 'location': location, 'backend': '',
                 'created_at': now, 'updated_at': now}
                for kind, location in sorted(locations.items())
                if kind != 's3'])
            conn.execute(pending.insert(), [
                {'backend': '', 'location': locations['s3'],
                 'delete_after': now}])
        migration.upgrade(engine)
        with engine.connect() as conn:
            named = dict(conn.execute(sa.select(
                models.blobs.c.field, models.blobs.c.data_name)).fetchall())
            pending_name = conn.execute(sa.select(
                models.pending_deletes.c.data_name)).scalar()
        self.assertEqual({'file': 'artifact-' + ids[0],
                          'rbd': 'artifact-' + ids[2], 'odd': None}, named)
        self.assertEqual('artifact-' + ids[1], pending_name)
