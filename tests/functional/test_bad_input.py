"""Every kind of bad input is a 4xx that says what was wrong, and
changes nothing: nulls and wrong types anywhere in a body, strings that
no database can store, values out of range, malformed JSON pointers,
paths that could name another resource, headers with odd digits.

These run in every database x data API combination (see tools/dev.py),
so the registry's answers are checked against the same expectations.
"""

import os
import sys
import urllib.parse

import webob

from glance.artifacts.types import base as types_base
from glance.db.artifacts import models
from tests.functional import base

URL = '/v2/artifacts/sample_artifacts'
SURROGATE = '\ud800'        # what the JSON escape \ud800 decodes to

# A value of the right type for each writable field of sample_artifacts.
GOOD = {
    'name': 'n', 'version': '1.0.0', 'description': 'd', 'tags': ['t'],
    'metadata': {'k': 'v'}, 'visibility': 'private', 'protected': False,
    'str1': 's', 'str_required': 'r', 'str_mutable': 'm', 'str_choice': 'a',
    'str_validated': 'v', 'str_on_activate': 'o', 'text1': 'text',
    'int1': 1, 'int_bounded': 2, 'int_even': 4, 'num1': 1.5,
    'bool1': True, 'date1': '2020-01-01T00:00:00Z', 'ver1': '1.0.0',
    'list_str': ['a'], 'list_int': [1], 'dict_str': {'a': 'b'},
    'dict_int': {'a': 1},
}
STRING_FIELDS = ('name', 'description', 'str1', 'str_required',
                 'str_mutable', 'str_validated', 'str_on_activate', 'text1')


class BadInputTest(base.FunctionalTest):

    def assertNothingCreated(self):
        self.assertEqual(0, self.count_rows(models.artifacts))

    def post(self, body):
        return self.request('POST', URL, body=body)


class TestWrongTypesAndNulls(BadInputTest):

    def test_a_wrong_type_in_any_field_is_400_naming_the_field(self):
        wrong = {str: 5, int: '5', float: 'x', bool: 'true', list: 'a',
                 dict: ['a']}
        for name, good in sorted(GOOD.items()):
            bad = wrong[type(good)]
            resp = self.post({'name': 'x', name: bad})
            self.assertError(400, resp, "Invalid value for '%s'" % name)
        self.assertNothingCreated()

    def test_null_inside_lists_and_dicts_is_400(self):
        for name in ('tags', 'list_str', 'list_int'):
            resp = self.post({'name': 'x', name: GOOD[name] + [None]})
            self.assertError(400, resp, "'%s'" % name, 'item 1: null')
        for name in ('metadata', 'dict_str', 'dict_int'):
            resp = self.post({'name': 'x', name: {'k': None}})
            self.assertError(400, resp, "'%s'" % name, "key 'k': null")
        self.assertNothingCreated()

    def test_null_for_a_required_field_is_400_and_for_others_unsets(self):
        for name in ('name', 'version', 'visibility', 'protected',
                     'str_required'):
            resp = self.post({'name': 'x', name: None})
            self.assertError(400, resp, "'%s': a value is required" % name)
        self.assertNothingCreated()
        art = self.post({'name': 'x', 'str1': None, 'tags': None,
                         'metadata': None, 'list_int': None}).json
        self.assertEqual((None, [], {}, []), (art['str1'], art['tags'],
                                              art['metadata'],
                                              art['list_int']))

    def test_removing_or_nulling_version_in_a_patch_is_400(self):
        art = self.post({'name': 'x', 'version': '2.0.0'}).json
        for op in ({'op': 'remove', 'path': '/version'},
                   {'op': 'replace', 'path': '/version', 'value': None}):
            resp = self.request('PATCH', art['self'], body=[op])
            self.assertError(400, resp, "'version': a value is required")
        self.assertEqual('2.0.0',
                         self.request('GET', art['self']).json['version'])

    def test_bodies_that_are_not_objects_or_lists_are_400(self):
        for raw in (b'null', b'"x"', b'5', b'[]', b'{"name": "x"} x',
                    b'{"name": "x",}', b'\xff\xfe'):
            resp = self.request('POST', URL, raw=raw)
            self.assertEqual(400, resp.status_int, raw)
        self.assertNothingCreated()

    def test_multipart_body_without_boundary_is_400(self):
        resp = self.request('POST', URL, raw=b'--x\r\n\r\n--x--',
                            content_type='multipart/form-data')
        self.assertError(400, resp, 'Malformed JSON')
        self.assertNothingCreated()


