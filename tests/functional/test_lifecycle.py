"""Activation, deactivation, references, tags and dependency graphs."""

import datetime
import uuid

from glance.artifacts import catalog
from glance.db.artifacts import models
from tests import base as test_base
from tests.functional import base

S = '/v2/artifacts/sample_artifacts'
PATCH = 'application/openstack-images-v2.1-json-patch'


class LifecycleTest(base.FunctionalTest):

    def make(self, name='a', **fields):
        return self.create('sample_artifacts', name=name, **fields)

    def action(self, art, action, identity=None):
        return self.request('POST', art['self'] + '/actions/' + action,
                            identity=identity)

    def upload(self, art, path='/blob1', data=b'x'):
        resp = self.request('PUT', art['self'] + path, raw=data,
                            content_type='application/octet-stream')
        self.assertEqual(204, resp.status_int, resp.text)

    def ready(self, name='a', **fields):
        art = self.make(name, str_on_activate='set', **fields)
        self.upload(art)
        return art

    def activated(self, name='a', **fields):
        art = self.ready(name, **fields)
        self.assertEqual(204, self.action(art, 'activate').status_int)
        return self.request('GET', art['self']).json

    def patch(self, art, ops):
        return self.request('PATCH', art['self'], body=ops,
                            content_type=PATCH)


class TestActivation(LifecycleTest):

    def test_activation_needs_fields_and_blobs_required_on_activation(self):
        art = self.make()
        resp = self.action(art, 'activate')
        self.assertError(400, resp, 'Cannot activate: blob1, '
                         'str_on_activate must be set first')
        self.patch(art, [{'op': 'add', 'path': '/str_on_activate',
                          'value': 'v'}])
        self.assertError(400, self.action(art, 'activate'),
                         'blob1 must be set')
        self.upload(art)
        resp = self.action(art, 'activate')
        self.assertEqual((204, b''), (resp.status_int, resp.body))
        shown = self.request('GET', art['self']).json
        self.assertEqual('active', shown['status'])
        self.assertIsNotNone(shown['activated_at'])

    def test_activating_twice_is_harmless(self):
        art = self.activated()
        self.assertEqual(204, self.action(art, 'activate').status_int)

    def test_activation_while_an_upload_runs_is_409(self):
        art = self.ready()
        self.record_upload(art)
        self.assertError(409, self.action(art, 'activate'),
                         'upload to the artifact is in progress')

    def record_upload(self, art):
        now = datetime.datetime.utcnow()
        with self.glance.engine.begin() as conn:
            conn.execute(models.blob_uploads.insert().values(
                artifact_id=art['id'], field='blob_dict', key='k',
                upload_id=str(uuid.uuid4()), backend='fs',
                process=catalog.this_process(), started_at=now,
                heartbeat_at=now))

    def test_only_mutable_fields_change_after_activation(self):
        art = self.activated(str_mutable='m', list_int=[1])
        resp = self.patch(art, [{'op': 'replace', 'path': '/str1',
                                 'value': 'x'}])
        self.assertError(403, resp, 'only mutable fields may change',
                         'str1')
        for path, value in (('/str_mutable', 'n'), ('/list_int', [2]),
                            ('/description', 'd'), ('/tags', ['t']),
                            ('/metadata', {'k': 'v'})):
            resp = self.patch(art, [{'op': 'replace', 'path': path,
                                     'value': value}])
            self.assertEqual(200, resp.status_int, (path, resp.text))
        self.assertError(403, self.patch(art, [
            {'op': 'replace', 'path': '/name', 'value': 'renamed'}]),
            'name is not')

    def test_blobs_are_frozen_after_activation(self):
        art = self.activated()
        resp = self.request('PUT', art['self'] + '/blob1', raw=b'new',
                            content_type='application/octet-stream')
        self.assertError(409, resp, 'frozen')
        self.assertEqual(b'x', self.request('GET',
                                            art['self'] + '/blob1').body)

    def test_deactivate_and_reactivate_switch_and_repeat_harmlessly(self):
        art = self.activated()
        for action, status in (('deactivate', 'deactivated'),
                               ('deactivate', 'deactivated'),
                               ('reactivate', 'active'),
                               ('reactivate', 'active')):
            self.assertEqual(204, self.action(art, action).status_int)
            self.assertEqual(status, self.request(
                'GET', art['self']).json['status'])

    def test_deactivate_of_a_drafted_artifact_is_403(self):
        art = self.make()
        self.assertError(403, self.action(art, 'deactivate'),
                         'Not allowed to deactivate an artifact in status '
                         'drafted')
        self.assertError(403, self.action(art, 'reactivate'),
                         'status drafted')

    def test_activate_of_a_deactivated_artifact_is_409(self):
        art = self.activated()
        self.action(art, 'deactivate')
        self.assertError(409, self.action(art, 'activate'),
                         'reactivate it instead')

    def test_unknown_action_is_404(self):
        art = self.make()
        self.assertError(404, self.action(art, 'publish'),
                         "Unknown action 'publish'")

    def test_deactivated_data_is_for_admins_only(self):
        owner = test_base.identity('p1')
        admin = test_base.identity('p0', roles=['admin', 'member'])
        art = self.request('POST', S, identity=owner, body={
            'name': 'd', 'str_on_activate': 'v'}).json
        self.assertEqual(204, self.request(
            'PUT', art['self'] + '/blob1', raw=b'data', identity=owner,
            content_type='application/octet-stream').status_int)
        self.assertEqual(204, self.action(art, 'activate', owner).status_int)
        self.assertEqual(204, self.action(art, 'deactivate',
                                          owner).status_int)
        resp = self.request('GET', art['self'] + '/blob1', identity=owner)
        self.assertError(403, resp, 'deactivated')
        self.assertEqual(200, self.request('GET', art['self'],
                                           identity=owner).status_int)
        resp = self.request('GET', art['self'] + '/blob1', identity=admin)
        self.assertEqual((200, b'data'), (resp.status_int, resp.body))

    def test_delete_works_in_every_status(self):
        for status_steps in ([], ['activate'], ['activate', 'deactivate']):
            art = self.ready(name='del-%d' % len(status_steps))
            for step in status_steps:
                self.action(art, step)
            self.assertEqual(204, self.request('DELETE',
                                               art['self']).status_int)


