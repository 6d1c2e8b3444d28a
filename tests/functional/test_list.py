"""GET /v2/artifacts/{type}: pages, sorting and filters."""

import urllib.parse

from oslo_config import cfg

from glance.artifacts import loader
from glance.artifacts import semver
from tests.functional import base

CONF = cfg.CONF
URL = '/v2/artifacts/sample_artifacts'


class ListTest(base.FunctionalTest):

    def names(self, query='', url=URL, status=200, **kw):
        resp = self.request('GET', url + ('?' + query if query else ''),
                            **kw)
        self.assertEqual(status, resp.status_int, resp.text)
        return [a['name'] for a in resp.json['artifacts']]

    def versions(self, query):
        resp = self.request('GET', URL + '?' + query)
        self.assertEqual(200, resp.status_int, resp.text)
        return [(a['name'], a['version']) for a in resp.json['artifacts']]

    def make(self, name, **fields):
        return self.create('sample_artifacts', name=name, **fields)


class TestPages(ListTest):

    def test_empty_list_has_first_and_schema_and_no_next(self):
        resp = self.request('GET', URL)
        self.assertEqual(200, resp.status_int)
        self.assertEqual({'artifacts': [], 'first': URL,
                          'schema': '/v2/artifacts/schemas/'
                                    'sample_artifacts/list'}, resp.json)

    def test_next_links_walk_every_artifact_once(self):
        for i in range(7):
            self.make('a%d' % i)
        seen = []
        url = URL + '?limit=3&sort=name:asc'
        pages = 0
        while url:
            self.assertTrue(url.startswith('/v2/'), url)
            resp = self.request('GET', url)
            self.assertEqual(200, resp.status_int, resp.text)
            seen += [a['name'] for a in resp.json['artifacts']]
            self.assertEqual(URL + '?limit=3&sort=name%3Aasc',
                             resp.json['first'])
            url = resp.json.get('next')
            pages += 1
        self.assertEqual(['a%d' % i for i in range(7)], seen)
        self.assertEqual(3, pages)

    def test_next_keeps_filters_and_replaces_marker(self):
        arts = [self.make('n%d' % i, int1=1) for i in range(3)]
        resp = self.request('GET', URL + '?int1=1&limit=1&sort=name:asc')
        nxt = resp.json['next']
        query = urllib.parse.parse_qs(urllib.parse.urlparse(nxt).query)
        self.assertEqual({'int1': ['1'], 'limit': ['1'],
                          'sort': ['name:asc'],
                          'marker': [arts[0]['id']]}, query)

    def test_default_limit_is_25_and_configurable(self):
        for i in range(27):
            self.make('n%02d' % i)
        self.assertEqual(25, len(self.names()))
        self.addCleanup(CONF.clear_override, 'limit_param_default',
                        group='artifacts')
        CONF.set_override('limit_param_default', 5, group='artifacts')
        self.assertEqual(5, len(self.names()))

    def test_limit_is_capped_by_api_limit_max(self):
        for i in range(4):
            self.make('n%d' % i)
        self.addCleanup(CONF.clear_override, 'api_limit_max',
                        group='artifacts')
        CONF.set_override('api_limit_max', 2, group='artifacts')
        resp = self.request('GET', URL + '?limit=1000')
        self.assertEqual(2, len(resp.json['artifacts']))
        self.assertIn('next', resp.json)

    def test_limit_zero_returns_nothing_and_no_next(self):
        self.make('x')
        resp = self.request('GET', URL + '?limit=0')
        self.assertEqual([], resp.json['artifacts'])
        self.assertNotIn('next', resp.json)

    def test_bad_limits_are_400(self):
        for value, fragment in (('-1', 'limit must be zero or more'),
                                ('ten', 'limit must be an integer'),
                                ('1.5', 'limit must be an integer'),
                                ('', 'limit must be an integer')):
            resp = self.request('GET', URL + '?limit=' + value)
            self.assertError(400, resp, fragment)

    def test_bad_or_unknown_markers_are_400(self):
        other = self.create('heat_templates', name='elsewhere')
        for marker, fragment in (
                ('nope', 'marker must be an artifact id'),
                ('00000000-0000-4000-8000-000000000000',
                 'is not an artifact of this list'),
                (other['id'], 'is not an artifact of this list')):
            resp = self.request('GET', URL + '?marker=' + marker)
            self.assertError(400, resp, fragment)

    def test_marker_outside_the_filter_is_400(self):
        a = self.make('a', int1=1)
        self.make('b', int1=2)
        resp = self.request('GET', URL + '?int1=2&marker=' + a['id'])
        self.assertError(400, resp, 'is not an artifact of this list')