class TestUnstorableStrings(BadInputTest):

    def test_lone_surrogates_and_nul_in_any_string_field_are_400(self):
        for name in STRING_FIELDS:
            for bad, says in (('x' + SURROGATE, 'lone surrogates'),
                              ('x\x00', 'NUL')):
                resp = self.post({'name': 'x', 'str_required': 'r',
                                  name: bad})
                self.assertError(400, resp, "'%s'" % name, says)
        self.assertNothingCreated()

    def test_bad_strings_in_list_items_dict_values_and_keys_are_400(self):
        for body in ({'tags': [SURROGATE]}, {'list_str': ['\x00']},
                     {'metadata': {'k': SURROGATE}},
                     {'metadata': {SURROGATE: 'v'}},
                     {'metadata': {'a\x00': 'v'}},
                     {'dict_str': {SURROGATE: 'v'}},
                     {'dict_int': {'k\ud83d': 1}}):
            resp = self.post(dict(body, name='x'))
            self.assertEqual(400, resp.status_int, (body, resp.text))
            self.assertRegex(resp.json['message'],
                             'lone surrogates|NUL')
        self.assertNothingCreated()

    def test_over_long_strings_keys_and_values_are_400(self):
        for body, says in (({'name': 'x' * 256}, 'at most 255'),
                           ({'description': 'x' * 4097}, 'at most 4096'),
                           ({'metadata': {'k' * 256: 'v'}}, '1 to 255'),
                           ({'metadata': {'k': 'v' * 256}}, 'at most 255'),
                           ({'tags': ['t' * 256]}, 'at most 255'),
                           ({'version': '1.0.0-' + 'a' * 123},
                            'at most 128')):
            resp = self.post(dict({'name': 'x'}, **body))
            self.assertError(400, resp, says)
        self.assertNothingCreated()

    def test_error_messages_show_the_surrogate_escaped(self):
        resp = self.post({'name': 'x', 'colour' + SURROGATE: 1})
        self.assertError(400, resp, "'colour\\ud800' is not a field")

    def test_bad_strings_in_a_patch_change_nothing(self):
        art = self.post({'name': 'x', 'tags': ['a']}).json
        for op in ({'op': 'add', 'path': '/tags/-', 'value': SURROGATE},
                   {'op': 'add', 'path': '/metadata/' + SURROGATE,
                    'value': 'v'},
                   {'op': 'replace', 'path': '/name', 'value': 'a\x00'}):
            resp = self.request('PATCH', art['self'], body=[op])
            self.assertEqual(400, resp.status_int, (op, resp.text))
        self.assertEqual(art, self.request('GET', art['self']).json)

    def test_member_ids_in_body_and_path_are_checked(self):
        art = self.post({'name': 'x', 'visibility': 'shared'}).json
        for member in (SURROGATE, 'a\x00', 'm' * 256, '', 5, None):
            resp = self.request('POST', art['self'] + '/members',
                                body={'member': member})
            self.assertError(400, resp, "'member'")
        resp = self.request('GET', art['self'] + '/members/a%00')
        self.assertError(400, resp, 'control characters')
        resp = self.request('GET', art['self'] + '/members/' + 'm' * 256)
        self.assertError(404, resp, 'is not a member')
        self.assertEqual([], self.request(
            'GET', art['self'] + '/members').json['members'])

    def test_filter_values_and_keys_with_nul_are_400(self):
        for query in ('metadata.a%00=1', 'dict_str.a%00=1', 'name=a%00',
                      'tags=a%00'):
            resp = self.request('GET', URL + '?' + query)
            self.assertError(400, resp, 'NUL')

    def test_surrogates_cannot_come_through_a_query(self):
        # The UTF-8 form of a surrogate is not UTF-8. (In a path, Glance's
        # version negotiation filter fails on it before /v2/artifacts is
        # reached, for /v2/images alike.)
        resp = self.request('GET', URL + '?name=%ED%A0%80')
        self.assertError(400, resp, 'not valid UTF-8')