class TestReferences(LifecycleTest):

    def test_reference_to_a_missing_artifact_is_400(self):
        resp = self.request('POST', S, body={'name': 'r',
                                             'ref1': str(uuid.uuid4())})
        self.assertError(400, resp, "'ref1' refers to", 'no artifact with '
                         'that id that you can see')

    def test_reference_to_an_invisible_artifact_is_400(self):
        theirs = self.request('POST', S, body={'name': 't'},
                              identity=test_base.identity('p2')).json
        resp = self.request('POST', S, body={'name': 'r',
                                             'ref1': theirs['id']},
                            identity=test_base.identity('p1'))
        self.assertError(400, resp, 'that you can see')

    def test_reference_to_a_type_not_allowed_is_400(self):
        env = self.create('heat_environments', name='e')
        resp = self.request('POST', S, body={'name': 'r',
                                             'ref1': env['id']})
        self.assertError(400, resp, 'a heat_environments; it takes '
                         'sample_artifacts')
        tmpl = self.create('heat_templates', name='t')
        resp = self.request('POST', '/v2/artifacts/heat_templates', body={
            'name': 'h', 'environments': {'prod': tmpl['id']}})
        self.assertError(400, resp, 'it takes heat_environments')
        self.create('heat_templates', name='h2',
                    environments={'prod': env['id']})

    def test_version_range_is_enforced(self):
        old = self.make('t', version='0.9.0')
        new = self.make('t', version='1.2.0')
        resp = self.request('POST', S, body={'name': 'r',
                                             'ref_v1': old['id']})
        self.assertError(400, resp, 'at version 0.9.0; it takes versions '
                         '>=1.0.0,<2.0.0')
        self.make('r', ref_v1=new['id'])

    def test_self_reference_and_cycles_are_refused(self):
        a = self.make('a')
        resp = self.patch(a, [{'op': 'add', 'path': '/ref1',
                               'value': a['id']}])
        self.assertError(400, resp, 'cannot refer to the artifact itself')
        b = self.make('b', ref1=a['id'])
        c = self.make('c', ref_list=[b['id']])
        resp = self.patch(a, [{'op': 'add', 'path': '/ref_dict/x',
                               'value': c['id']}])
        self.assertError(409, resp, 'would make a cycle')
        self.assertEqual({}, self.request('GET', a['self']).json['ref_dict'])

    def test_a_cycle_is_found_at_any_depth(self):
        # A chain of 1500 artifacts, each referring to the one before
        # (written straight into the tables: the API would take long):
        # the first may not refer to the last. The check is one recursive
        # query, not an artifact read per step that gives up after 1000.
        first = self.make('link-0')
        with self.glance.engine.begin() as conn:
            row = dict(conn.execute(models.artifacts.select().where(
                models.artifacts.c.id == first['id'])).first()._mapping)
            chain, rows, refs = [first['id']], [], []
            for i in range(1, 1500):
                link = str(uuid.uuid4())
                rows.append(dict(row, id=link, name='link-%d' % i))
                refs.append({'artifact_id': link, 'name': 'ref1',
                             'position': None, 'key': None,
                             'str_value': chain[-1]})
                chain.append(link)
            conn.execute(models.artifacts.insert(), rows)
            conn.execute(models.properties.insert(), refs)
        resp = self.patch(first, [{'op': 'add', 'path': '/ref1',
                                   'value': chain[-1]}])
        self.assertError(409, resp, 'would make a cycle: %s refers'
                         % chain[-1])
        self.assertIsNone(self.request('GET', first['self']).json['ref1'])
        # What leads nowhere back is no cycle.
        other = self.make('other')
        self.assertEqual(200, self.patch(first, [
            {'op': 'add', 'path': '/ref1', 'value': other['id']}]).status_int)

    def test_activation_needs_referenced_artifacts_active(self):
        dep = self.ready('dep')
        art = self.ready('app', ref_list=[dep['id']])
        resp = self.action(art, 'activate')
        self.assertError(409, resp, "'ref_list' refers to %s, which is "
                         'drafted' % dep['id'])
        self.assertEqual(204, self.action(dep, 'activate').status_int)
        self.assertEqual(204, self.action(art, 'activate').status_int)

    def test_a_referenced_artifact_cannot_be_deleted(self):
        dep = self.make('dep')
        user = self.make('user', ref_dict={'main': dep['id']})
        resp = self.request('DELETE', dep['self'])
        self.assertError(409, resp, 'is referenced by sample_artifacts/%s '
                         '(user 0.0.0)' % user['id'])
        self.patch(user, [{'op': 'remove', 'path': '/ref_dict/main'}])
        self.assertEqual(204, self.request('DELETE', dep['self']).status_int)

    def test_referrers_the_caller_cannot_see_are_counted_not_named(self):
        owner = test_base.identity('p1')
        dep = self.request('POST', S, identity=owner, body={
            'name': 'dep', 'visibility': 'community'}).json
        self.request('POST', S, identity=test_base.identity('p2'),
                     body={'name': 'theirs', 'ref1': dep['id']})
        resp = self.request('DELETE', dep['self'], identity=owner)
        self.assertError(409, resp, '1 artifact(s) you cannot see')
        self.assertNotIn('theirs', resp.json['message'])

    def test_dependency_graph_direct_and_transitive(self):
        c = self.make('c')
        b = self.make('b', ref1=c['id'])
        a = self.make('a', ref_list=[b['id']], ref_dict={'x': c['id']})
        direct = self.request('GET', a['self'] + '?dependencies=direct')
        self.assertEqual(200, direct.status_int)
        graph = direct.json['dependency_graph']
        self.assertEqual({b['id'], c['id']},
                         {n['id'] for n in graph['artifacts']})
        self.assertEqual([{'from': a['id'], 'to': c['id'],
                           'field': 'ref_dict', 'key': 'x'},
                          {'from': a['id'], 'to': b['id'],
                           'field': 'ref_list', 'key': 0}],
                         graph['references'])
        full = self.request('GET', a['self'] + '?dependencies=transitive')
        edges = full.json['dependency_graph']['references']
        self.assertIn({'from': b['id'], 'to': c['id'], 'field': 'ref1',
                       'key': None}, edges)
        self.assertNotIn('dependency_graph',
                         self.request('GET', a['self']).json)

    def test_bad_dependencies_mode_is_400(self):
        a = self.make('a')
        self.assertError(400, self.request('GET', a['self'] +
                                           '?dependencies=all'),
                         'direct or transitive')


