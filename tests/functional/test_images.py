"""Glance's images as the read-only artifact type ``images``: records read
through Glance's database API with the caller's context, in the list of
every type, and as the targets of references. The images are made with
Glance's own /v2/images API through the same pipeline."""

import datetime
import hashlib
import urllib.parse

import fixtures
from oslo_config import cfg

from glance import context as glance_context
from glance import db as glance_db
from glance.db.artifacts import images

from tests import base as test_base
from tests import databases
from tests import registry
from tests.functional import base
from tests.functional import samples

CONF = cfg.CONF

IMAGES = '/v2/artifacts/images'
ALL = '/v2/artifacts/all'
OWNER = test_base.identity('img-owner')
OTHER = test_base.identity('img-other')
ADMIN = test_base.identity('img-admin', roles=['admin', 'member', 'reader'])


class ImagesTest(base.FunctionalTest):

    def image(self, who=OWNER, data=None, members=(), **fields):
        """An image made with POST /v2/images (and its data uploaded, when
        given); deleted again after the test."""
        fields.setdefault('disk_format', 'raw')
        fields.setdefault('container_format', 'bare')
        resp = self.request('POST', '/v2/images', body=fields, identity=who)
        self.assertEqual(201, resp.status_int, resp.text)
        image = resp.json
        self.addCleanup(self.request, 'DELETE',
                        '/v2/images/%s' % image['id'], identity=ADMIN)
        if data is not None:
            resp = self.request('PUT', '/v2/images/%s/file' % image['id'],
                                raw=data, identity=who,
                                content_type='application/octet-stream')
            self.assertEqual(204, resp.status_int, resp.text)
        for member in members:
            self.assertEqual(200, self.request(
                'POST', '/v2/images/%s/members' % image['id'],
                body={'member': member}, identity=who).status_int)
        return image

    def forget_images(self, ids):
        """Remove the rows of images written with Glance's database API
        (some deleted there already), after the test."""
        from glance.db.sqlalchemy import api as glance_sa_api
        from glance.db.sqlalchemy import models as glance_models

        def forget():
            made = list(ids)
            with glance_sa_api.get_engine().begin() as conn:
                for model in (glance_models.ImageMember,
                              glance_models.ImageProperty,
                              glance_models.ImageTag):
                    table = model.__table__
                    conn.execute(table.delete().where(
                        table.c.image_id.in_(made)))
                table = glance_models.Image.__table__
                conn.execute(table.delete().where(table.c.id.in_(made)))
        self.addCleanup(forget)

    def get(self, path, who=OWNER, status=200):
        resp = self.request('GET', path, identity=who)
        self.assertEqual(status, resp.status_int, resp.text)
        return resp.json if resp.text else None

    def names(self, path, who=OWNER):
        return [a['name'] for a in self.get(path, who)['artifacts']]

    def walk(self, path, who=OWNER):
        """Every page of a list by its next links: [(type, name)]."""
        found = []
        while path:
            body = self.get(path, who)
            found += [(a['type_name'], a['name']) for a in body['artifacts']]
            path = body.get('next')
        return found