class TestValuesOutOfRange(BadInputTest):

    def test_dates_before_year_1000_round_trip_zero_padded_and_sort(self):
        for name, date in (('a', '2020-05-01T00:00:00Z'),
                           ('b', '0212-02-14T10:00:00+00:00'),
                           ('c', '0001-01-01T00:00:00Z'),
                           ('d', '9999-12-31T23:59:59.999999Z')):
            self.post({'name': name, 'date1': date})
        listed = self.request('GET', URL + '?sort=date1:asc').json
        self.assertEqual(
            [('c', '0001-01-01T00:00:00.000000Z'),
             ('b', '0212-02-14T10:00:00.000000Z'),
             ('a', '2020-05-01T00:00:00.000000Z'),
             ('d', '9999-12-31T23:59:59.999999Z')],
            [(a['name'], a['date1']) for a in listed['artifacts']])
        listed = self.request(
            'GET', URL + '?date1=lt:1000-01-01T00:00:00Z').json
        self.assertEqual(['b', 'c'], sorted(
            a['name'] for a in listed['artifacts']))

    def test_dates_outside_years_1_to_9999_in_utc_are_400(self):
        for date in ('9999-12-31T23:59:59-01:00', '0001-01-01T00:00:00+01:00',
                     '10000-01-01T00:00:00Z', '0000-01-01T00:00:00Z',
                     '2020-02-30T00:00:00Z', '2020-01-01T25:00:00Z'):
            resp = self.post({'name': 'x', 'date1': date})
            self.assertError(400, resp, "'date1'", 'ISO 8601')
            for field in ('date1', 'created_at'):
                resp = self.request('GET', URL + '?%s=gt:%s' % (
                    field, urllib.parse.quote(date)))
                self.assertError(400, resp, 'ISO 8601')
        self.assertNothingCreated()

    def test_extreme_dates_filter_the_time_columns(self):
        self.post({'name': 'x'})
        for query, count in (('created_at=gt:0001-01-01T00:00:00Z', 1),
                             ('created_at=lt:0001-01-01T00:00:01Z', 0),
                             ('updated_at=lt:9999-12-31T23:59:59Z', 1),
                             ('activated_at=gt:0001-01-01T00:00:00Z', 0)):
            resp = self.request('GET', URL + '?' + query)
            self.assertEqual((200, count), (resp.status_int,
                                            len(resp.json['artifacts'])),
                             query)

    def test_numbers_too_large_are_400(self):
        for raw, says in ((b'{"name": "x", "num1": 1%s}' % (b'0' * 400),
                           'too large for a number'),
                          (b'{"name": "x", "num1": 1e400}',
                           'finite'),
                          (b'{"name": "x", "num1": NaN}', 'finite'),
                          (b'{"name": "x", "int1": 9223372036854775808}',
                           'between'),
                          (b'{"name": "x", "int1": 1e3}', 'an integer')):
            resp = self.request('POST', URL, raw=raw)
            self.assertError(400, resp, says)
        for query, says in (('int1=' + '9' * 30, 'between'),
                            ('int1=1_000', 'not an integer'),
                            ('int1=%D9%A1', 'not an integer'),
                            ('num1=1e999', 'finite'),
                            ('num1=nan', 'not a number'),
                            ('num1=%D9%A1', 'not a number')):
            resp = self.request('GET', URL + '?' + query)
            self.assertError(400, resp, says)
        self.assertNothingCreated()

    def test_long_numbers_in_versions_are_400(self):
        for version in ('1.0.0-' + '1' * 36, '1' * 36 + '.0.0',
                        '1.0.0\n'):
            resp = self.post({'name': 'x', 'version': version})
            self.assertError(400, resp, "'version'")
            resp = self.request('GET', URL + '?version=gt:' +
                                urllib.parse.quote(version))
            self.assertEqual(400, resp.status_int)
        self.assertNothingCreated()
        self.assertEqual(201, self.post({'name': 'x', 'version': '1.0.0-' +
                                         '1' * 35}).status_int)