class TestTags(LifecycleTest):

    def test_put_and_delete_tags(self):
        art = self.make(tags=['a'])
        url = art['self'] + '/tags/'
        self.assertEqual(204, self.request('PUT', url + 'b').status_int)
        self.assertEqual(204, self.request('PUT', url + 'b').status_int)
        self.assertEqual(['a', 'b'], self.request('GET',
                                                  art['self']).json['tags'])
        self.assertEqual(204, self.request('DELETE', url + 'a').status_int)
        self.assertError(404, self.request('DELETE', url + 'a'),
                         "has no tag 'a'")
        self.assertEqual(['b'], self.request('GET',
                                             art['self']).json['tags'])

    def test_tag_rules(self):
        art = self.make(tags=['t%d' % i for i in range(128)])
        url = art['self'] + '/tags/'
        self.assertError(413, self.request('PUT', url + 'one-more'),
                         'Maximum tag count of 128')
        self.assertEqual(204, self.request('PUT', url + 't5').status_int)
        self.assertError(400, self.request('PUT', url + 'x' * 256),
                         'at most 255 characters')

    def test_tags_stay_mutable_after_activation(self):
        art = self.activated()
        self.assertEqual(204, self.request(
            'PUT', art['self'] + '/tags/released').status_int)

    def test_other_projects_cannot_tag(self):
        art = self.request('POST', S, body={'name': 'c',
                                            'visibility': 'community'},
                           identity=test_base.identity('p1')).json
        resp = self.request('PUT', art['self'] + '/tags/x',
                            identity=test_base.identity('p2'))
        self.assertEqual(403, resp.status_int)
