"""The blob service's helpers that need no store service, and its
location check over glance_store's filesystem driver on temporary
directories and over stand-ins of other stores."""

import io
import os
import uuid

import fixtures
from glance_store._drivers import filesystem
from glance_store import location as store_location
from oslo_config import cfg
import testtools

from glance.artifacts import exception
from glance.artifacts import store


class Closable(object):
    def __init__(self, chunks):
        self.chunks, self.closed = chunks, False

    def __iter__(self):
        return iter(self.chunks)

    def close(self):
        self.closed = True


class TestSkip(testtools.TestCase):
    """Ranges of stores that cannot read from an offset (swift, rbd)."""

    def test_skips_whole_and_partial_chunks_then_gives_the_rest(self):
        data = Closable([b'abc', b'defg', b'', b'hij'])
        self.assertEqual([b'fg', b'hij'],      # empty chunks dropped
                         list(store._skip(data, 5)))
        self.assertTrue(data.closed)

    def test_offset_zero_and_offset_at_a_chunk_end(self):
        self.assertEqual([b'abc', b'de'],
                         list(store._skip(Closable([b'abc', b'de']), 0)))
        self.assertEqual([b'de'],
                         list(store._skip(Closable([b'abc', b'de']), 3)))

    def test_closes_the_data_when_the_reader_stops_early(self):
        data = Closable([b'abc', b'def'])
        chunks = store._skip(data, 1)
        self.assertEqual(b'bc', next(chunks))
        chunks.close()
        self.assertTrue(data.closed)


class TestNames(testtools.TestCase):

    def test_data_is_named_after_its_upload_and_found_from_locations(self):
        name = store.data_id('0d6f6d1e-1b7e-4c0a-9a51-58f1e5b7a3c1')
        self.assertEqual('artifact-0d6f6d1e-1b7e-4c0a-9a51-58f1e5b7a3c1',
                         name)
        for location in ('file:///var/lib/glance/images/' + name,
                         's3://key:secret@s3.example.com/bucket/' + name,
                         'swift+https://example.com/v1/glance/' + name):
            self.assertEqual(name, store.data_name(location))


CANARY = b'canary: not artifact data\n'


def _name():
    return store.data_id(str(uuid.uuid4()))


class FileStoreTest(testtools.TestCase):
    """The store layer over real glance_store filesystem drivers on
    temporary directories, as backends of artifacts: no glance-api."""

    def setUp(self):
        super(FileStoreTest, self).setUp()
        self.root = os.path.realpath(self.useFixture(fixtures.TempDir()).path)
        self.stores = {}
        self.useFixture(fixtures.MockPatchObject(
            store, 'backends', lambda: sorted(self.stores)))
        self.useFixture(fixtures.MockPatchObject(
            store, '_store', lambda backend: self.stores[backend]))
        # These drivers are not in glance_store's registry of schemes.
        self.useFixture(fixtures.MockPatchObject(
            store, '_location', lambda uri, backend: store_location.Location(
                'file', filesystem.StoreLocation, self.stores[backend].conf,
                uri=uri)))
        self.log = self.useFixture(fixtures.FakeLogger(
            name='glance.artifacts.store'))
        self.canary = self.write(self.root, 'canary', CANARY)

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def write(self, directory, name, data=b'data'):
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, name)
        with open(path, 'wb') as f:
            f.write(data)
        return path

    def filesystem(self, backend='fs', datadir=None, datadirs=None):
        """A backend on glance_store's filesystem driver: one data
        directory as configured, or several ('path:priority')."""
        conf = cfg.ConfigOpts()
        driver = filesystem.Store(conf)
        conf.set_override('filesystem_store_datadir', datadir,
                          group='glance_store')
        conf.set_override('filesystem_store_datadirs', datadirs,
                          group='glance_store')
        driver.configure(re_raise_bsc=True)
        self.stores[backend] = driver
        return driver

    def assertRefused(self, backend, location, reason):
        e = self.assertRaises(exception.LocationRefused,
                              store.check_location, backend, location)
        self.assertEqual(reason, e.reason)
        self.assertIsInstance(e, exception.Forbidden)

    def assertCanary(self):
        with open(self.canary, 'rb') as f:
            self.assertEqual(CANARY, f.read())


