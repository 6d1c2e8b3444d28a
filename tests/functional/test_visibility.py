"""Who sees and changes what, with the identity headers keystonemiddleware
sets, through Glance's context middleware."""

import datetime

from glance.db.artifacts import models
from tests import base as test_base
from tests.functional import base

URL = '/v2/artifacts/heat_templates'


class TestVisibility(base.FunctionalTest):

    def setUp(self):
        super(TestVisibility, self).setUp()
        self.owner = test_base.identity('owner-project')
        self.reader = test_base.identity('owner-project', roles=['reader'])
        self.other = test_base.identity('other-project')
        self.admin = test_base.identity('admin-project',
                                        roles=['admin', 'member',
                                               'reader'])

    def make(self, visibility, who=None, name=None):
        resp = self.request('POST', URL,
                            body={'name': name or visibility,
                                  'visibility': visibility},
                            identity=who or self.owner)
        self.assertEqual(201, resp.status_int, resp.text)
        return resp.json

    def listed(self, who, query=''):
        resp = self.request('GET', URL + query, identity=who)
        self.assertEqual(200, resp.status_int, resp.text)
        return sorted(a['name'] for a in resp.json['artifacts'])

    def share(self, artifact, project, status):
        now = datetime.datetime.utcnow()
        with self.glance.engine.begin() as conn:
            conn.execute(models.members.insert().values(
                artifact_id=artifact['id'], member=project, status=status,
                created_at=now, updated_at=now))

    def status(self, method, artifact, who, body=None):
        return self.request(method, artifact['self'], body=body,
                            identity=who).status_int

    def test_owner_is_the_creating_project(self):
        art = self.make('private')
        self.assertEqual('owner-project', art['owner'])

    def test_private_is_404_to_other_projects(self):
        art = self.make('private')
        self.assertEqual(200, self.status('GET', art, self.owner))
        self.assertEqual(200, self.status('GET', art, self.reader))
        self.assertEqual(404, self.status('GET', art, self.other))
        self.assertEqual(404, self.status('DELETE', art, self.other))
        self.assertEqual(404, self.status(
            'PATCH', art, self.other,
            [{'op': 'replace', 'path': '/name', 'value': 'x'}]))
        self.assertEqual([], self.listed(self.other))
        self.assertEqual(['private'], self.listed(self.owner))

    def test_public_needs_admin_and_is_seen_by_everyone(self):
        resp = self.request('POST', URL, body={'name': 'p',
                                               'visibility': 'public'},
                            identity=self.owner)
        self.assertEqual(403, resp.status_int)
        self.assertIn('artifacts:publicize_artifact', resp.json['message'])
        art = self.make('public', who=self.admin)
        self.assertEqual(200, self.status('GET', art, self.other))
        self.assertEqual(['public'], self.listed(self.other))

    def test_other_projects_cannot_change_a_visible_artifact(self):
        art = self.make('public', who=self.admin)
        self.assertEqual(403, self.status('DELETE', art, self.other))
        self.assertEqual(403, self.status(
            'PATCH', art, self.other,
            [{'op': 'replace', 'path': '/name', 'value': 'x'}]))
        self.assertEqual('public',
                         self.request('GET', art['self'],
                                      identity=self.admin).json['name'])

    def test_community_is_readable_but_listed_only_on_request(self):
        art = self.make('community')
        self.assertEqual(200, self.status('GET', art, self.other))
        self.assertEqual([], self.listed(self.other))
        self.assertEqual(['community'],
                         self.listed(self.other, '?visibility=community'))
        self.assertEqual(['community'], self.listed(self.owner))

    def test_shared_is_visible_to_members_listed_once_accepted(self):
        art = self.make('shared')
        self.assertEqual(404, self.status('GET', art, self.other))
        self.share(art, 'other-project', 'pending')
        self.assertEqual(200, self.status('GET', art, self.other))
        self.assertEqual([], self.listed(self.other))
        with self.glance.engine.begin() as conn:
            conn.execute(models.members.update().values(status='accepted'))
        self.assertEqual(['shared'], self.listed(self.other))

    def test_shared_membership_does_not_apply_to_private(self):
        art = self.make('private')
        self.share(art, 'other-project', 'accepted')
        self.assertEqual(404, self.status('GET', art, self.other))

    def test_reader_cannot_create_or_change(self):
        resp = self.request('POST', URL, body={'name': 'r'},
                            identity=self.reader)
        self.assertEqual(403, resp.status_int)
        art = self.make('private')
        self.assertEqual(403, self.status(
            'PATCH', art, self.reader,
            [{'op': 'replace', 'path': '/name', 'value': 'x'}]))
        self.assertEqual(403, self.status('DELETE', art, self.reader))

    def test_admin_sees_and_changes_every_project_artifact(self):
        art = self.make('private')
        self.make('private', who=self.other, name='theirs')
        self.assertEqual(['private', 'theirs'], self.listed(self.admin))
        self.assertEqual(204, self.status('DELETE', art, self.admin))

    def test_same_name_version_in_two_projects_is_two_artifacts(self):
        self.make('private', name='same')
        self.make('private', who=self.other, name='same')
        self.assertEqual(['same'], self.listed(self.owner))
        self.assertEqual(['same'], self.listed(self.other))

    def test_requests_without_identity_are_401(self):
        resp = self.request('GET', URL, flavor='testauth')
        self.assertEqual(401, resp.status_int)