class TestExactStrings(BadInputTest):

    def test_trailing_spaces_make_different_values_on_every_database(self):
        art = self.post({'name': 'a', 'tags': ['t', 't '],
                         'metadata': {'k': '1', 'k ': '2'}}).json
        self.assertEqual((['t', 't '], {'k': '1', 'k ': '2'}),
                         (art['tags'], art['metadata']))
        self.assertEqual(201, self.post({'name': 'a '}).status_int)
        listed = self.request('GET', URL + '?name=a').json['artifacts']
        self.assertEqual([art['id']], [a['id'] for a in listed])
        listed = self.request('GET', URL + '?tags=t%20').json['artifacts']
        self.assertEqual([art['id']], [a['id'] for a in listed])
        self.assertEqual([], self.request(
            'GET', URL + '?name=A').json['artifacts'])


class TestPatchPointers(BadInputTest):

    def test_invalid_json_pointer_escapes_are_400(self):
        art = self.post({'name': 'x'}).json
        for path in ('/metadata/a~2', '/metadata/~', '/tags~', 'tags', '',
                     '/'):
            resp = self.request('PATCH', art['self'], body=[
                {'op': 'add', 'path': path, 'value': 'v'}])
            self.assertEqual(400, resp.status_int, (path, resp.text))
        self.assertEqual(art, self.request('GET', art['self']).json)

    def test_escaped_slash_in_a_key_is_refused(self):
        art = self.post({'name': 'x'}).json
        resp = self.request('PATCH', art['self'], body=[
            {'op': 'add', 'path': '/metadata/a~1b', 'value': 'v'}])
        self.assertError(400, resp, "must not contain '/'")
        resp = self.request('PATCH', art['self'], body=[
            {'op': 'add', 'path': '/metadata/a~0b', 'value': 'v'}])
        self.assertEqual({'a~b': 'v'}, resp.json['metadata'])


class TestPaths(BadInputTest):

    def setUp(self):
        super(TestPaths, self).setUp()
        self.art = self.post({'name': 'x'}).json

    def test_method_override_in_the_query_is_ignored(self):
        for method in ('DELETE', 'PATCH', 'PUT'):
            resp = self.request('GET', self.art['self'] + '?_method=' +
                                method)
            self.assertEqual(200, resp.status_int)
        resp = self.request('POST', URL + '?_method=DELETE', body={
            'name': 'y'})
        self.assertEqual(201, resp.status_int)
        self.assertEqual(200, self.request('GET',
                                           self.art['self']).status_int)

    def test_method_override_in_a_form_body_is_ignored(self):
        resp = self.request('POST', self.art['self'] + '/actions/activate',
                            raw=b'_method=DELETE',
                            content_type='application/x-www-form-'
                                         'urlencoded')
        self.assertEqual(400, resp.status_int, resp.text)    # not ready
        resp = self.request('POST', URL, raw=b'_method=GET',
                            content_type='application/x-www-form-'
                                         'urlencoded')
        self.assertError(400, resp, 'Malformed JSON')
        self.assertEqual(200, self.request('GET',
                                           self.art['self']).status_int)

    def test_control_characters_and_trailing_slashes_are_400(self):
        # Repeated slashes are tested against gunicorn (tests/e2e):
        # Paste's urlmap merges them before the request reaches us.
        for path, says in (('%0a', 'control characters'),
                           ('%0d%0a', 'control characters'),
                           ('%00', 'control characters'),
                           ('/tags/a%09b', 'control characters'),
                           ('/tags/a%7f', 'control characters'),
                           ('/', 'empty segment')):
            for method in ('GET', 'PUT', 'DELETE'):
                resp = self.request(method, self.art['self'] + path)
                self.assertError(400, resp, says)
        resp = self.request('GET', URL + '/')
        self.assertError(400, resp, 'empty segment')
        self.assertEqual(self.art, self.request('GET',
                                                self.art['self']).json)
        self.assertEqual(0, self.count_rows(models.tags))

    def test_percent_encoded_utf8_in_a_path_is_the_text_it_encodes(self):
        resp = self.request('PUT', self.art['self'] + '/tags/%C3%A9t%C3%A9')
        self.assertEqual(204, resp.status_int)
        self.assertEqual(['été'], self.request('GET',
                                               self.art['self']).json['tags'])
        resp = self.request('DELETE',
                            self.art['self'] + '/tags/%C3%A9t%C3%A9')
        self.assertEqual(204, resp.status_int)

    def test_non_ascii_digits_in_the_size_header_are_400(self):
        for size in ('\u00b2', '\u0661', '1e3', '-1', ' 1'):
            resp = self.request('PUT', self.art['self'] + '/blob1', raw=b'x',
                                content_type='application/octet-stream',
                                headers={'X-Openstack-Artifact-Size':
                                         size.encode('utf-8').decode(
                                             'latin-1')})
            self.assertError(400, resp, 'ASCII digits')
        self.assertIsNone(self.request('GET', self.art['self']).json['blob1'])