class TestLocationsTheStoreWrites(FileStoreTest):
    """What add() writes passes the check, and is read and deleted."""

    def add_and_read_back(self, backend):
        upload_id = str(uuid.uuid4())
        location, size, _md5, _hash = store.add(
            backend, upload_id, io.BytesIO(b'artifact data'), 13)
        name = store.data_id(upload_id)
        self.assertEqual((name, 13),
                         (store.check_location(backend, location), size))
        data, _size = store.get(backend, location)
        self.assertEqual(b'artifact data', b''.join(data))
        with store.open_file(backend, location, 13) as f:
            self.assertEqual(b'artifact data', f.read())
        self.assertIsNone(store.open_file(backend, location, 12))
        self.assertEqual(b'data', b''.join(store.get(backend, location,
                                                     9, 4)[0]))
        self.assertTrue(store.delete(backend, location))
        self.assertFalse(os.path.lexists(location[len('file://'):]))
        return location, name

    def test_one_data_directory(self):
        self.filesystem(datadir=self.path('store'))
        location, name = self.add_and_read_back('fs')
        self.assertEqual('file://' + self.path('store', name), location)

    def test_a_data_directory_with_a_trailing_slash(self):
        self.filesystem(datadir=self.path('store') + '/')
        self.add_and_read_back('fs')

    def test_a_relative_data_directory(self):
        cwd = os.getcwd()
        self.addCleanup(os.chdir, cwd)
        os.chdir(self.root)
        for datadir in ('store', 'store/', './store', 'x/../store'):
            os.makedirs(self.path('x'), exist_ok=True)
            self.filesystem(datadir=datadir)
            location, name = self.add_and_read_back('fs')
            self.assertEqual('file://%s/%s' % (datadir.rstrip('/'), name),
                             location)

    def test_several_data_directories_with_priorities(self):
        dirs = [self.path('first') + '/', self.path('second'),
                self.path('third')]
        self.filesystem(datadirs=['%s:200' % dirs[0], '%s:100' % dirs[1],
                                  dirs[2]])
        location, name = self.add_and_read_back('fs')
        self.assertEqual('file://' + self.path('first', name), location)
        # Data written while another directory had more room or priority.
        for directory in dirs[1:]:
            name = _name()
            self.write(directory, name)
            self.assertEqual(name, store.check_location(
                'fs', 'file://' + os.path.join(directory, name)))
            self.assertTrue(store.delete(
                'fs', 'file://' + os.path.join(directory, name)))
            self.assertEqual([], os.listdir(directory))

    def test_another_spelling_of_a_data_directory_passes(self):
        os.makedirs(self.path('x'))
        self.filesystem(datadir=self.path('x', '..', 'store'))
        os.symlink(self.path('store'), self.path('link'))
        name = _name()
        self.write(self.path('store'), name)
        for directory in (self.path('store'), self.path('link')):
            self.assertEqual(name, store.check_location(
                'fs', 'file://%s/%s' % (directory, name)))