class TestSort(ListTest):

    def setUp(self):
        super(TestSort, self).setUp()
        self.make('b', version='1.10.0', int1=2, str1='y')
        self.make('a', version='1.2.0', int1=3)
        self.make('c', version='1.2.0-rc.1', int1=1, str1='x')

    def test_default_order_is_newest_first(self):
        self.assertEqual(['c', 'a', 'b'], self.names())

    def test_sort_by_common_and_type_fields_both_ways(self):
        self.assertEqual(['a', 'b', 'c'], self.names('sort=name:asc'))
        self.assertEqual(['c', 'b', 'a'], self.names('sort=name'))
        self.assertEqual(['c', 'b', 'a'], self.names('sort=int1:asc'))
        self.assertEqual(['a', 'b', 'c'], self.names('sort=int1:desc'))

    def test_version_sorts_by_semver_precedence(self):
        self.assertEqual(['c', 'a', 'b'], self.names('sort=version:asc'))

    def test_missing_values_sort_last_both_ways(self):
        self.assertEqual(['c', 'b', 'a'], self.names('sort=str1:asc'))
        self.assertEqual(['b', 'c', 'a'], self.names('sort=str1:desc'))
        self.assertEqual(['c'], self.names('sort=str1:asc&limit=1'))

    def test_pages_under_a_type_field_sort_with_missing_values(self):
        self.make('d', str1='x')
        seen = []
        url = URL + '?sort=str1:asc,name:asc&limit=1'
        while url:
            resp = self.request('GET', url)
            self.assertEqual(200, resp.status_int, resp.text)
            seen += [a['name'] for a in resp.json['artifacts']]
            url = resp.json.get('next')
        self.assertEqual(['c', 'd', 'b', 'a'], seen)

    def test_sort_key_and_sort_dir_like_images(self):
        self.assertEqual(['a', 'b', 'c'],
                         self.names('sort_key=name&sort_dir=asc'))
        self.assertEqual(['b', 'c', 'a'],
                         self.names('sort_key=version&sort_key=name'
                                    '&sort_dir=desc&sort_dir=asc')[:1] +
                         ['c', 'a'])

    def test_bad_sorts_are_400(self):
        cases = [('sort=colour', "Cannot sort on 'colour'"),
                 ('sort=tags', "Cannot sort on 'tags'"),
                 ('sort=list_str', "Cannot sort on 'list_str'"),
                 ('sort=text1', "Cannot sort on 'text1'"),
                 ('sort=name:up', 'must be asc or desc'),
                 ('sort=name&sort_key=name', 'not both'),
                 ('sort_key=name&sort_key=id&sort_dir=asc&sort_dir=asc'
                  '&sort_dir=asc', 'one for each sort_key'),
                 ('sort=' + ','.join(['name'] * 9), 'At most 8 sort keys')]
        for query, fragment in cases:
            resp = self.request('GET', URL + '?' + query)
            self.assertError(400, resp, fragment)


