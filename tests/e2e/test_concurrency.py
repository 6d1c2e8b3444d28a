"""Concurrent writers of one artifact, against a real server: every
change answered 2xx is in the final state (a change may instead get 409
saying the artifact changed meanwhile), and nothing answers 5xx.

The server has 2 workers of 8 threads each; every scenario starts 8 or
more writers at once, for several rounds. These run on SQLite, MariaDB
and PostgreSQL, directly and through the registry (tools/dev.py).
"""

import concurrent.futures
import http.client
import json
import threading

from tests.e2e import test_server

V21 = 'application/openstack-images-v2.1-json-patch'
WRITERS = 8
ROUNDS = 3


class ConcurrencyTest(test_server.ServerTest):

    options = {'threads': 8}

    def create(self, **fields):
        fields.setdefault('name', 'c-%s' % self.getUniqueString())
        status, art = self.server.json(
            'POST', '/v2/artifacts/sample_artifacts', fields)
        self.assertEqual(201, status, art)
        return art

    def show(self, art):
        return self.server.json('GET', art['self'])[1]

    def at_once(self, requests):
        """Send (method, path, body, content type) requests all at once,
        each on its own connection; their (status, body) in order."""
        barrier = threading.Barrier(len(requests))

        def send(request):
            method, path, body, content_type = request
            conn = http.client.HTTPConnection('127.0.0.1', self.server.port,
                                              timeout=120)
            headers = {'Accept': 'application/json'}
            data = None
            if body is not None:
                data = json.dumps(body).encode('utf-8')
                headers['Content-Type'] = content_type
            try:
                conn.connect()
                barrier.wait(30)
                conn.request(method, path, body=data, headers=headers)
                resp = conn.getresponse()
                return resp.status, resp.read()
            finally:
                conn.close()
        with concurrent.futures.ThreadPoolExecutor(len(requests)) as pool:
            results = list(pool.map(send, requests))
        for (method, path, _b, _c), (status, text) in zip(requests,
                                                          results):
            self.assertLess(status, 500, (method, path, text))
            if status == 409:
                self.assertIn(b'changed', text)
        return results

    def patch(self, art, ops):
        return ('PATCH', art['self'], ops, V21)


class TestConcurrentPatches(ConcurrencyTest):

    def test_patches_adding_different_metadata_keys_all_land(self):
        for _round in range(ROUNDS):
            art = self.create(metadata={'base': 'x'})
            results = self.at_once([self.patch(art, [
                {'op': 'add', 'path': '/metadata/k%d' % i, 'value': str(i)}])
                for i in range(WRITERS)])
            expected = {'base': 'x'}
            expected.update({'k%d' % i: str(i) for i, (status, _t)
                             in enumerate(results) if status == 200})
            self.assertEqual(expected, self.show(art)['metadata'])
            self.assertGreaterEqual(len(expected), 2)

    def test_patches_appending_to_one_list_all_land(self):
        for _round in range(ROUNDS):
            art = self.create(list_int=[])
            results = self.at_once([self.patch(art, [
                {'op': 'add', 'path': '/list_int/-', 'value': i}])
                for i in range(WRITERS)])
            landed = [i for i, (status, _t) in enumerate(results)
                      if status == 200]
            self.assertEqual(sorted(landed),
                             sorted(self.show(art)['list_int']))

    def test_patches_of_different_fields_all_land(self):
        values = [('/description', 'd'), ('/str1', 's'), ('/int1', 7),
                  ('/num1', 2.5), ('/bool1', True), ('/str_mutable', 'm'),
                  ('/metadata/k', 'v'), ('/tags/-', 't'),
                  ('/dict_str/a', 'b'), ('/list_str/-', 'l')]
        for _round in range(ROUNDS):
            art = self.create()
            results = self.at_once([self.patch(art, [
                {'op': 'add', 'path': path, 'value': value}])
                for path, value in values])
            shown = self.show(art)
            for (path, value), (status, _t) in zip(values, results):
                if status != 200:
                    continue
                name, _slash, part = path[1:].partition('/')
                if part == '-':
                    self.assertIn(value, shown[name], path)
                elif part:
                    self.assertEqual(value, shown[name][part], path)
                else:
                    self.assertEqual(value, shown[name], path)