class TestFileLocationsRefused(FileStoreTest):

    def setUp(self):
        super(TestFileLocationsRefused, self).setUp()
        self.filesystem('fs', datadir=self.path('store'))
        self.filesystem('fs2', datadir=self.path('fs2'))
        self.name = _name()
        self.data = self.write(self.path('store'), self.name)

    def test_files_outside_the_data_directories(self):
        outside = self.write(self.root, self.name, CANARY)
        other = self.write(self.path('other'), self.name)
        sub = self.write(self.path('store', 'sub'), self.name)
        for path in (outside, other, sub, self.path('fs2', self.name)):
            self.assertRefused('fs', 'file://' + path,
                               "its file is not directly in a data "
                               "directory of backend 'fs'")
        self.assertRefused('fs', 'file://' + self.canary,
                           'its data is not named artifact-<uuid>')

    def test_dot_dot_dot_and_empty_segments(self):
        store_dir = self.path('store')
        self.write(self.root, self.name, CANARY)
        for location in ('file://%s/../%s', 'file://%s/./%s',
                         'file://%s//%s', 'file://%s/../store/%s'):
            self.assertRefused('fs', location % (store_dir, self.name),
                               "its file is not directly in a data "
                               "directory of backend 'fs'")

    def test_a_directory_link_that_leads_out_of_the_data_directory(self):
        self.write(self.path('outside'), self.name, CANARY)
        os.symlink(self.path('outside'), self.path('store', 'sub'))
        self.assertRefused('fs', 'file://%s/%s' % (self.path('store', 'sub'),
                                                   self.name),
                           "its file is not directly in a data directory "
                           "of backend 'fs'")

    def test_links_directories_and_pipes_named_as_artifact_data(self):
        link, directory, pipe = _name(), _name(), _name()
        os.symlink(self.canary, self.path('store', link))
        os.mkdir(self.path('store', directory))
        os.mkfifo(self.path('store', pipe))
        self.assertRefused('fs', 'file://' + self.path('store', link),
                           'its file is a symbolic link')
        for name in (directory, pipe):
            self.assertRefused('fs', 'file://' + self.path('store', name),
                               'its file is not a regular file')

    def test_names_other_than_artifact_uuid(self):
        upper = 'artifact-' + str(uuid.uuid4()).upper()
        for name in (upper, 'artifact-x', 'artifact-' + uuid.uuid4().hex,
                     str(uuid.uuid4()), self.name + '.bak',
                     'artifact-%s/' % uuid.uuid4(), ''):
            self.assertRefused('fs', 'file://%s/%s' % (self.path('store'),
                                                       name),
                               'its data is not named artifact-<uuid>')

    def test_queries_fragments_and_control_characters(self):
        location = 'file://' + self.data
        for suffix in ('?x=1', '#f', '?'):
            self.assertRefused('fs', location + suffix,
                               'it has a query string or a fragment')
        for bad in (location + '\n', location.replace('/store/',
                                                      '/sto\tre/'),
                    location + '\x00', '\x01' + location):
            self.assertRefused('fs', bad, 'it contains control characters')

    def test_other_schemes_and_hosts(self):
        self.assertRefused('fs', 'filesystem://' + self.data,
                           "the locations of backend 'fs' are file:// "
                           "locations")
        for location in ('s3://host/bucket/' + self.name,
                         'FILE://' + self.data, self.data,
                         'file:' + self.data):
            self.assertRefused('fs', location, "its scheme is not one of "
                               "those of backend 'fs' (file, filesystem)")
        self.assertRefused('fs', 'file://localhost' + self.data,
                           "its file is not directly in a data directory "
                           "of backend 'fs'")

    def test_data_of_another_backend_under_the_wrong_name(self):
        name = _name()
        other = self.write(self.path('fs2'), name)
        self.assertEqual(name, store.check_location('fs2', 'file://' + other))
        self.assertRefused('fs', 'file://' + other,
                           "its file is not directly in a data directory "
                           "of backend 'fs'")

    def test_unknown_missing_and_reserved_backends(self):
        location = 'file://' + self.data
        for backend in ('nowhere', 'os_glance_staging_store', 'FS'):
            self.assertRefused(backend, location, "its backend '%s' is not "
                               "a backend of artifacts" % backend)
        for backend in (None, ''):
            self.assertRefused(backend, location,
                               'no backend is recorded for it')
        self.assertRefused('fs', None, 'no location is recorded')

    def test_the_message_says_what_was_wrong_without_the_location(self):
        e = self.assertRaises(exception.LocationRefused, store.get, 'fs',
                              'file://' + self.canary)
        self.assertEqual('The recorded location of the blob data is '
                         'refused: its data is not named artifact-<uuid>. '
                         'The glance-api log names it for the operator.',
                         str(e))


