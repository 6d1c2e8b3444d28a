"""Members of shared artifacts, as image members."""

from tests import base as test_base
from tests.functional import base

S = '/v2/artifacts/sample_artifacts'
OWNER = test_base.identity('owner')
OTHER = test_base.identity('other')
READER = test_base.identity('owner', roles=['reader'])


class TestMembers(base.FunctionalTest):

    def setUp(self):
        super(TestMembers, self).setUp()
        self.art = self.request('POST', S, identity=OWNER, body={
            'name': 'shared', 'visibility': 'shared'}).json
        self.members = self.art['self'] + '/members'

    def add(self, member, who=OWNER):
        return self.request('POST', self.members, body={'member': member},
                            identity=who)

    def test_owner_adds_a_pending_member(self):
        resp = self.add('other')
        self.assertEqual(200, resp.status_int, resp.text)
        self.assertEqual({'artifact_id': self.art['id'],
                          'member_id': 'other', 'status': 'pending',
                          'schema': '/v2/artifacts/schemas/member'},
                         {k: v for k, v in resp.json.items()
                          if k not in ('created_at', 'updated_at')})
        self.assertError(409, self.add('other'), 'is a member of the '
                         'artifact already')

    def test_only_shared_artifacts_take_members(self):
        art = self.request('POST', S, identity=OWNER, body={
            'name': 'private'}).json
        resp = self.request('POST', art['self'] + '/members',
                            body={'member': 'other'}, identity=OWNER)
        self.assertError(403, resp, 'Only shared artifacts have members')

    def test_bad_member_bodies_are_400(self):
        for body in ({}, {'member': ''}, {'member': 5},
                     {'member': 'x', 'extra': 1}, ['other']):
            resp = self.request('POST', self.members, body=body,
                                identity=OWNER)
            self.assertEqual(400, resp.status_int, body)

    def test_member_sees_itself_and_owner_sees_all(self):
        self.add('other')
        self.add('third')
        owner_view = self.request('GET', self.members, identity=OWNER).json
        self.assertEqual(['other', 'third'],
                         [m['member_id'] for m in owner_view['members']])
        member_view = self.request('GET', self.members, identity=OTHER).json
        self.assertEqual(['other'],
                         [m['member_id'] for m in member_view['members']])
        self.assertEqual(404, self.request(
            'GET', self.members + '/third', identity=OTHER).status_int)
        self.assertEqual(200, self.request(
            'GET', self.members + '/other', identity=OTHER).status_int)

    def test_member_accepts_and_then_lists_the_artifact(self):
        self.add('other')
        listed = self.request('GET', S, identity=OTHER).json['artifacts']
        self.assertEqual([], listed)
        pending = self.request('GET', S + '?member_status=pending',
                               identity=OTHER).json['artifacts']
        self.assertEqual([self.art['id']], [a['id'] for a in pending])
        resp = self.request('PUT', self.members + '/other',
                            body={'status': 'accepted'}, identity=OTHER)
        self.assertEqual((200, 'accepted'), (resp.status_int,
                                             resp.json['status']))
        listed = self.request('GET', S, identity=OTHER).json['artifacts']
        self.assertEqual([self.art['id']], [a['id'] for a in listed])
        rejected = self.request('GET', S + '?member_status=rejected',
                                identity=OTHER).json['artifacts']
        self.assertEqual([], rejected)
        everything = self.request('GET', S + '?member_status=all',
                                  identity=OTHER).json['artifacts']
        self.assertEqual(1, len(everything))

    def test_bad_member_status_filter_is_400(self):
        resp = self.request('GET', S + '?member_status=maybe',
                            identity=OTHER)
        self.assertError(400, resp, 'member_status must be one of')

    def test_only_the_member_sets_its_status(self):
        self.add('other')
        resp = self.request('PUT', self.members + '/other',
                            body={'status': 'accepted'}, identity=OWNER)
        self.assertEqual(403, resp.status_int)
        resp = self.request('PUT', self.members + '/other',
                            body={'status': 'maybe'}, identity=OTHER)
        self.assertError(400, resp, 'pending, accepted, rejected')

    def test_owner_removes_a_member_who_then_sees_nothing(self):
        self.add('other')
        self.assertEqual(200, self.request('GET', self.art['self'],
                                           identity=OTHER).status_int)
        resp = self.request('DELETE', self.members + '/other',
                            identity=OWNER)
        self.assertEqual(204, resp.status_int)
        self.assertEqual(404, self.request('GET', self.art['self'],
                                           identity=OTHER).status_int)
        self.assertError(404, self.request('DELETE', self.members + '/other',
                                           identity=OWNER),
                         'not a member')

    def test_member_cannot_add_or_remove_members(self):
        self.add('other')
        self.assertEqual(403, self.add('fourth', who=OTHER).status_int)
        self.assertEqual(403, self.request(
            'DELETE', self.members + '/other', identity=OTHER).status_int)

    def test_reader_of_the_owner_cannot_add_members(self):
        self.assertEqual(403, self.add('other', who=READER).status_int)

    def test_member_schemas(self):
        for name in ('member', 'members'):
            resp = self.request('GET', '/v2/artifacts/schemas/' + name)
            self.assertEqual((200, name), (resp.status_int,
                                           resp.json['name']))