class TestConcurrentTags(ConcurrencyTest):

    def test_tag_puts_never_fail_and_all_land(self):
        for _round in range(ROUNDS):
            art = self.create()
            results = self.at_once([
                ('PUT', '%s/tags/t%d' % (art['self'], i), None, None)
                for i in range(WRITERS)])
            self.assertEqual([204] * WRITERS, [s for s, _t in results])
            self.assertEqual(sorted('t%d' % i for i in range(WRITERS)),
                             self.show(art)['tags'])

    def test_tag_puts_racing_tag_patches_all_land(self):
        for _round in range(ROUNDS):
            art = self.create(tags=['keep'])
            requests = []
            for i in range(WRITERS):
                if i % 2:
                    requests.append(('PUT', '%s/tags/put%d' % (art['self'],
                                                               i),
                                     None, None))
                else:
                    requests.append(self.patch(art, [
                        {'op': 'add', 'path': '/tags/-',
                         'value': 'patch%d' % i}]))
            results = self.at_once(requests)
            landed = {'keep'} | {
                ('put%d' if i % 2 else 'patch%d') % i
                for i, (status, _t) in enumerate(results)
                if status in (200, 204)}
            self.assertEqual(sorted(landed), self.show(art)['tags'])
            self.assertEqual(1 + WRITERS, len(landed))

    def test_tag_deletes_and_puts_leave_exactly_their_result(self):
        for _round in range(ROUNDS):
            art = self.create(tags=['d%d' % i for i in range(WRITERS)])
            results = self.at_once(
                [('DELETE', '%s/tags/d%d' % (art['self'], i), None, None)
                 for i in range(WRITERS)] +
                [('PUT', '%s/tags/n%d' % (art['self'], i), None, None)
                 for i in range(WRITERS)])
            self.assertEqual([204] * (2 * WRITERS),
                             [s for s, _t in results])
            self.assertEqual(sorted('n%d' % i for i in range(WRITERS)),
                             self.show(art)['tags'])


class TestConcurrentMembersAndLifecycle(ConcurrencyTest):

    def test_members_added_and_updated_at_once_all_land(self):
        art = self.create(visibility='shared')
        results = self.at_once([
            ('POST', art['self'] + '/members', {'member': 'p%d' % i},
             'application/json') for i in range(WRITERS)])
        self.assertEqual([200] * WRITERS, [s for s, _t in results])
        results = self.at_once([
            ('PUT', '%s/members/p%d' % (art['self'], i),
             {'status': 'accepted' if i % 2 else 'rejected'},
             'application/json') for i in range(WRITERS)])
        self.assertEqual([200] * WRITERS, [s for s, _t in results])
        members = self.server.json('GET', art['self'] + '/members')[1]
        self.assertEqual(
            {'p%d' % i: 'accepted' if i % 2 else 'rejected'
             for i in range(WRITERS)},
            {m['member_id']: m['status'] for m in members['members']})

    def test_activation_racing_patches_keeps_both(self):
        for _round in range(ROUNDS):
            art = self.create(str_on_activate='x')
            status, _h, _b = self.server.request(
                'PUT', art['self'] + '/blob1', b'data',
                {'Content-Type': 'application/octet-stream'})
            self.assertEqual(204, status)
            results = self.at_once(
                [('POST', art['self'] + '/actions/activate', None, None)] *
                (WRITERS // 2) +
                [self.patch(art, [{'op': 'add', 'path': '/metadata/k%d' % i,
                                   'value': 'v'}])
                 for i in range(WRITERS // 2)])
            shown = self.show(art)
            self.assertEqual('active', shown['status'])
            self.assertEqual([204] * (WRITERS // 2),
                             [s for s, _t in results[:WRITERS // 2]])
            self.assertEqual(
                {'k%d' % i for i, (s, _t)
                 in enumerate(results[WRITERS // 2:]) if s == 200},
                set(shown['metadata']))

    def test_deactivate_and_reactivate_at_once_never_fail(self):
        art = self.create(str_on_activate='x')
        self.server.request('PUT', art['self'] + '/blob1', b'data',
                            {'Content-Type': 'application/octet-stream'})
        self.assertEqual(204, self.server.request(
            'POST', art['self'] + '/actions/activate')[0])
        actions = ['deactivate', 'reactivate'] * (WRITERS // 2)
        results = self.at_once([
            ('POST', '%s/actions/%s' % (art['self'], action), None, None)
            for action in actions])
        self.assertEqual([204] * WRITERS, [s for s, _t in results])
        self.assertIn(self.show(art)['status'], ('active', 'deactivated'))
