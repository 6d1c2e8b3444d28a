"""The blob service's helpers that need no store."""

import testtools

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


class TestGlanceReservedStores(testtools.TestCase):

    def test_are_not_backends_of_artifacts(self):
        # glance_store adds them to enabled_backends once a store is used.
        self.addCleanup(store.CONF.clear_override, 'enabled_backends')
        store.CONF.set_override('enabled_backends', {
            'fs': 'file', 'os_glance_staging_store': 'file',
            'objects': 's3', 'os_glance_tasks_store': 'file'})
        self.assertEqual(['fs', 'objects'], store.backends())