class TestImagesType(ImagesTest):

    def test_images_is_an_enabled_type_with_a_schema_of_read_only_fields(self):
        types = self.get('/v2/artifacts')['artifact_types']
        self.assertIn('images', [t['name'] for t in types])
        schema = self.get('/v2/artifacts/schemas/images')
        for name in ('disk_format', 'container_format', 'size', 'checksum',
                     'os_hash_value', 'min_disk', 'min_ram', 'os_hidden',
                     'image_status', 'data'):
            self.assertTrue(schema['properties'][name]['readOnly'], name)

    def test_an_image_shows_its_fields_and_properties_as_an_artifact(self):
        data = b'image data ' * 100
        image = self.image(name='cirros', data=data, tags=['boot', 'tiny'],
                           min_ram=64, artifact_version='1.2.0',
                           description='A tiny image', os_distro='cirros')
        view = self.get('%s/%s' % (IMAGES, image['id']))
        self.assertEqual(
            {'id': image['id'], 'type_name': 'images', 'type_version': '1.0',
             'name': 'cirros', 'version': '1.2.0',
             'description': 'A tiny image', 'owner': 'img-owner',
             'visibility': 'shared', 'status': 'active', 'protected': False,
             'tags': ['boot', 'tiny'],
             'metadata': {'artifact_version': '1.2.0',
                          'description': 'A tiny image',
                          'os_distro': 'cirros'},
             'disk_format': 'raw', 'container_format': 'bare',
             'size': len(data), 'virtual_size': len(data),
             'checksum': hashlib.md5(data).hexdigest(),
             'os_hash_algo': 'sha512',
             'os_hash_value': hashlib.sha512(data).hexdigest(),
             'min_disk': 0, 'min_ram': 64, 'os_hidden': False,
             'image_status': 'active', 'activated_at': None,
             'self': '%s/%s' % (IMAGES, image['id']),
             'schema': '/v2/artifacts/schemas/images'},
            {k: v for k, v in view.items()
             if k not in ('created_at', 'updated_at', 'data')})
        self.assertEqual(image['created_at'], view['created_at'])
        self.assertEqual({'status': 'active', 'size': len(data),
                          'checksum': hashlib.md5(data).hexdigest(),
                          'os_hash_algo': 'sha512',
                          'os_hash_value': hashlib.sha512(data).hexdigest(),
                          'content_type': 'application/octet-stream',
                          'url': '%s/%s/data' % (IMAGES, image['id'])},
                         view['data'])

    def test_an_image_without_data_is_drafted_and_its_data_is_204(self):
        image = self.image(name='empty', artifact_version='not-semver')
        view = self.get('%s/%s' % (IMAGES, image['id']))
        self.assertEqual(('drafted', 'queued', '0.0.0', None),
                         (view['status'], view['image_status'],
                          view['version'], view['data']))
        self.assertEqual(204, self.request(
            'GET', '%s/%s/data' % (IMAGES, image['id']),
            identity=OWNER).status_int)

    def test_the_data_redirects_to_the_image_file_under_its_policy(self):
        data = b'0123456789' * 50
        image = self.image(name='redirected', data=data)
        resp = self.request('GET', '%s/%s/data' % (IMAGES, image['id']),
                            identity=OWNER)
        self.assertEqual(303, resp.status_int, resp.text)
        location = urllib.parse.urlsplit(resp.headers['Location'])
        self.assertEqual('/v2/images/%s/file' % image['id'], location.path)
        resp = self.request('GET', location.path, identity=OWNER,
                            headers={'Range': 'bytes=10-19'})
        self.assertEqual((206, data[10:20]), (resp.status_int, resp.body))
        self.assertEqual(404, self.request(
            'GET', '%s/%s/data' % (IMAGES, image['id']),
            identity=OTHER).status_int)

    def test_every_write_is_405_pointing_to_v2_images(self):
        image = self.image(name='ro', data=b'x')
        item = '%s/%s' % (IMAGES, image['id'])
        for method, path, allow in [
                ('POST', IMAGES, 'GET'), ('PATCH', item, 'GET'),
                ('DELETE', item, 'GET'),
                ('POST', item + '/actions/deactivate', ''),
                ('PUT', item + '/tags/t', ''),
                ('DELETE', item + '/tags/boot', ''),
                ('POST', item + '/members', ''),
                ('GET', item + '/members', ''),
                ('PUT', item + '/members/x', ''),
                ('PUT', item + '/data', 'GET')]:
            resp = self.request(
                method, path, identity=OWNER,
                body={} if method in ('POST', 'PUT', 'PATCH') else None,
                content_type=('application/octet-stream'
                              if path.endswith('/data') else None))
            self.assertEqual(405, resp.status_int, (method, path))
            self.assertIn('Images are read-only in the artifacts API: '
                          'create, change, share and delete them with '
                          '/v2/images.', resp.text)
            self.assertEqual(allow, resp.headers['Allow'], (method, path))
        self.assertEqual('ro', self.get(item)['name'])


class TestImagesVisibility(ImagesTest):

    def test_private_images_of_other_projects_are_not_found(self):
        image = self.image(name='secret', visibility='private')
        self.get('%s/%s' % (IMAGES, image['id']), who=OTHER, status=404)
        self.assertEqual([], self.names(IMAGES, who=OTHER))
        self.assertEqual(['secret'], self.names(IMAGES, who=OWNER))
        self.assertEqual(['secret'], self.names(IMAGES, who=ADMIN))

    def test_shared_images_are_listed_to_members_who_accepted(self):
        image = self.image(name='shared', members=['img-other'])
        self.assertEqual([], self.names(IMAGES, who=OTHER))
        self.assertEqual(['shared'], self.names(
            IMAGES + '?member_status=pending', who=OTHER))
        self.assertEqual(200, self.request(
            'PUT', '/v2/images/%s/members/img-other' % image['id'],
            body={'status': 'accepted'}, identity=OTHER).status_int)
        self.assertEqual(['shared'], self.names(IMAGES, who=OTHER))

    def test_community_images_are_listed_when_a_visibility_is_asked(self):
        self.image(name='community', visibility='community')
        self.image(name='public', visibility='public', who=ADMIN)
        self.assertEqual(['public'], self.names(IMAGES, who=OTHER))
        self.assertEqual(['community'], self.names(
            IMAGES + '?visibility=community', who=OTHER))
        self.assertEqual(['community', 'public'], self.names(
            IMAGES + '?visibility=in:community,public&sort=name:asc',
            who=OTHER))

    def test_hidden_images_are_listed_only_with_os_hidden_true(self):
        image = self.image(name='hidden', os_hidden=True)
        self.image(name='plain')
        self.assertEqual(['plain'], self.names(IMAGES))
        self.assertEqual(['hidden'], self.names(IMAGES + '?os_hidden=true'))
        self.assertEqual('hidden',
                         self.get('%s/%s' % (IMAGES, image['id']))['name'])