class TestFilters(ListTest):

    def test_operators_on_integer_field(self):
        for i in range(5):
            self.make('n%d' % i, int1=i)
        q = 'sort=int1:asc&int1='
        self.assertEqual(['n2'], self.names(q + '2'))
        self.assertEqual(['n2'], self.names(q + 'eq:2'))
        self.assertEqual(['n0', 'n1', 'n3', 'n4'], self.names(q + 'neq:2'))
        self.assertEqual(['n0', 'n1'], self.names(q + 'lt:2'))
        self.assertEqual(['n0', 'n1', 'n2'], self.names(q + 'lte:2'))
        self.assertEqual(['n3', 'n4'], self.names(q + 'gt:2'))
        self.assertEqual(['n2', 'n3', 'n4'], self.names(q + 'gte:2'))
        self.assertEqual(['n1', 'n4'], self.names(q + 'in:4,1'))

    def test_range_by_repeating_a_parameter(self):
        for i in range(5):
            self.make('n%d' % i, int1=i)
        self.assertEqual(['n1', 'n2', 'n3'],
                         self.names('int1=gte:1&int1=lt:4&sort=int1:asc'))

    def test_in_takes_quoted_values_with_commas(self):
        self.make('a,b')
        self.make('c')
        self.make('d')
        self.assertEqual(['a,b', 'c'],
                         self.names('name=in:"a,b",c&sort=name:asc'))

    def test_unbalanced_quotes_are_400(self):
        resp = self.request('GET', URL + '?name=in:"a,b')
        self.assertError(400, resp, 'The quote is not closed')

    def test_string_datetime_number_boolean_semver_fields(self):
        self.make('one', str1='x', date1='2024-01-01T00:00:00Z',
                  num1=1.5, bool1=True, ver1='1.0.0-alpha')
        self.make('two', str1='y', date1='2025-01-01T00:00:00+05:00',
                  num1=-3, bool1=False, ver1='1.0.0')
        self.assertEqual(['one'], self.names('str1=x'))
        self.assertEqual(['two'],
                         self.names('date1=gt:2024-06-01T00:00:00Z'))
        self.assertEqual(['one'], self.names('date1=2024-01-01T00:00:00Z'))
        self.assertEqual(['two'], self.names('num1=lt:0'))
        self.assertEqual(['one'], self.names('bool1=true'))
        self.assertEqual(['two'], self.names('bool1=False'))
        self.assertEqual(['one'], self.names('ver1=lt:1.0.0'))

    def test_list_and_dict_fields(self):
        self.make('one', list_str=['red', 'blue'], dict_str={'os': 'linux'},
                  dict_int={'cpu': 4})
        self.make('two', list_str=['green'], dict_str={'os': 'bsd'},
                  dict_int={'cpu': 16})
        self.assertEqual(['one'], self.names('list_str=blue'))
        self.assertEqual(['two'], self.names('list_str=neq:blue'))
        self.assertEqual(['two'], self.names('dict_str.os=bsd'))
        self.assertEqual(['two'], self.names('dict_int.cpu=gt:8'))

    def test_common_fields_tags_metadata(self):
        self.make('one', tags=['x', 'y'], metadata={'env': 'prod'},
                  visibility='public', protected=True)
        self.make('two', tags=['x'], metadata={'env': 'dev'})
        q = '&sort=name:asc'
        self.assertEqual(['one', 'two'], self.names('tags=x' + q))
        self.assertEqual(['one'], self.names('tags=x&tags=y'))
        self.assertEqual([], self.names('tags=x&tags=z'))
        self.assertEqual(['two'], self.names('metadata.env=dev'))
        self.assertEqual(['one'], self.names('metadata.env=neq:dev'))
        self.assertEqual(['one'], self.names('visibility=public'))
        self.assertEqual(['one'], self.names('protected=true'))
        self.assertEqual(['one', 'two'],
                         self.names('status=drafted&owner=neq:x' + q))
        self.assertEqual(['two'], self.names('name=two'))

    def test_time_filters_on_created_at(self):
        self.make('one')
        self.assertEqual(['one'],
                         self.names('created_at=gt:2000-01-01T00:00:00Z'))
        self.assertEqual([], self.names('created_at=lt:2000-01-01T00:00:00Z'))

    def test_version_latest_gives_highest_version_of_each_name(self):
        for name, version in [('web', '1.0.0'), ('web', '1.10.0'),
                              ('web', '1.9.0'), ('web', '2.0.0-rc.1'),
                              ('db', '0.1.0'), ('db', '0.1.0-beta')]:
            self.make(name, version=version)
        self.assertEqual([('db', '0.1.0'), ('web', '2.0.0-rc.1')],
                         self.versions('version=latest&sort=name:asc'))

    def test_version_latest_combines_with_other_filters(self):
        self.make('web', version='1.0.0', int1=1)
        self.make('web', version='2.0.0', int1=2)
        self.assertEqual([('web', '1.0.0')],
                         self.versions('version=latest&int1=1'))

    def test_version_ranges_compare_by_precedence(self):
        for version in ('0.9.0', '1.0.0-rc.1', '1.0.0', '1.2.0', '1.10.0',
                        '2.0.0'):
            self.make('web', version=version)
        self.assertEqual(
            ['1.0.0', '1.2.0', '1.10.0'],
            [v for _n, v in self.versions(
                'version=gte:1.0.0&version=lt:2.0.0&sort=version:asc')])

    def test_bad_filters_are_400(self):
        cases = [
            ('colour=red', "Cannot filter on 'colour'"),
            ('text1=x', "Cannot filter on 'text1'"),
            ('str_validated=x', "Cannot filter on 'str_validated'"),
            ('int1=like:3', "Unknown or unsupported filter operator 'like'"),
            ('bool1=gt:true', "unsupported filter operator 'gt'"),
            ('int1=three', "'three' is not an integer"),
            ('num1=gt:x', "'x' is not a number"),
            ('bool1=maybe', "'maybe' is not true or false"),
            ('version=gt:1.0', 'not a Semantic Version'),
            ('created_at=gt:yesterday', 'is not an ISO 8601'),
            ('metadata=x', 'metadata.KEY=VALUE'),
            ('dict_str=x', 'dict_str.KEY=VALUE'),
            ('int1.x=1', "Cannot filter on 'int1.x'"),
            ('visibility=everyone', 'not one of the allowed values'),
            ('name=' + 'x' * 256, 'at most 255 characters'),
        ]
        for query, fragment in cases:
            resp = self.request('GET', URL + '?' + query)
            self.assertEqual(400, resp.status_int, (query, resp.text))
            self.assertIn(fragment.lower(), resp.json['message'].lower(),
                          query)

    def test_hostile_values_are_plain_data(self):
        self.make("o'brien", metadata={'k': "1' OR '1'='1"})
        self.make('plain')
        self.assertEqual(["o'brien"], self.names("name=o'brien"))
        self.assertEqual([], self.names("name=x' OR '1'='1"))
        self.assertEqual(["o'brien"],
                         self.names(urllib.parse.urlencode(
                             {'metadata.k': "1' OR '1'='1"})))
        self.assertEqual([], self.names('name=%25'))
        self.assertEqual([], self.names('name=' +
                                        urllib.parse.quote('名前')))

    def test_too_many_in_values_are_400(self):
        resp = self.request('GET', URL + '?int1=in:' +
                            ','.join(str(i) for i in range(501)))
        self.assertError(400, resp, "At most 500 values in an 'in' filter")

    def test_query_that_is_not_utf8_is_400(self):
        for query in ('name=%ff', '%ff=1'):
            resp = self.request('GET', URL + '?' + query)
            self.assertError(400, resp, 'The query string is not valid '
                             'UTF-8.')

    def test_too_many_filters_are_400(self):
        resp = self.request('GET', URL + '?' + '&'.join(['int1=1'] * 65))
        self.assertError(400, resp, 'At most 64 filters')