class TestEntryPointsCheck(FileStoreTest):
    """get, open_file, delete, delete_partial and the listing refuse what
    the check refuses; nothing outside the artifact data is read or deleted."""

    def setUp(self):
        super(TestEntryPointsCheck, self).setUp()
        self.filesystem('fs', datadir=self.path('store'))

    def test_get_refuses_and_logs_backend_and_location(self):
        self.assertRaises(exception.LocationRefused, store.get, 'fs',
                          'file://' + self.canary, 2, 3)
        self.assertIn("Refused blob data location 'file://%s' of backend "
                      "'fs': its data is not named artifact-<uuid>"
                      % self.canary, self.log.output)

    def test_open_file_refuses_and_logs_backend_and_location(self):
        self.assertRaises(exception.LocationRefused, store.open_file, 'fs',
                          'file://' + self.canary, len(CANARY))
        self.assertIn("Refused blob data location 'file://%s' of backend "
                      "'fs'" % self.canary, self.log.output)

    def test_delete_returns_false_logs_and_deletes_nothing(self):
        link = self.path('store', _name())
        os.symlink(self.canary, link)
        for location in ('file://' + self.canary, 'file://' + link,
                         'file://%s/../canary' % self.path('store')):
            self.assertFalse(store.delete('fs', location))
            self.assertIn("Refused blob data location '%s' of backend 'fs'"
                          % location, self.log.output)
        self.assertFalse(store.delete('nowhere', 'file://' + self.canary))
        self.assertIn("Refused blob data location 'file://%s' of backend "
                      "'nowhere': its backend 'nowhere' is not a backend "
                      "of artifacts" % self.canary, self.log.output)
        self.assertCanary()
        self.assertTrue(os.path.islink(link))

    def test_logged_locations_are_cut_and_leave_credentials_out(self):
        self.assertEqual(repr('s3://***@host/bucket/key'),
                         store.shown('s3://user:secret@host/bucket/key'))
        shown = store.shown('file:///' + 'x' * 1000 + '\n')
        self.assertEqual(repr('file:///' + 'x' * 192 + '...'), shown)
        self.assertEqual(repr('a\nb'), store.shown('a\nb'))

    def test_upload_ids_must_be_lowercase_uuids(self):
        upload_id = str(uuid.uuid4())
        self.assertEqual('artifact-' + upload_id, store.data_id(upload_id))
        for bad in (upload_id.upper(), uuid.uuid4().hex, upload_id + '\n',
                    '../' + upload_id, 'x/../../canary', '', None,
                    upload_id + '/x'):
            e = self.assertRaises(exception.LocationRefused, store.data_id,
                                  bad)
            self.assertEqual('its upload id is not a lowercase UUID',
                             e.reason)

    def test_delete_partial_with_a_forged_upload_id_deletes_nothing(self):
        # store/artifact-x/../../canary is the canary once artifact-x is a
        # directory of the store.
        os.mkdir(self.path('store', 'artifact-x'))
        self.assertTrue(os.path.exists(
            self.path('store', 'artifact-x/../../canary')))
        store.delete_partial('fs', 'x/../../canary')
        self.assertCanary()
        self.assertIn("Refused to look for partial data of upload "
                      "'x/../../canary' in backend 'fs': its upload id is "
                      "not a lowercase UUID", self.log.output)

    def test_delete_partial_leaves_links_alone(self):
        upload_id = str(uuid.uuid4())
        link = self.path('store', store.data_id(upload_id))
        os.symlink(self.canary, link)
        store.delete_partial('fs', upload_id)
        self.assertTrue(os.path.islink(link))
        self.assertCanary()
        self.assertIn('its file is a symbolic link', self.log.output)

    def test_delete_partial_deletes_the_partial_data_of_an_upload(self):
        upload_id = str(uuid.uuid4())
        self.write(self.path('store'), store.data_id(upload_id))
        store.delete_partial('fs', upload_id)
        self.assertEqual([], os.listdir(self.path('store')))

    def test_delete_partial_in_an_unknown_backend_looks_nowhere(self):
        store.delete_partial('nowhere', str(uuid.uuid4()))
        self.assertIn("its backend 'nowhere' is not a backend of artifacts",
                      self.log.output)

    def test_listing_has_only_regular_files_named_artifact_uuid(self):
        ours = _name()
        self.write(self.path('store'), ours)
        os.symlink(self.canary, self.path('store', _name()))
        os.mkdir(self.path('store', _name()))
        os.mkfifo(self.path('store', _name()))
        for name in ('artifact-x', 'artifact-' + str(uuid.uuid4()).upper(),
                     str(uuid.uuid4()), _name() + '.tmp'):
            self.write(self.path('store'), name)
        items = list(store.list_data('fs'))
        self.assertEqual([ours], [item.name for item in items])
        items[0].delete()
        self.assertEqual(7, len(os.listdir(self.path('store'))))
        self.assertCanary()


class TestGlanceReservedStores(testtools.TestCase):

    def test_are_not_backends_of_artifacts(self):
        # glance_store adds them to enabled_backends once a store is used.
        self.addCleanup(store.CONF.clear_override, 'enabled_backends')
        store.CONF.set_override('enabled_backends', {
            'fs': 'file', 'os_glance_staging_store': 'file',
            'objects': 's3', 'os_glance_tasks_store': 'file'})
        self.assertEqual(['fs', 'objects'], store.backends())


class FakeStore(object):
    """What the check asks of a store that is neither file nor S3."""

    def __init__(self, *schemes):
        self.schemes = schemes

    def get_schemes(self):
        return self.schemes


class FakeS3(FakeStore):

    def __init__(self, host='http://127.0.0.1:9000', bucket='artifacts'):
        super(FakeS3, self).__init__('s3', 's3+http', 's3+https')
        self.scheme = 's3+https' if host.startswith('https://') else 's3'
        self.full_s3_host = host
        self.bucket = bucket
        self.backend_group = 'objects'


class StubbedStoreTest(testtools.TestCase):

    def use(self, **stores):
        self.useFixture(fixtures.MockPatchObject(
            store, 'backends', lambda: sorted(stores)))
        self.useFixture(fixtures.MockPatchObject(
            store, '_store', lambda backend: stores[backend]))

    def assertRefused(self, backend, location, reason):
        e = self.assertRaises(exception.LocationRefused,
                              store.check_location, backend, location)
        self.assertEqual(reason, e.reason)