class TestImagesLists(ImagesTest):

    def setUp(self):
        super(TestImagesLists, self).setUp()
        for name, version, tags, disk in [
                ('ubuntu', '20.4.0', ['lts'], 'qcow2'),
                ('ubuntu', '22.4.0', ['lts', 'new'], 'qcow2'),
                ('cirros', '0.6.2', ['tiny'], 'raw'),
                ('fedora', '39.0.0', [], 'qcow2'),
                ('fedora', '40.0.0', ['new'], 'raw')]:
            self.image(name=name, artifact_version=version, tags=tags,
                       disk_format=disk, os_distro=name)

    def test_filters_apply_to_images_as_to_artifacts(self):
        asc = '&sort=name:asc,version:asc'
        self.assertEqual(['ubuntu', 'ubuntu'],
                         self.names(IMAGES + '?name=ubuntu' + asc))
        self.assertEqual(['fedora', 'ubuntu'],
                         self.names(IMAGES + '?tags=new' + asc))
        self.assertEqual(['ubuntu'],
                         self.names(IMAGES + '?tags=new&tags=lts'))
        self.assertEqual(['cirros', 'fedora'],
                         self.names(IMAGES + '?disk_format=raw' + asc))
        self.assertEqual(['fedora', 'ubuntu', 'ubuntu'],
                         self.names(IMAGES + '?disk_format=neq:raw' + asc))
        self.assertEqual(['cirros', 'fedora', 'fedora'], self.names(
            IMAGES + '?name=neq:ubuntu&disk_format=in:qcow2,raw' + asc))
        self.assertEqual(['fedora', 'ubuntu', 'ubuntu'], self.names(
            IMAGES + '?version=gte:20.0.0&version=lt:40.0.0' + asc))
        self.assertEqual(['cirros'], self.names(
            IMAGES + '?metadata.os_distro=cirros'))
        self.assertEqual(['ubuntu', 'ubuntu', 'fedora', 'fedora', 'cirros'],
                         self.names(IMAGES + '?sort=name:desc,version:asc'))
        self.assertEqual(['cirros', 'fedora', 'ubuntu'], self.names(
            IMAGES + '?tags-any=new,tiny' + asc))
        self.assertEqual(['fedora', 'ubuntu'], self.names(
            IMAGES + '?tags-any=new,tiny&name=neq:cirros' + asc))
        self.assertEqual(['cirros', 'fedora'], self.names(
            IMAGES + '?name=like:%25r%25&disk_format=raw' + asc))
        self.assertEqual(['ubuntu', 'ubuntu'], self.names(
            IMAGES + '?name=like:u_u%25' + asc))
        self.assertEqual(['cirros'], self.names(
            IMAGES + '?metadata.os_distro=like:c%25'))
        self.assertEqual(['cirros', 'fedora', 'fedora', 'ubuntu', 'ubuntu'],
                         self.names(ALL + '?type_name=like:im%25' + asc))
        self.assertEqual([], self.names(ALL + '?type_name=like:heat%25'))

    def test_columns_that_are_the_same_for_every_image_sort_too(self):
        # type_name and activated_at are constants of images: the order
        # goes on to the next key (PostgreSQL refuses a constant in ORDER
        # BY), and pages still follow each other.
        for sort in ('type_name:asc,name:asc', 'activated_at:desc,name:asc'):
            self.assertEqual(['cirros', 'fedora', 'fedora', 'ubuntu',
                              'ubuntu'],
                             [n for _t, n in self.walk(
                                 IMAGES + '?limit=2&sort=' + sort)], sort)
            self.assertEqual(
                [('images', n) for n in ('cirros', 'fedora', 'fedora',
                                         'ubuntu', 'ubuntu')],
                self.walk(ALL + '?limit=2&sort=' + sort))

    def test_latest_gives_the_highest_version_of_each_name(self):
        body = self.get(IMAGES + '?version=latest&sort=name:asc')
        self.assertEqual([('cirros', '0.6.2'), ('fedora', '40.0.0'),
                          ('ubuntu', '22.4.0')],
                         [(a['name'], a['version'])
                          for a in body['artifacts']])

    def test_pages_by_next_links_give_the_whole_list_once(self):
        for query in ('', '&sort=name:asc,version:desc',
                      '&sort=created_at:asc', '&version=latest',
                      '&sort=version:desc',
                      '&version=latest&sort=version:asc'):
            whole = self.walk(IMAGES + '?limit=100' + query)
            self.assertEqual(whole, self.walk(IMAGES + '?limit=2' + query),
                             query)
        self.assertEqual(5, len(self.walk(IMAGES + '?limit=2')))

    def test_a_marker_outside_the_list_is_400(self):
        outside = self.get(IMAGES + '?name=cirros')['artifacts'][0]['id']
        resp = self.request('GET', IMAGES + '?name=ubuntu&marker=' + outside,
                            identity=OWNER)
        self.assertError(400, resp, 'marker')