class TestAllShowsCommonFields(BadInputTest):

    def test_all_lists_exactly_the_fields_of_its_schema(self):
        self.post({'name': 'x', 'str1': 'a'})
        self.create('heat_templates', name='h')
        listed = self.request('GET', '/v2/artifacts/all').json['artifacts']
        schema = self.request('GET', '/v2/artifacts/schemas/all').json
        self.assertEqual(2, len(listed))
        for artifact in listed:
            self.assertEqual(sorted(schema['properties']), sorted(artifact))
        self.assertEqual(sorted(set(types_base.COMMON_FIELDS) |
                                {'self', 'schema'}),
                         sorted(schema['properties']))


class TestWireEncoding(BadInputTest):
    """In registry mode these values cross the registry's wire; in direct
    mode they must behave the same."""

    def test_dollar_keys_and_datetime_lookalikes_round_trip(self):
        metadata = {'$datetime': '2020-01-01T00:00:00.000000',
                    '$$datetime': 'x', '$': '$', 'a': '{"$datetime": 1}'}
        art = self.post({'name': 'x', 'metadata': metadata,
                         'dict_str': {'$datetime': 'not a date'}}).json
        shown = self.request('GET', art['self']).json
        self.assertEqual(metadata, shown['metadata'])
        self.assertEqual({'$datetime': 'not a date'}, shown['dict_str'])
        listed = self.request('GET', URL + '?metadata.$datetime=' +
                              '2020-01-01T00:00:00.000000').json
        self.assertEqual([art['id']], [a['id'] for a in listed['artifacts']])


# Glance's own paste file, as the Glance distribution installs it.
STOCK_PASTE = os.path.join(sys.prefix, 'etc', 'glance',
                           'glance-api-paste.ini')


