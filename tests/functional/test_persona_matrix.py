"""Persona x visibility x action: one test per cell, each asserting the
exact status, through Glance's context middleware fed the identity
headers keystonemiddleware sets.

Personas: a member and a reader of the owning project, a member of
another project, projects the artifact is shared with (pending and
accepted; they are members only of shared artifacts), and an admin.
Rules: what a caller cannot see is 404; what it sees but may not do is
403; readers read; members of the owning project (and admins) change.
"""

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


class PersonaMatrix(base.FunctionalTest):

    def prepare(self, visibility, state):
        owner = PERSONAS['owner_member']
        art = self.request('POST', S, identity=owner, body={
            'name': 'matrix', 'str_on_activate': 'v', 'tags': ['old'],
            'visibility': 'private' if visibility == 'public'
            else visibility}).json
        if visibility == 'public':
            self.request('PATCH', art['self'], identity=PERSONAS['admin'],
                         content_type=PATCH, body=[
                             {'op': 'replace', 'path': '/visibility',
                              'value': 'public'}])
        if visibility == 'shared':
            for member in ('pending', 'accepted'):
                self.request('POST', art['self'] + '/members',
                             identity=owner, body={'member': member})
            self.request('PUT', art['self'] + '/members/accepted',
                         identity=PERSONAS['share_accepted'],
                         body={'status': 'accepted'})
        if state != 'drafted':
            self.request('PUT', art['self'] + '/blob1', raw=b'blob',
                         content_type=OCTETS, identity=owner)
        steps = {'active': ['activate'],
                 'deactivated': ['activate', 'deactivate']}
        for step in steps.get(state, []):
            self.request('POST', art['self'] + '/actions/' + step,
                         identity=owner)
        shown = self.request('GET', art['self'], identity=owner).json
        self.assertEqual((visibility, 'drafted' if state == 'ready'
                          else state),
                         (shown['visibility'], shown['status']))
        return art

    def check(self, action, persona, visibility):
        state, (method, path, body), expect = ACTIONS[action]
        art = self.prepare(visibility, state)
        kwargs = {'identity': PERSONAS[persona]}
        if isinstance(body, bytes):
            kwargs.update(raw=body, content_type=OCTETS)
        elif body is not None:
            kwargs.update(body=body, content_type=PATCH
                          if method == 'PATCH' else None)
        resp = self.request(method, art['self'] + path, **kwargs)
        self.assertEqual(expect(persona, visibility), resp.status_int,
                         resp.text)

    def check_list(self, persona, visibility):
        art = self.prepare(visibility, 'drafted')
        resp = self.request('GET', S, identity=PERSONAS[persona])
        self.assertEqual(200, resp.status_int)
        self.assertEqual(listed(persona, visibility),
                         art['id'] in [a['id']
                                       for a in resp.json['artifacts']])


def _cell(action, persona, visibility):
    if action == 'list':
        return lambda self: self.check_list(persona, visibility)
    return lambda self: self.check(action, persona, visibility)


for _action in list(ACTIONS) + ['list']:
    for _persona in PERSONAS:
        for _visibility in VISIBILITIES:
            setattr(PersonaMatrix, 'test_%s_%s_by_%s' % (
                _action, _visibility, _persona),
                _cell(_action, _persona, _visibility))