class TestImagesInAll(ImagesTest):

    def test_all_lists_images_beside_artifacts_in_one_order(self):
        made = []
        for i in range(3):
            made.append(('images', self.image(name='img-%d' % i)['name']))
            resp = self.request('POST', '/v2/artifacts/heat_templates',
                                body={'name': 'tpl-%d' % i}, identity=OWNER)
            self.assertEqual(201, resp.status_int, resp.text)
            made.append(('heat_templates', 'tpl-%d' % i))
        newest_first = self.walk(ALL + '?limit=100')
        if not (databases.kind() == 'mysql' and
                registry.mode() != 'registry'):
            # Glance's tables on MariaDB keep image times to the second,
            # so there images sort after the artifacts of that second.
            self.assertEqual(list(reversed(made)), newest_first)
        self.assertEqual(sorted(made), sorted(newest_first))
        self.assertEqual(newest_first, self.walk(ALL + '?limit=2'))
        self.assertEqual(list(reversed(newest_first)),
                         self.walk(ALL + '?limit=4&sort_dir=asc'))
        by_name = sorted(made, key=lambda m: m[1])
        self.assertEqual(by_name, self.walk(ALL + '?limit=3&sort=name:asc'))
        self.assertEqual([m for m in newest_first if m[0] == 'images'],
                         self.walk(ALL + '?limit=2&type_name=images'))
        self.assertEqual([m for m in newest_first if m[0] != 'images'],
                         self.walk(ALL + '?limit=2&type_name=neq:images'))
        self.assertEqual([('heat_templates', 'tpl-1'), ('images', 'img-1')],
                         self.walk(ALL + '?name=in:img-1,tpl-1'))


class TestReferencesToImages(ImagesTest):
    """sample_artifacts' ref_dict takes artifacts of any enabled type,
    images among them."""

    def draft(self, refs):
        resp = self.request('POST', '/v2/artifacts/sample_artifacts',
                            body={'name': 'app', 'str_on_activate': 'x',
                                  'ref_dict': refs}, identity=OWNER)
        self.assertEqual(201, resp.status_int, resp.text)
        art = resp.json
        resp = self.request('PUT', art['self'] + '/blob1', raw=b'blob',
                            content_type='application/octet-stream',
                            identity=OWNER)
        self.assertEqual(204, resp.status_int, resp.text)
        return art

    def activate(self, art):
        return self.request('POST', art['self'] + '/actions/activate',
                            identity=OWNER)

    def test_activation_needs_the_referenced_image_active(self):
        image = self.image(name='base')
        art = self.draft({'base': image['id']})
        self.assertError(409, self.activate(art),
                         "'ref_dict' refers to image %s, which is queued; "
                         "only active images can be used." % image['id'])
        self.assertEqual(204, self.request(
            'PUT', '/v2/images/%s/file' % image['id'], raw=b'disk',
            content_type='application/octet-stream',
            identity=OWNER).status_int)
        self.assertEqual(204, self.activate(art).status_int)
        graph = self.get(art['self'] + '?dependencies=transitive')[
            'dependency_graph']
        self.assertEqual([{'id': image['id'], 'visible': True,
                           'type_name': 'images', 'name': 'base',
                           'version': '0.0.0', 'status': 'active',
                           'self': '%s/%s' % (IMAGES, image['id'])}],
                         graph['artifacts'])

    def test_a_reference_must_name_an_image_the_caller_can_see(self):
        image = self.image(name='theirs', who=OTHER, visibility='private')
        resp = self.request('POST', '/v2/artifacts/sample_artifacts',
                            body={'name': 'app',
                                  'ref_dict': {'base': image['id']}},
                            identity=OWNER)
        self.assertError(400, resp, "'ref_dict' refers to %s: there is no "
                                    "artifact with that id that you can "
                                    "see." % image['id'])

    def test_a_deleted_image_leaves_a_dangling_reference_shown_plainly(self):
        image = self.image(name='doomed', data=b'disk')
        art = self.draft({'base': image['id']})
        self.assertEqual(204, self.request(
            'DELETE', '/v2/images/%s' % image['id'],
            identity=OWNER).status_int)
        view = self.get(art['self'] + '?dependencies=direct')
        self.assertEqual({'base': image['id']}, view['ref_dict'])
        self.assertEqual([{'id': image['id'], 'visible': False}],
                         view['dependency_graph']['artifacts'])
        self.assertError(409, self.activate(art),
                         "'ref_dict' refers to %s, which is gone or which "
                         "you cannot see; remove the reference."
                         % image['id'])