class TestLikeAndTagsAny(ListTest):
    """like: patterns on string fields and tags-any=, as Glare had them."""

    def like(self, field, pattern, url=URL):
        return self.names(urllib.parse.urlencode(
            {field: 'like:' + pattern, 'sort': 'name:asc'}), url=url)

    def test_like_matches_names_with_case_on_every_database(self):
        for name in ('Alpha', 'alpha', 'alps', 'beta', 'al%x', 'al_y',
                     'a*[b]?'):
            self.make(name)
        self.assertEqual(['al%x', 'al_y', 'alpha', 'alps'],
                         self.like('name', 'al%'))
        self.assertEqual(['Alpha'], self.like('name', 'A%'))
        self.assertEqual(['alpha'], self.like('name', 'al__a'))
        self.assertEqual(['al%x'], self.like('name', 'al\\%%'))
        self.assertEqual(['al_y'], self.like('name', '%\\_y'))
        self.assertEqual(['a*[b]?'], self.like('name', 'a*[b]_'))
        self.assertEqual(['Alpha', 'alpha', 'beta'],
                         self.like('name', '%a'))
        self.assertEqual(7, len(self.like('name', '%')))
        self.assertEqual([], self.like('name', 'alp'))

    def test_like_applies_to_type_fields_metadata_and_dict_values(self):
        self.make('one', str1='red fox', metadata={'k': 'v-1'},
                  dict_str={'a': 'x1'}, list_str=['tag-a'])
        self.make('two', str1='red dog', metadata={'k': 'w-1'},
                  dict_str={'a': 'y1'}, list_str=['tag-b'])
        self.assertEqual(['one', 'two'], self.like('str1', 'red %'))
        self.assertEqual(['two'], self.like('str1', '%dog'))
        self.assertEqual(['one'], self.like('metadata.k', 'v%'))
        self.assertEqual(['two'], self.like('dict_str.a', 'y_'))
        self.assertEqual(['one'], self.like('list_str', '%-a'))
        self.assertEqual(['one'], self.names(
            'str1=like:red%25&metadata.k=neq:w-1'))

    def test_tags_any_lists_artifacts_with_one_of_the_tags(self):
        self.make('ab', tags=['a', 'b'])
        self.make('b', tags=['b'])
        self.make('c,d', tags=['c,d'])
        self.make('none')
        self.assertEqual(['ab', 'b'], self.names('tags-any=b&sort=name:asc'))
        self.assertEqual(['ab', 'c,d'], self.names(
            'tags-any=a,%22c,d%22&sort=name:asc'))
        self.assertEqual(['b'], self.names('tags-any=a,b&tags=b&name=b'))
        self.assertEqual([], self.names('tags-any=x,y'))

    def test_bad_patterns_are_400(self):
        for query, fragment in (
                ('name=like:a%5Cb', "Invalid like: pattern for 'name': in "
                 "a pattern a backslash escapes %, _ or a backslash"),
                ('name=like:a%5C', 'a backslash escapes'),
                ('name=like:' + 'x' * 511,
                 'a pattern has at most 510 characters, got 511'),
                ('name=like:a%00', 'must not contain NUL characters'),
                ('int1=like:3', "unsupported filter operator 'like'"),
                ('version=like:1%25', "unsupported filter operator 'like'"),
                ('tags-any=' + ','.join(['t'] * 501),
                 "At most 500 values in an 'in' filter")):
            resp = self.request('GET', URL + '?' + query)
            self.assertError(400, resp, fragment)


