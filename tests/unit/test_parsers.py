"""Properties of the parsers of client input, over generated input
(hypothesis): each answers with its result or its own error for people,
never another exception, and agrees with a model written down here.
"""

import json

from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import testtools
import webob.multidict

from glance.api.v2.artifacts import ranges
from glance.artifacts import blobs
from glance.artifacts import catalog
from glance.artifacts import exception
from glance.artifacts import fields as f
from glance.artifacts import loader
from glance.artifacts import queries
from glance.artifacts import semver
from glance.artifacts.types import base
from glance.db.artifacts.registry import rpc
from tests import base as base_tests

PROPERTY = settings(max_examples=300, deadline=None, database=None)
TYPES = loader.load_types(base_tests.ALL_TYPES.split(','))
SAMPLE = TYPES['sample_artifacts']

# Text as clients send it: anything, and often the characters the
# parsers care about.
SPECIAL = st.sampled_from(['', '-', ',', ':', '"', '=', '/', '~', '.',
                           'bytes', 'in:', 'gt:', 'eq:', '\x00', '\n', ' ',
                           '\ud800', '0', '1', '99999999999999999999',
                           'latest', 'true', '1.0.0', 'desc', 'asc'])
TEXT = st.one_of(st.text(max_size=40),
                 st.lists(SPECIAL, max_size=6).map(''.join))
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() |
    st.floats(allow_nan=False) | TEXT,
    lambda children: st.lists(children, max_size=4) |
    st.dictionaries(st.one_of(TEXT, st.just('$datetime')), children,
                    max_size=4),
    max_leaves=12)


class TestRanges(testtools.TestCase):

    @PROPERTY
    @given(header=st.one_of(TEXT, st.builds(
        '{}={}'.format, st.sampled_from(['bytes', 'Bytes', 'items']),
        TEXT)), size=st.integers(0, 2 ** 40))
    def test_any_header_is_ignored_served_or_416(self, header, size):
        try:
            part = ranges.byte_range(header, size)
        except ranges.Unsatisfiable:
            return
        if part is not None:
            start, end = part
            self.assertTrue(0 <= start < end <= size, (header, size, part))

    @PROPERTY
    @given(first=st.one_of(st.none(), st.integers(0, 2 ** 70)),
           last=st.one_of(st.none(), st.integers(0, 2 ** 70)),
           size=st.integers(0, 10 ** 6))
    # Both beyond any size, the last before the first: still invalid.
    @example(first=10 ** 19 + 1, last=10 ** 19, size=0)
    def test_one_range_is_what_rfc_9110_says(self, first, last, size):
        header = 'bytes=%s-%s' % ('' if first is None else first,
                                  '' if last is None else last)
        if first is None and last is None:
            expected = None                     # 'bytes=-' is invalid
        elif first is None:                     # a suffix
            expected = ('416' if last == 0 or size == 0 else
                        (max(size - last, 0), size))
        elif last is not None and last < first:
            expected = None                     # invalid: ignored
        elif first >= size:
            expected = '416'
        else:
            expected = (first, size if last is None else min(last + 1,
                                                             size))
        try:
            got = ranges.byte_range(header, size)
        except ranges.Unsatisfiable:
            got = '416'
        self.assertEqual(expected, got, (header, size))

    def test_no_header_is_the_whole_data(self):
        self.assertIsNone(ranges.byte_range(None, 10))


def _precedence(a, b):
    """SemVer 2.0 section 11, written out: -1, 0 or 1."""
    def parts(v):
        core, _plus, _build = v.partition('+')
        release, _dash, pre = core.partition('-')
        return ([int(x) for x in release.split('.')],
                pre.split('.') if pre else [])
    (ra, pa), (rb, pb) = parts(a), parts(b)
    if ra != rb:
        return -1 if ra < rb else 1
    if not pa or not pb:
        return (not pa) - (not pb)
    for x, y in zip(pa, pb):
        if x == y:
            continue
        if x.isdigit() and y.isdigit():
            return -1 if int(x) < int(y) else 1
        if x.isdigit() != y.isdigit():
            return -1 if x.isdigit() else 1
        return -1 if x < y else 1
    return (len(pa) > len(pb)) - (len(pa) < len(pb))


NUMBER = st.integers(0, 10 ** 35 - 1).map(str)
IDENTIFIER = st.one_of(NUMBER, st.from_regex(r'[0-9]*[A-Za-z-][0-9A-Za-z-]*',
                                             fullmatch=True).filter(
    lambda s: len(s) < 12))
VERSION = st.builds(
    lambda core, pre, build: '.'.join(core) + (
        '-' + '.'.join(pre) if pre else '') + (
        '+' + '.'.join(build) if build else ''),
    st.lists(NUMBER, min_size=3, max_size=3),
    st.lists(IDENTIFIER, max_size=3),
    st.lists(st.from_regex(r'[0-9A-Za-z-]+', fullmatch=True).filter(
        lambda s: len(s) < 8), max_size=2)).filter(
    lambda v: len(v) <= semver.MAX_LENGTH)