class TestTypesThatReferToImages(ImagesTest):

    def setUp(self):
        super(TestTypesThatReferToImages, self).setUp()
        CONF.set_override('inspect_content', True, group='artifacts')
        self.addCleanup(CONF.clear_override, 'inspect_content',
                        group='artifacts')

    def test_a_murano_package_filled_from_its_manifest_depends_on_an_image(
            self):
        image = self.image(name='web-base', data=b'disk')
        resp = self.request('POST', '/v2/artifacts/murano_packages',
                            body={'name': 'io.example.Web',
                                  'version': '1.2.0',
                                  'images': [image['id']]}, identity=OWNER)
        self.assertEqual(201, resp.status_int, resp.text)
        art = resp.json
        resp = self.request('PUT', art['self'] + '/package',
                            raw=samples.murano_package(), identity=OWNER,
                            content_type='application/octet-stream')
        self.assertEqual(204, resp.status_int, resp.text)
        self.assertEqual(204, self.request(
            'POST', art['self'] + '/actions/activate',
            identity=OWNER).status_int)
        view = self.get(art['self'] + '?dependencies=transitive')
        self.assertEqual(
            ('Library', 'Web server', ['io.example.Port', 'io.example.Web'],
             ['web', 'http'], ['Web'], [image['id']], 'active'),
            (view['package_type'], view['display_name'],
             sorted(view['class_definitions']), view['keywords'],
             view['categories'], view['images'], view['status']))
        self.assertEqual([(image['id'], 'images', 'active')],
                         [(n['id'], n['type_name'], n['status'])
                          for n in view['dependency_graph']['artifacts']])

    def test_image_fields_take_only_images(self):
        resp = self.request('POST', '/v2/artifacts/heat_environments',
                            body={'name': 'env'}, identity=OWNER)
        env = resp.json
        resp = self.request('POST', '/v2/artifacts/heat_templates',
                            body={'name': 'stack', 'images': [env['id']]},
                            identity=OWNER)
        self.assertError(400, resp, "'images' refers to %s, a "
                                    "heat_environments; it takes images."
                         % env['id'])


def _context(project, admin=False):
    roles = ['admin', 'member', 'reader'] if admin else ['member', 'reader']
    return glance_context.RequestContext(project_id=project, roles=roles,
                                         is_admin=admin)