class TestAllTypes(ListTest):

    def test_all_lists_every_type_and_filters_on_type_name(self):
        self.create('heat_templates', name='h')
        self.create('tosca_templates', name='t')
        self.assertEqual(['h', 't'],
                         self.names('sort=name:asc', url='/v2/artifacts/all'))
        self.assertEqual(['t'], self.names('type_name=tosca_templates',
                                           url='/v2/artifacts/all'))

    def test_all_has_schemas_of_the_common_fields(self):
        resp = self.request('GET', '/v2/artifacts/all')
        schema = self.request('GET', resp.json['schema'])
        self.assertEqual(200, schema.status_int)
        items = schema.json['properties']['artifacts']['items']
        self.assertIn('type_name', items['properties'])
        self.assertNotIn('int1', items['properties'])
        self.assertEqual(200, self.request(
            'GET', '/v2/artifacts/schemas/all').status_int)

    def test_all_takes_no_writes(self):
        resp = self.request('POST', '/v2/artifacts/all', body={'name': 'x'})
        self.assertError(405, resp, 'create them at /v2/artifacts/{type}')
        self.assertEqual('GET', resp.headers['Allow'])

    def test_all_rejects_type_fields(self):
        resp = self.request('GET', '/v2/artifacts/all?int1=1')
        self.assertError(400, resp, "Cannot filter on 'int1'")


class TestEverySortAcrossPages(ListTest):
    """Every sortable field, both ways: walking the pages by their next
    links gives exactly the whole sorted list, in an order that follows
    the field's values (missing values last)."""

    VALUES = [
        dict(name='b', version='1.0.0-rc.1', str1='mm', str_choice='b',
             int1=3, int_bounded=7, num1=-1.5, bool1=True,
             date1='0212-02-14T00:00:00Z', ver1='2.0.0', protected=True),
        dict(name='a', version='1.0.0', str1='aa', str_choice='a',
             int1=-2, num1=0.25, bool1=False,
             date1='2020-01-01T00:00:00Z', ver1='10.0.0'),
        dict(name='c', version='1.0.0-alpha', int1=3, num1=-1.5,
             bool1=True, date1='0001-01-01T00:00:00Z', ver1='2.0.0-rc.1'),
        dict(name='b', version='0.9.0', str1='zz', str_choice='c',
             int_bounded=7, visibility='public', protected=True),
        dict(name='d', version='1.10.0', str1='mm', int1=0, num1=1000.0,
             bool1=False, ver1='1.9.9'),
        dict(name='a', version='1.2.0', str_choice='a', int1=-2,
             int_bounded=0, date1='2020-01-01T00:00:00Z'),
        dict(name='e', version='2.0.0', visibility='community'),
    ]

    def order_key(self, name, value):
        if name in ('version', 'ver1') and value is not None:
            return semver.sort_key(value)
        return value

    def test_pages_walk_the_whole_sorted_list_for_every_sortable_field(self):
        for values in self.VALUES:
            self.make(**values)
        sample = loader.load_types(['sample_artifacts'])['sample_artifacts']
        sortable = sorted(n for n, fd in sample.all_fields().items()
                          if fd.sortable)
        for name in sortable:
            for direction in ('asc', 'desc'):
                query = 'sort=%s:%s' % (name, direction)
                whole = self.request('GET', URL + '?limit=100&' + query)
                self.assertEqual(200, whole.status_int, whole.text)
                whole = whole.json['artifacts']
                self.assertEqual(len(self.VALUES), len(whole), query)
                walked, url = [], URL + '?limit=2&' + query
                while url:
                    page = self.request('GET', url)
                    self.assertEqual(200, page.status_int, page.text)
                    walked += page.json['artifacts']
                    url = page.json.get('next')
                self.assertEqual([a['id'] for a in whole],
                                 [a['id'] for a in walked], query)
                keys = [self.order_key(name, a[name]) for a in whole]
                present = [k for k in keys if k is not None]
                self.assertEqual(keys, present + [None] * (
                    len(keys) - len(present)), query)
                self.assertEqual(sorted(present,
                                        reverse=direction == 'desc'),
                                 present, query)