class TestS3Locations(StubbedStoreTest):

    def test_what_add_writes_passes(self):
        for host in ('http://127.0.0.1:9000', 'https://s3.example.org/',
                     's3.example.org', 'https://example.org/s3'):
            s3 = FakeS3(host)
            self.use(objects=s3)
            name = _name()
            location = store._s3_uri(s3, name)
            self.assertEqual(name, store.check_location('objects',
                                                        location))
            host_part = location.split('://', 1)[1]
            for scheme in ('s3', 's3+http', 's3+https'):
                self.assertEqual(name, store.check_location(
                    'objects', '%s://%s' % (scheme, host_part)))

    def test_other_buckets_hosts_and_forms_are_refused(self):
        self.use(objects=FakeS3())
        name = _name()
        host = '127.0.0.1:9000'
        for location, reason in [
                ('s3://%s/other/%s', "it is not in the bucket of backend "
                                     "'objects'"),
                ('s3://%s/artifacts/dir/%s', "it is not in the bucket of "
                                             "backend 'objects'"),
                ('s3://%s/%s', "it is not in the bucket of backend "
                               "'objects'"),
                ('s3://%s//artifacts/%s', "it is not on the S3 host of "
                                          "backend 'objects'"),
                ('s3://%s/artifacts//%s', "it is not in the bucket of "
                                          "backend 'objects'"),
                ('s3://u:p@%s/artifacts/%s', "it is not on the S3 host of "
                                             "backend 'objects'"),
                ('s3://%s/x/artifacts/%s', "it is not on the S3 host of "
                                           "backend 'objects'"),
                ('s3://%s/artifacts/%s/..', 'its data is not named '
                                            'artifact-<uuid>'),
                ('s3://%s/artifacts/%s?versionId=1', 'it has a query '
                                                     'string or a '
                                                     'fragment'),
                ('file://%s/artifacts/%s', "its scheme is not one of those "
                                           "of backend 'objects' (s3, "
                                           "s3+http, s3+https)")]:
            self.assertRefused('objects', location % (host, name), reason)
        self.assertRefused('objects', 's3://evil.example.org/artifacts/'
                           + name, "it is not on the S3 host of backend "
                           "'objects'")


class TestLocationsOfOtherStores(StubbedStoreTest):
    """Swift, RBD and the rest: scheme and name only."""

    def test_swift_and_rbd_locations_of_artifact_data_pass(self):
        self.use(swift=FakeStore('swift+config', 'swift', 'swift+https'),
                 rbd=FakeStore('rbd'))
        name = _name()
        self.assertEqual(name, store.check_location(
            'swift', 'swift+config://ref1/glance/' + name))
        self.assertEqual(name, store.check_location(
            'swift', 'swift+https://user:key@keystone/v3/glance/' + name))
        self.assertEqual(name, store.check_location(
            'rbd', 'rbd://fsid/images/%s/snap' % name))

    def test_other_names_schemes_and_segments_are_refused(self):
        self.use(swift=FakeStore('swift+config', 'swift'),
                 rbd=FakeStore('rbd'), web=FakeStore('http', 'https'),
                 cinder=FakeStore('cinder'))
        name = _name()
        for backend, location, reason in [
                ('swift', 'swift+config://ref1/glance/' + str(uuid.uuid4()),
                 'its data is not named artifact-<uuid>'),
                ('swift', 'swift+config://ref1/glance/%s/x' % name,
                 'its data is not named artifact-<uuid>'),
                ('swift', 'swift+config://ref1/glance/../' + name,
                 "it has empty, '.' or '..' segments"),
                ('swift', 'swift+config://ref1//' + name,
                 "it has empty, '.' or '..' segments"),
                ('swift', 'file:///var/lib/glance/' + name,
                 "its scheme is not one of those of backend 'swift' "
                 "(swift+config, swift)"),
                ('rbd', 'rbd://fsid/images/%s/other' % name,
                 'its data is not named artifact-<uuid>'),
                ('rbd', 'rbd://fsid/images/image-id/snap',
                 'its data is not named artifact-<uuid>'),
                ('web', 'http://169.254.169.254/' + name,
                 "the store of backend 'web' is read-only"),
                ('cinder', 'cinder://cinder/' + str(uuid.uuid4()),
                 'its data is not named artifact-<uuid>')]:
            self.assertRefused(backend, location, reason)