class TestImagesListedAsGlanceListsThem(ImagesTest):
    """The images list is our own SQL over Glance's tables: for every kind
    of caller, visibility, member status and hidden flag it lists exactly
    what Glance's own image_get_all lists, in the same order. The images
    are written with Glance's database API, so that every status,
    membership and deletion can be made."""

    PROJECTS = ('p-owner', 'p-member', 'p-stranger')

    def setUp(self):
        super(TestImagesListedAsGlanceListsThem, self).setUp()
        self.db = glance_db.get_api()
        admin = _context('p-admin', admin=True)
        self.made = set()
        self.forget_images(self.made)
        member_statuses = ('pending', 'accepted', 'rejected')
        n = 0
        for owner in ('p-owner', 'p-member', None):
            for visibility in ('private', 'public', 'shared', 'community'):
                for status in ('active', 'queued', 'killed', 'deactivated',
                               'deleted'):
                    for hidden in (False, True):
                        n += 1
                        image = self.db.image_create(admin, {
                            'name': 'sem-%03d' % n, 'owner': owner,
                            'visibility': visibility, 'status': status,
                            'os_hidden': hidden, 'disk_format': 'raw',
                            'container_format': 'bare', 'min_disk': 0,
                            'min_ram': 0, 'protected': False,
                            'properties': {}})
                        self.made.add(image['id'])
                        if visibility == 'shared':
                            member = self.db.image_member_create(admin, {
                                'image_id': image['id'],
                                'member': 'p-member',
                                'status': member_statuses[n % 3]})
                            if n % 4 == 0:
                                self.db.image_member_delete(admin,
                                                            member['id'])
                            self.db.image_member_create(admin, {
                                'image_id': image['id'],
                                'member': 'p-stranger-not',
                                'status': 'accepted'})
                        if n % 7 == 0:
                            self.db.image_destroy(admin, image['id'])

    def ours(self, context, visibility, hidden, member_status):
        filters = []
        if visibility is not None:
            filters.append({'where': 'column', 'column': 'visibility',
                            'op': 'eq', 'values': [visibility]})
        if hidden:
            filters.append({'where': 'property', 'field': 'os_hidden',
                            'column': 'bool_value', 'key': None,
                            'op': 'eq', 'values': [True]})
        found = images.image_list(
            context, filters,
            [{'where': 'column', 'column': 'created_at', 'dir': 'desc'}],
            limit=100000, member_status=member_status)
        return [r['id'] for r in found if r['id'] in self.made]

    def glances(self, context, visibility, hidden, member_status):
        filters = {'deleted': False, 'os_hidden': hidden}
        if visibility is not None:
            filters['visibility'] = visibility
        found = self.db.image_get_all(
            context, filters=filters, member_status=member_status or 'all',
            sort_key=['created_at'], sort_dir=['desc'])
        return [i['id'] for i in found if i['id'] in self.made]

    def test_every_caller_lists_what_glance_lists_it(self):
        contexts = [_context(p) for p in self.PROJECTS] + [
            _context('p-admin', admin=True), _context('p-owner', admin=True),
            _context(None)]
        checked = 0
        for context in contexts:
            for visibility in (None, 'private', 'public', 'shared',
                               'community'):
                for hidden in (False, True):
                    for member_status in ('accepted', 'pending', 'rejected',
                                          None):
                        case = (context.owner, context.is_admin, visibility,
                                hidden, member_status)
                        expected = self.glances(context, visibility, hidden,
                                                member_status)
                        self.assertEqual(expected, self.ours(
                            context, visibility, hidden, member_status),
                            case)
                        checked += bool(expected)
        # Not a comparison of empty lists.
        self.assertGreater(checked, 150)


class TestImageVersionsInTheDatabase(ImagesTest):
    """The database computes an image's version sort key (an SQL
    expression on PostgreSQL and MariaDB, a function on SQLite): it
    orders images exactly as glance.artifacts.semver orders versions, and
    a property that is no Semantic Version is 0.0.0."""

    VERSIONS = ['1.0.0', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta',
                '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1',
                '1.0.0-0.3.7', '1.0.0-x.7.z.92', '1.0.0-x-y-z.--',
                '1.0.0+20130313144700', '2.0.0-rc.1+build.1', '10.20.30',
                '1.2.3-ALPHA', '1.2.3-Alpha', '0.0.0-0', '99999999999999.0.0',
                '1.0.0-' + 'a' * 100,
                # not Semantic Versions: 0.0.0
                '01.2.3', '1.2', 'v1.0.0', '1.0.0-', '1.0.0+', '1.0.0-a..b',
                '1.0.0\n', '1.0.0-' + 'a' * 130, '', 'nonsense']

    def test_images_sort_and_keep_the_latest_by_semantic_version(self):
        admin = _context('p-admin', admin=True)
        db = glance_db.get_api()
        by_id = {}
        self.forget_images(by_id)
        for i, version in enumerate(self.VERSIONS):
            image = db.image_create(admin, {
                'name': 'v-%d' % (i % 3), 'owner': 'p-owner',
                'visibility': 'public', 'status': 'active',
                'disk_format': 'raw', 'container_format': 'bare',
                'min_disk': 0, 'min_ram': 0, 'protected': False,
                'properties': {'artifact_version': version}})
            by_id[image['id']] = (images._python_key(version), image['id'])
        for direction in ('asc', 'desc'):
            found = images.image_list(
                admin, sorts=[{'where': 'column', 'column': 'version_key',
                               'dir': direction}], limit=1000)
            self.assertEqual(
                sorted(by_id.values(), reverse=direction == 'desc'),
                [by_id[r['id']] for r in found], direction)
        latest = images.image_list(admin, latest=True, limit=1000, sorts=[
            {'where': 'column', 'column': 'name', 'dir': 'asc'}])
        highest = {}
        for record in latest:
            highest.setdefault(record['name'], set()).add(
                by_id[record['id']][0])
        for i in range(3):
            keys = [k for j, (k, _id) in enumerate(
                by_id[x] for x in by_id) if j % 3 == i]
            self.assertEqual({max(keys)}, highest['v-%d' % i])