class TestSemVer(testtools.TestCase):

    @PROPERTY
    @given(a=VERSION, b=VERSION)
    def test_key_order_is_semver_precedence(self, a, b):
        ka, kb = semver.sort_key(a), semver.sort_key(b)
        self.assertEqual(_precedence(a, b), (ka > kb) - (ka < kb), (a, b))
        self.assertRegex(ka, '^[0-9a-z]+$')
        self.assertLessEqual(len(ka), semver.key_length(len(a)))

    @PROPERTY
    @given(text=st.one_of(TEXT, VERSION.map(lambda v: v + '\n'),
                          VERSION.map(lambda v: ' ' + v)))
    def test_anything_else_is_refused_with_a_message(self, text):
        try:
            semver.sort_key(text)
        except semver.InvalidVersion as e:
            self.assertTrue(str(e))
        else:
            self.assertTrue(semver._SEMVER.fullmatch(text), repr(text))
            self.assertNotIn('\n', text)


def _params(pairs):
    return webob.multidict.MultiDict(pairs)


KEYS = st.one_of(TEXT, st.sampled_from(
    sorted(SAMPLE.all_fields()) + list(queries.PAGING) +
    ['metadata.k', 'dict_str.a', 'dict_int.b', 'tags', 'int1.x']))


class TestListQueries(testtools.TestCase):

    @PROPERTY
    @given(pairs=st.lists(st.tuples(KEYS, TEXT), max_size=6),
           type_name=st.sampled_from(['sample_artifacts', 'all']))
    def test_any_query_parses_or_is_invalid(self, pairs, type_name):
        type_cls = base.AnyType if type_name == 'all' else SAMPLE
        try:
            query = queries.parse(type_cls, _params(pairs), TYPES)
        except exception.Invalid as e:
            self.assertTrue(str(e))
            return
        # What reaches the data API can be stored and sent as JSON.
        json.dumps(query).encode('utf-8')
        self.assertNotIn('\\u0000', json.dumps(query))
        self.assertGreaterEqual(query['limit'], 0)
        self.assertTrue(query['sorts'])


WRITABLE = sorted(n for n, fd in SAMPLE.all_fields().items()
                  if not fd.readonly)
POINTERS = st.one_of(TEXT, st.builds(
    lambda name, rest: '/' + name + rest, st.sampled_from(WRITABLE),
    st.one_of(st.just(''), st.builds('/{}'.format, TEXT),
              st.sampled_from(['/-', '/0', '/00', '/~', '/~2', '/a/b']))))
OPERATIONS = st.one_of(JSON, st.fixed_dictionaries(
    {'op': st.sampled_from(['add', 'replace', 'remove', 'move', 'test']),
     'path': POINTERS}, optional={'value': JSON}))


def _document():
    doc = {name: field.initial() for name, field in
           SAMPLE.all_fields().items()}
    doc.update(name='n', version='1.0.0', tags=['a'],
               metadata={'k': 'v'}, list_int=[1, 2])
    return doc


class TestJSONPatch(testtools.TestCase):

    @PROPERTY
    @given(operations=st.lists(OPERATIONS, max_size=4))
    def test_any_patch_applies_or_is_a_4xx_error(self, operations):
        doc = _document()
        try:
            for number, op in enumerate(operations, 1):
                name = catalog._apply(SAMPLE, doc, op, number)
                field = SAMPLE.all_fields()[name]
                value = doc.get(name)
                if value is None and not field.scalar:
                    value = field.empty()
                catalog._validated(field, name, value)
        except (exception.Invalid, exception.Conflict,
                exception.Forbidden) as e:
            self.assertTrue(str(e))


def _key_allowed(key):
    return (1 <= len(key) <= 255 and
            all(c.isascii() and (c.isalnum() or c in '._-') for c in key)
            and key[0] not in '.-')


class TestBlobKeys(testtools.TestCase):

    @PROPERTY
    @given(key=st.one_of(TEXT, st.from_regex(r'[A-Za-z0-9._-]{1,300}',
                                             fullmatch=True)))
    def test_keys_are_accepted_exactly_as_documented(self, key):
        try:
            blobs._blob_field(SAMPLE, 'blob_dict', key)
            accepted = True
        except exception.Invalid as e:
            self.assertIn('Invalid key', str(e))
            accepted = False
        self.assertEqual(_key_allowed(key), accepted, repr(key))


class TestFieldValues(testtools.TestCase):

    @PROPERTY
    @given(name=st.sampled_from(sorted(SAMPLE.all_fields())), value=JSON)
    def test_any_json_value_validates_or_is_invalid(self, name, value):
        field = SAMPLE.all_fields()[name]
        try:
            checked = field.validate(value)
        except f.InvalidValue as e:
            self.assertTrue(str(e))
            return
        # Whatever passes can be stored by every database.
        text = json.dumps(checked, ensure_ascii=False)
        text.encode('utf-8')
        self.assertNotIn('\x00', text)
        if isinstance(field, f.DateTime) and checked is not None:
            self.assertRegex(checked, r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.'
                                      r'\d{6}Z$')


class TestRegistryWire(testtools.TestCase):

    @PROPERTY
    @given(value=JSON)
    def test_any_json_value_round_trips(self, value):
        self.assertEqual(_normal(value), _normal(rpc.loads(rpc.dumps(
            value))))


def _normal(value):
    """JSON equality, with -0.0 and 0.0 alike as JSON has them."""
    return json.dumps(value, sort_keys=True)