class TestNotUTF8(BadInputTest):
    """Paths and query strings that are not UTF-8 once percent-decoded
    are refused by the filter artifacts-utf8 in every pipeline, before
    Glance's versionnegotiation (which fails on such paths with an
    exception, a 500)."""

    def setUp(self):
        super(TestNotUTF8, self).setUp()
        self.art = self.post({'name': 'x'}).json

    def send(self, method, path_info, query='', flavor='',
             accept='application/json'):
        """A request whose PATH_INFO and QUERY_STRING are exactly these
        (PATH_INFO: the path's bytes as Latin-1, as a WSGI server gives
        a percent-decoded path)."""
        req = webob.Request.blank('/', method=method)
        req.environ['PATH_INFO'] = path_info
        req.environ['QUERY_STRING'] = query
        req.headers['Accept'] = accept
        return req.get_response(self.glance.apps[flavor])

    def test_a_path_under_artifacts_that_is_not_utf8_is_400(self):
        art = self.art['self']
        paths = ['/v2/artifacts/\xff', URL + '/\xff', art + '\xff',
                 art + '/tags/\xff', art + '/blob_dict/a\xff',
                 URL + '/\xc0\xaf',            # %c0%af: overlong '/'
                 URL + '/\xed\xa0\x80',        # %ed%a0%80: a surrogate
                 URL + '/\xe2\x82',            # a sequence cut short
                 '/v2.1/artifacts/sample_artifacts/\xff']
        for flavor in ('', 'testauth', 'artifacts'):
            for path in paths:
                for method in ('GET', 'PUT', 'DELETE'):
                    resp = self.send(method, path, flavor=flavor)
                    self.assertEqual(400, resp.status_int,
                                     (flavor, method, path, resp.text))
                    self.assertTrue(resp.json['message'].startswith(
                        'The path is not valid UTF-8.'), resp.text)
        self.assertEqual(self.art, self.request('GET', art).json)
        self.assertEqual(0, self.count_rows(models.tags))

    def test_a_query_string_that_is_not_utf8_is_400(self):
        for flavor in ('', 'testauth', 'artifacts'):
            for query in ('name=%ff', '%ff=x', 'name=%C0%AF',
                          'tags=%ed%a0%80', 'name=\xff', 'name=a&sort=%e9'):
                for path in (URL, self.art['self'], '/v2/artifacts'):
                    resp = self.send('GET', path, query, flavor=flavor)
                    self.assertEqual(400, resp.status_int,
                                     (flavor, path, query, resp.text))
                    self.assertTrue(resp.json['message'].startswith(
                        'The query string is not valid UTF-8.'), resp.text)

    def test_the_refusal_has_the_format_of_the_routers_400s(self):
        # The router's 400 for a control character, and the filter's 400,
        # as JSON and as HTML: the same document around the message.
        for accept in ('application/json', 'text/html'):
            router = self.send('GET', URL + '/\x0a', accept=accept)
            edge = self.send('GET', URL + '/\xff', accept=accept)
            self.assertEqual((400, 400), (router.status_int,
                                          edge.status_int))
            self.assertEqual(router.content_type, edge.content_type)
            self.assertEqual(
                router.text.replace('The path contains control characters.',
                                    'The path is not valid UTF-8.'),
                edge.text)

    def test_utf8_paths_and_queries_still_reach_the_router(self):
        resp = self.send('PUT', self.art['self'] + '/tags/\xc3\xa9t\xc3\xa9')
        self.assertEqual(204, resp.status_int, resp.text)
        resp = self.send('GET', URL, 'tags=%C3%A9t%C3%A9')
        self.assertEqual([self.art['id']],
                         [a['id'] for a in resp.json['artifacts']])

    def test_other_paths_are_answered_as_glance_answers_them(self):
        # Whatever Glance's stock pipeline does with these (a 400, or an
        # exception that the WSGI server turns into a 500), ours does.
        self.assertTrue(os.path.exists(STOCK_PASTE), STOCK_PASTE)
        from glance.common import config as glance_config
        stock = glance_config.load_paste_app('glance-api',
                                             conf_file=STOCK_PASTE)

        def outcome(app, path_info, query):
            req = webob.Request.blank('/')
            req.environ['PATH_INFO'] = path_info
            req.environ['QUERY_STRING'] = query
            req.headers['Accept'] = 'application/json'
            try:
                resp = req.get_response(app)
            except Exception as e:
                return type(e).__name__
            return resp.status, resp.text

        for path, query in (('/v2/images/\xff', ''), ('/v2/images', ''),
                            ('/v2/images/\xc0\xaf', ''),
                            ('/v2/images', 'name=%ff'),
                            ('/v2/images', 'name=\xed\xa0\x80'),
                            ('/v2/artifacts\xff', ''), ('/\xff', ''),
                            ('/versions\xff', '')):
            self.assertEqual(outcome(stock, path, query),
                             outcome(self.glance.apps[''], path, query),
                             (path, query))