class TestImagesWithoutNames(ImagesTest):
    """Glance's images may have no name: sorted by name, they come last
    in either direction (as artifacts' nulls do on every database), and
    pages by next links cross them."""

    def test_images_without_a_name_come_last_in_either_direction(self):
        admin = _context('p-admin', admin=True)
        db = glance_db.get_api()
        made = {}
        self.forget_images(made)
        for name in ('nn-b', None, 'nn-a', None, 'nn-c'):
            image = db.image_create(admin, {
                'name': name, 'owner': 'p-nn', 'visibility': 'private',
                'status': 'active', 'disk_format': 'raw',
                'container_format': 'bare', 'min_disk': 0, 'min_ram': 0,
                'protected': False, 'properties': {}})
            made[image['id']] = name
        unnamed = sorted(i for i, n in made.items() if n is None)
        owner = [{'where': 'column', 'column': 'owner', 'op': 'eq',
                  'values': ['p-nn']}]
        for direction, named in (('asc', ['nn-a', 'nn-b', 'nn-c']),
                                 ('desc', ['nn-c', 'nn-b', 'nn-a'])):
            found = images.image_list(
                admin, owner, [{'where': 'column', 'column': 'name',
                                'dir': direction}], limit=100)
            self.assertEqual(
                named + [None, None], [r['name'] for r in found], direction)
            self.assertEqual(
                sorted(unnamed, reverse=direction == 'desc'),
                [r['id'] for r in found[3:]], direction)
            # Two at a time, after each page's last image.
            paged, marker = [], None
            while True:
                page = images.image_list(
                    admin, owner, [{'where': 'column', 'column': 'name',
                                    'dir': direction}], limit=2,
                    marker=marker)
                if not page:
                    break
                paged += page
                marker = page[-1]['id']
            self.assertEqual([r['id'] for r in found],
                             [r['id'] for r in paged], direction)


