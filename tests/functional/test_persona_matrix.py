"""Persona x visibility x action: one test per cell, each asserting the
exact status, through Glance's context middleware fed the identity
headers keystonemiddleware sets.

Personas: a member and a reader of the owning project, a member of
another project, projects the artifact is shared with (pending and
accepted; they are members only of shared artifacts), and an admin.
Rules: what a caller cannot see is 404; what it sees but may not do is
403; readers read; members of the owning project (and admins) change.
"""

import json

from tests import base as test_base
from tests.functional import base

S = '/v2/artifacts/sample_artifacts'
OCTETS = 'application/octet-stream'
PATCH = 'application/openstack-images-v2.1-json-patch'

PERSONAS = {
    'owner_member': test_base.identity('owner'),
    'owner_reader': test_base.identity('owner', roles=['reader']),
    'other_member': test_base.identity('other'),
    'share_pending': test_base.identity('pending'),
    'share_accepted': test_base.identity('accepted'),
    'admin': test_base.identity('admins', roles=['admin', 'member',
                                                 'reader']),
}
VISIBILITIES = ('private', 'shared', 'community', 'public')


def sees(persona, visibility):
    if persona in ('owner_member', 'owner_reader', 'admin'):
        return True
    if visibility in ('public', 'community'):
        return True
    return visibility == 'shared' and persona.startswith('share_')


def listed(persona, visibility):
    if persona in ('owner_member', 'owner_reader', 'admin'):
        return True
    return visibility == 'public' or (visibility == 'shared' and
                                      persona == 'share_accepted')


def changes(persona):
    return persona in ('owner_member', 'admin')


def status_for(ok_status, persona, visibility, allowed=changes):
    if not sees(persona, visibility):
        return 404
    return ok_status if allowed(persona) else 403


# action: (state the artifact must be in, request, expected status)
def expect_show(p, v):
    return 404 if not sees(p, v) else 200


def expect_download(p, v):
    return status_for(200, p, v, lambda p: p != 'owner_reader')


def expect_add_member(p, v):
    if not sees(p, v):
        return 404
    if not changes(p):
        return 403
    return 200 if v == 'shared' else 403


ACTIONS = {
    'show': ('drafted', ('GET', '', None), expect_show),
    'patch': ('drafted', ('PATCH', '', [{'op': 'replace',
                                         'path': '/description',
                                         'value': 'd'}]),
              lambda p, v: status_for(200, p, v)),
    'delete': ('drafted', ('DELETE', '', None),
               lambda p, v: status_for(204, p, v)),
    'upload': ('drafted', ('PUT', '/blob_dict/k', b'data'),
               lambda p, v: status_for(204, p, v)),
    'download': ('ready', ('GET', '/blob1', None), expect_download),
    'activate': ('ready', ('POST', '/actions/activate', None),
                 lambda p, v: status_for(204, p, v)),
    'deactivate': ('active', ('POST', '/actions/deactivate', None),
                   lambda p, v: status_for(204, p, v)),
    'reactivate': ('deactivated', ('POST', '/actions/reactivate', None),
                   lambda p, v: status_for(204, p, v)),
    'tag': ('drafted', ('PUT', '/tags/new', None),
            lambda p, v: status_for(204, p, v)),
    'untag': ('drafted', ('DELETE', '/tags/old', None),
              lambda p, v: status_for(204, p, v)),
    'add_member': ('drafted', ('POST', '/members', {'member': 'newcomer'}),
                   expect_add_member),
    'list_members': ('drafted', ('GET', '/members', None), expect_show),
}


class Cells(object):
    """The matrix's cells over a way of sending requests as a persona;
    tests/e2e/test_keystone.py runs them with real Keystone tokens.

    A subclass gives send(persona, method, path, body) -> (status, text)
    (a bytes body goes as application/octet-stream, a PATCH's as a JSON
    patch, others as JSON) and member_id(persona), the project a share
    persona is a member as; list_path(artifact) is the list request that
    must show the artifact or not, artifact_name() the name of the one a
    cell makes."""

    def list_path(self, art):
        return S

    def artifact_name(self):
        return 'matrix'

    def prepare(self, visibility, state):
        owner = 'owner_member'
        status, text = self.send(owner, 'POST', S, {
            'name': self.artifact_name(), 'str_on_activate': 'v',
            'tags': ['old'], 'visibility': 'private' if visibility == 'public'
            else visibility})
        self.assertEqual(201, status, text)
        art = json.loads(text)
        if visibility == 'public':
            self.send('admin', 'PATCH', art['self'], [
                {'op': 'replace', 'path': '/visibility', 'value': 'public'}])
        if visibility == 'shared':
            for member in ('share_pending', 'share_accepted'):
                self.send(owner, 'POST', art['self'] + '/members',
                          {'member': self.member_id(member)})
            self.send('share_accepted', 'PUT', art['self'] + '/members/' +
                      self.member_id('share_accepted'),
                      {'status': 'accepted'})
        if state != 'drafted':
            self.send(owner, 'PUT', art['self'] + '/blob1', b'blob')
        steps = {'active': ['activate'],
                 'deactivated': ['activate', 'deactivate']}
        for step in steps.get(state, []):
            self.send(owner, 'POST', art['self'] + '/actions/' + step)
        shown = json.loads(self.send(owner, 'GET', art['self'])[1])
        self.assertEqual((visibility, 'drafted' if state == 'ready'
                          else state),
                         (shown['visibility'], shown['status']))
        return art

    def check(self, action, persona, visibility):
        state, (method, path, body), expect = ACTIONS[action]
        art = self.prepare(visibility, state)
        status, text = self.send(persona, method, art['self'] + path, body)
        self.assertEqual(expect(persona, visibility), status, text)

    def check_list(self, persona, visibility):
        art = self.prepare(visibility, 'drafted')
        status, text = self.send(persona, 'GET', self.list_path(art))
        self.assertEqual(200, status, text)
        self.assertEqual(listed(persona, visibility),
                         art['id'] in [a['id'] for a in
                                       json.loads(text)['artifacts']])


def add_cells(cls):
    """One test per action (and list) x persona x visibility on ``cls``,
    a Cells test case."""
    def cell(action, persona, visibility):
        if action == 'list':
            return lambda self: self.check_list(persona, visibility)
        return lambda self: self.check(action, persona, visibility)

    for action in list(ACTIONS) + ['list']:
        for persona in PERSONAS:
            for visibility in VISIBILITIES:
                setattr(cls, 'test_%s_%s_by_%s' % (
                    action, visibility, persona),
                    cell(action, persona, visibility))
    return cls


@add_cells
class PersonaMatrix(Cells, base.FunctionalTest):

    def send(self, persona, method, path, body=None):
        kwargs = {'identity': PERSONAS[persona]}
        if isinstance(body, bytes):
            kwargs.update(raw=body, content_type=OCTETS)
        elif body is not None:
            kwargs.update(body=body, content_type=PATCH
                          if method == 'PATCH' else None)
        resp = self.request(method, path, **kwargs)
        return resp.status_int, resp.text

    def member_id(self, persona):
        return PERSONAS[persona]['X-Project-Id']