class TestImageVersionIndex(ImagesTest):
    """``version=latest`` and ``sort=version`` over images walk our own
    index of image versions (glance.db.artifacts.image_versions), which
    follows Glance's tables: every change made through /v2/images shows
    in the next list; a change committed late (within LAG of its
    updated_at) is still read; while the index is behind, lists are
    computed from Glance's tables and say the same. In registry mode
    the index is in Glance's database too (glance-artifacts-manage db
    sync with glance-api's configuration makes it there, and only it)."""

    def setUp(self):
        super(TestImageVersionIndex, self).setUp()
        from glance.db.artifacts import image_versions
        self.index = image_versions

    def latest(self, who=OWNER, query='&sort=name:asc'):
        body = self.get(IMAGES + '?version=latest&limit=100' + query, who)
        return [(a['name'], a['version']) for a in body['artifacts']]

    def entries(self, ids):
        """{image id: (name, version key)} of the index, after a refresh
        that read everything."""
        self.assertTrue(self.index.refresh(images.get_engine()))
        G = self.index.G
        with images.get_engine().connect() as conn:
            return {r.image_id: (r.name, r.version_key) for r in conn.execute(
                G.select().where(G.c.image_id.in_(list(ids))))}

    def patch(self, image, changes):
        resp = self.request(
            'PATCH', '/v2/images/%s' % image['id'], body=changes,
            identity=OWNER,
            content_type='application/openstack-images-v2.1-json-patch')
        self.assertEqual(200, resp.status_int, resp.text)

    def test_renames_new_versions_and_deletions_show_in_the_next_list(self):
        a1 = self.image(name='ix-app', artifact_version='1.0.0')
        a2 = self.image(name='ix-app', artifact_version='2.0.0')
        b1 = self.image(name='ix-base', artifact_version='1.0.0')
        self.assertEqual([('ix-app', '2.0.0'), ('ix-base', '1.0.0')],
                         self.latest())
        self.patch(a2, [{'op': 'replace', 'path': '/name',
                         'value': 'ix-base'}])
        self.assertEqual([('ix-app', '1.0.0'), ('ix-base', '2.0.0')],
                         self.latest())
        self.patch(a1, [{'op': 'replace', 'path': '/artifact_version',
                         'value': '3.0.0-rc.1'}])
        self.assertEqual([('ix-app', '3.0.0-rc.1'), ('ix-base', '2.0.0')],
                         self.latest())
        self.assertEqual(
            ['3.0.0-rc.1', '2.0.0', '1.0.0'],
            [a['version'] for a in self.get(
                IMAGES + '?sort=version:desc&name=in:ix-app,ix-base')[
                    'artifacts']])
        self.assertEqual(204, self.request(
            'DELETE', '/v2/images/%s' % a2['id'], identity=OWNER).status_int)
        self.assertEqual([('ix-app', '3.0.0-rc.1'), ('ix-base', '1.0.0')],
                         self.latest())
        self.assertEqual(
            {a1['id']: ('ix-app', images._python_key('3.0.0-rc.1')),
             # Glance deleted its properties with it.
             a2['id']: ('ix-base', images._python_key('0.0.0')),
             b1['id']: ('ix-base', images._python_key('1.0.0'))},
            self.entries([a1['id'], a2['id'], b1['id']]))

    def test_a_change_committed_late_within_the_margin_is_read(self):
        # A transaction that took updated_at half a minute before it
        # committed (or a host whose clock is behind): the next refresh
        # reads it although an earlier one passed that time.
        image = self.image(name='ix-late', artifact_version='1.0.0')
        self.entries([image['id']])
        from glance.db.sqlalchemy import models as glance_models
        table = glance_models.Image.__table__
        earlier = (datetime.datetime.utcnow() -
                   datetime.timedelta(seconds=30)).replace(microsecond=0)
        with images.get_engine().begin() as conn:
            conn.execute(table.update().where(table.c.id == image['id'])
                         .values(name='ix-later', updated_at=earlier))
        self.assertEqual([('ix-later', '1.0.0')],
                         self.latest(query='&name=ix-later'))
        self.assertEqual(
            {image['id']: ('ix-later', images._python_key('1.0.0'))},
            self.entries([image['id']]))

    def test_while_the_index_is_behind_lists_are_computed_alike(self):
        # Names that MariaDB's collation of Glance's names would take for
        # one are different names on every database, in either path; an
        # image without a name shares it with none.
        for name, version in (
                ('ix-Web', '1.0.0'), ('ix-web', '2.0.0'),
                ('ix-web ', '0.5.0'), ('ix-web', '1.5.0'), (None, '1.0.0'),
                (None, '4.0.0')):
            self.image(name=name, artifact_version=version)
        expected_latest = sorted([('ix-Web', '1.0.0'), ('ix-web', '2.0.0'),
                                  ('ix-web ', '0.5.0'), (None, '1.0.0'),
                                  (None, '4.0.0')], key=repr)
        expected_order = ['4.0.0', '2.0.0', '1.5.0', '1.0.0', '1.0.0',
                          '0.5.0']
        query = '&owner=img-owner&sort=name:asc,version:asc'

        def lists():
            # (The order of names is the database's: MariaDB's collation
            # of Glance's names sorts these three as one.)
            order = self.get(IMAGES + '?owner=img-owner&sort=version:desc')
            return (sorted(self.latest(query=query), key=repr),
                    [a['version'] for a in order['artifacts']])

        # More changes within the margin than a refresh reads: the index
        # cannot be brought up to date, and lists are computed.
        self.useFixture(fixtures.MonkeyPatch(
            'glance.db.artifacts.image_versions.BATCH', 2))
        self.assertFalse(self.index.refresh(images.get_engine()))
        self.assertEqual((expected_latest, expected_order), lists())
        self.assertFalse(self.index.refresh(images.get_engine()))
        # A first pass over images that changed long ago (as after an
        # upgrade that brings the index; here every image of this
        # database, its earlier tests' too) reads a batch at a time until
        # the index is up to date.
        from glance.db.sqlalchemy import models as glance_models
        table = glance_models.Image.__table__
        with images.get_engine().begin() as conn:
            conn.execute(table.update().values(
                updated_at=datetime.datetime.utcnow() -
                self.index.LAG * 2))
            conn.execute(self.index.G.delete())
            conn.execute(self.index.S.delete())
        refreshes = 1
        while not self.index.refresh(images.get_engine()):
            refreshes += 1
            self.assertLess(refreshes, 1000, 'the index never caught up')
        self.assertGreater(refreshes, 1)
        self.assertEqual((expected_latest, expected_order), lists())

    def test_latest_is_the_highest_version_the_caller_lists(self):
        self.image(ADMIN, name='ix-shared', artifact_version='1.0.0',
                   visibility='public')
        self.image(name='ix-shared', artifact_version='2.0.0',
                   visibility='private')
        self.assertEqual([('ix-shared', '2.0.0')],
                         self.latest(query='&name=ix-shared'))
        self.assertEqual([('ix-shared', '1.0.0')],
                         self.latest(OTHER, query='&name=ix-shared'))
        self.assertEqual([('ix-shared', '1.0.0')], self.latest(
            query='&name=ix-shared&visibility=public'))
