"""GET /v2/artifacts/{type} and /v2/artifacts/all against an oracle.

One seed of about 150 artifacts, made through the API by four projects
and an admin (two types, names in several projects, pre-release and
multi-digit versions, the four visibilities, shares accepted, pending
and rejected, tags, statuses, Murano package types and display names
that are sometimes missing), is listed by six callers under many query
shapes. Every list is walked page by page through its ``next`` links
and must give, in order, exactly the ids that a plain Python model of
the list says: who lists what, filters, sort keys with missing values
last both ways and ``id`` after them in the last key's direction, and
``version=latest`` per (type, name) among the listed matches. A walk
that starts at a marker from the middle of the model's order, with pages
of another size, must give the rest of it.

The API shows ``created_at`` to the second while the database keeps
microseconds; the seed therefore sets every stored ``created_at`` to a
whole second of its own choosing (about four artifacts a second, not
in creation order), so that the shown value is the one lists sort by
and ties are broken by id.

Every string the lists sort by (names, display names, owners, package
types) is ASCII letters of one case, so that every database collation
orders it as Python does.

Seeding takes a few seconds, so one test method checks every list; each
mismatch is collected rather than raised (testtools runs subTest blocks
as plain code), so that one run names every caller and query whose list
is wrong, with the first differing ids shown as
type:name@version/owner/visibility.
"""

import datetime
import functools
import random

from glance.artifacts import semver
from glance.db.artifacts import models
from tests import base as test_base
from tests.functional import base

ADMIN_PROJECT = 'admins'
PROJECTS = ('proja', 'projb', 'projc', 'projd')
ADMIN = test_base.identity(ADMIN_PROJECT,
                           roles=['admin', 'member', 'reader'])
IDENTITIES = {p: test_base.identity(p) for p in PROJECTS + ('proje',)}
IDENTITIES[ADMIN_PROJECT] = ADMIN

# (label, project or None for the admin, extra query, whether to run every
# shape or only those about who lists what: see Shape.about_listing)
CALLERS = [
    ('admin', None, '', True),
    ('A', 'proja', '', True),
    ('B', 'projb', '', True),
    ('B member_status=all', 'projb', 'member_status=all', False),
    ('B member_status=pending', 'projb', 'member_status=pending', False),
    ('E (owns nothing)', 'proje', '', True),
]

TYPES = {'heat_templates': ('web', 'db', 'cache', 'queue', 'mail'),
         'murano_packages': ('web', 'apache', 'mysql', 'nginx')}
BLOB = {'heat_templates': 'template', 'murano_packages': 'package'}
VERSIONS = ('0.9.0', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-beta',
            '1.0.0-rc.1', '1.0.0', '1.2.0', '1.9.0', '1.10.0',
            '2.0.0-rc.1', '2.0.0')
TAGS = ('prod', 'dev', 'gpu', 'legacy')
DISPLAY_NAMES = ('alpha', 'beta', 'gamma', 'delta', None, None)
EPOCH = datetime.datetime(2024, 5, 1, 12, 0, 0)
SECONDS = 40
LIMIT = 7
MARKER_LIMIT = 20


def plan():
    """The artifacts to make, in the order to make them (fixed seed)."""
    rng = random.Random(20240501)
    specs = []
    for type_name, names in sorted(TYPES.items()):
        for name in names:
            for owner in PROJECTS:
                for version in rng.sample(VERSIONS, rng.randint(2, 5)):
                    specs.append(_spec(rng, type_name, name, version,
                                       owner))
            # The admin's project publishes one version of some names.
            if rng.random() < 0.5:
                specs.append(_spec(rng, type_name, name,
                                   rng.choice(VERSIONS), ADMIN_PROJECT,
                                   visibility='public'))
    rng.shuffle(specs)
    for spec in specs:
        spec['created_at'] = EPOCH + datetime.timedelta(
            seconds=rng.randrange(SECONDS))
    return specs


def _spec(rng, type_name, name, version, owner, visibility=None):
    visibility = visibility or rng.choices(
        ('private', 'public', 'shared', 'community'), (4, 2, 3, 1.5))[0]
    spec = {'type_name': type_name, 'name': name, 'version': version,
            'owner': owner, 'visibility': visibility,
            'tags': sorted(rng.sample(TAGS, rng.randint(0, 2))),
            'members': {}, 'unshare': False,
            'status': rng.choices(('drafted', 'active', 'deactivated'),
                                  (8, 1.5, 0.7))[0]}
    if visibility == 'shared':
        if owner != 'projb':
            spec['members']['projb'] = rng.choice(
                ('accepted', 'pending', 'rejected'))
        if owner != 'proja' and rng.random() < 0.4:
            spec['members']['proja'] = rng.choice(('accepted', 'pending'))
        if owner != 'projc' and rng.random() < 0.3:
            spec['members']['projc'] = 'accepted'
        # A membership outlives a change back to private, and gives
        # nothing then.
        spec['unshare'] = bool(spec['members']) and rng.random() < 0.12
    if type_name == 'murano_packages':
        spec['package_type'] = rng.choice(('Application', 'Library'))
        spec['display_name'] = rng.choice(DISPLAY_NAMES)
    return spec


# -- the oracle --------------------------------------------------------------

def listed(record, caller, member_status, visibility_filtered):
    """Whether ``caller`` (a project, None for the admin) lists it."""
    if caller is None:
        return True
    visibility = record['visibility']
    if visibility == 'public' or record['owner'] == caller:
        return True
    if visibility == 'community':
        return visibility_filtered
    status = record['members'].get(caller)
    return (visibility == 'shared' and status is not None and
            member_status in (status, 'all'))


def _key(record, field):
    if field == 'version':
        return semver.sort_key(record['version'])
    return record.get(field)


def ordered(records, sort):
    """``records`` sorted by ``sort`` [(field, 'asc'|'desc')]; missing
    values last in either direction; id after the keys, in the direction
    of the last one."""
    keys = list(sort)
    if 'id' not in [k for k, _d in keys]:
        keys.append(('id', keys[-1][1]))

    def compare(a, b):
        for field, direction in keys:
            x, y = _key(a, field), _key(b, field)
            if x == y:
                continue
            if x is None or y is None:
                return 1 if x is None else -1
            less = -1 if x < y else 1
            return less if direction == 'asc' else -less
        return 0
    return sorted(records, key=functools.cmp_to_key(compare))


def latest(records):
    """Those of ``records`` whose version is the highest of their (type,
    name) among ``records``."""
    top = {}
    for r in records:
        group = (r['type_name'], r['name'])
        top[group] = max(top.get(group, ''), semver.sort_key(r['version']))
    return [r for r in records
            if semver.sort_key(r['version']) == top[(r['type_name'],
                                                     r['name'])]]


def in_range(low=None, high=None):
    """A filter on versions: ``low`` <= version < ``high``."""
    def match(r):
        key = semver.sort_key(r['version'])
        return ((low is None or key >= semver.sort_key(low)) and
                (high is None or key < semver.sort_key(high)))
    return match


class Shape(object):
    """A list query and what it means: which records match, in which
    order, whether only the latest versions count."""

    def __init__(self, query, match=None, sort=(('created_at', 'desc'),),
                 is_latest=False):
        self.query = query
        self.match = match or (lambda r: True)
        self.sort = sort
        self.is_latest = is_latest
        self.visibility_filtered = any(
            part.startswith('visibility=') for part in query.split('&'))
        # Unfiltered, on visibility, or of the latest versions (which
        # depend on what is listed).
        self.about_listing = (not query or self.visibility_filtered or
                              is_latest)

    def expect(self, records, type_name, caller, member_status):
        chosen = [r for r in records
                  if (type_name is None or r['type_name'] == type_name) and
                  self.match(r) and
                  listed(r, caller, member_status,
                         self.visibility_filtered)]
        if self.is_latest:
            chosen = latest(chosen)
        return [r['id'] for r in ordered(chosen, self.sort)]


def tagged(*tags):
    return lambda r: set(tags) <= set(r['tags'])


def field_is(field, *values):
    return lambda r: r.get(field) in values


ASC, DESC = 'asc', 'desc'

COMMON_SHAPES = [
    Shape(''),
    Shape('sort=created_at:asc', sort=[('created_at', ASC)]),
    Shape('sort=created_at:desc', sort=[('created_at', DESC)]),
    Shape('sort=name:asc', sort=[('name', ASC)]),
    Shape('sort=name:desc', sort=[('name', DESC)]),
    Shape('sort=version:asc', sort=[('version', ASC)]),
    Shape('sort=version:desc', sort=[('version', DESC)]),
    Shape('sort=name:asc,version:desc',
          sort=[('name', ASC), ('version', DESC)]),
    Shape('sort=visibility:asc,created_at:asc,id:desc',
          sort=[('visibility', ASC), ('created_at', ASC), ('id', DESC)]),
    Shape('name=web', field_is('name', 'web')),
    Shape('name=in:db,mail&sort=version:asc', field_is('name', 'db', 'mail'),
          sort=[('version', ASC)]),
    Shape('owner=projc', field_is('owner', 'projc')),
    Shape('owner=neq:proja&sort=name:asc',
          lambda r: r['owner'] != 'proja', sort=[('name', ASC)]),
    Shape('tags=prod', tagged('prod')),
    Shape('tags=prod&tags=gpu', tagged('prod', 'gpu')),
    Shape('status=active', field_is('status', 'active')),
    Shape('status=in:active,deactivated&sort=name:desc',
          field_is('status', 'active', 'deactivated'),
          sort=[('name', DESC)]),
    Shape('visibility=public', field_is('visibility', 'public')),
    Shape('visibility=community', field_is('visibility', 'community')),
    Shape('visibility=shared', field_is('visibility', 'shared')),
    Shape('visibility=private', field_is('visibility', 'private')),
    Shape('visibility=in:public,community&sort=version:asc',
          field_is('visibility', 'public', 'community'),
          sort=[('version', ASC)]),
    Shape('version=gte:1.0.0&version=lt:2.0.0&sort=version:asc',
          in_range('1.0.0', '2.0.0'), sort=[('version', ASC)]),
    Shape('version=lt:1.0.0&sort=version:desc',
          in_range(high='1.0.0'), sort=[('version', DESC)]),
    Shape('created_at=gte:2024-05-01T12:00:20Z&sort=created_at:asc',
          lambda r: r['created_at'] >= EPOCH + datetime.timedelta(
              seconds=20), sort=[('created_at', ASC)]),
    Shape('name=web&tags=prod&visibility=shared',
          lambda r: (r['name'] == 'web' and 'prod' in r['tags'] and
                     r['visibility'] == 'shared')),
    Shape('owner=projb&status=drafted&version=gte:1.0.0-beta',
          lambda r: (r['owner'] == 'projb' and r['status'] == 'drafted' and
                     in_range('1.0.0-beta')(r))),
    Shape('version=latest', is_latest=True),
    Shape('version=latest&sort=name:asc', is_latest=True,
          sort=[('name', ASC)]),
    Shape('version=latest&tags=prod&sort=name:asc,version:asc',
          tagged('prod'), is_latest=True,
          sort=[('name', ASC), ('version', ASC)]),
    Shape('version=latest&visibility=public', field_is('visibility',
                                                       'public'),
          is_latest=True),
    Shape('version=latest&visibility=community&sort=name:desc',
          field_is('visibility', 'community'), is_latest=True,
          sort=[('name', DESC)]),
    Shape('version=latest&owner=proja&sort=version:desc',
          field_is('owner', 'proja'), is_latest=True,
          sort=[('version', DESC)]),
    Shape('version=latest&version=lt:2.0.0-rc.1&sort=name:asc',
          in_range(high='2.0.0-rc.1'), is_latest=True, sort=[('name', ASC)]),
    Shape('version=latest&version=lt:1.0.0&sort=name:asc,owner:asc',
          in_range(high='1.0.0'), is_latest=True,
          sort=[('name', ASC), ('owner', ASC)]),
]

MURANO_SHAPES = [
    Shape('sort=display_name:asc', sort=[('display_name', ASC)]),
    Shape('sort=display_name:desc', sort=[('display_name', DESC)]),
    Shape('sort=display_name:asc,name:desc,version:asc',
          sort=[('display_name', ASC), ('name', DESC), ('version', ASC)]),
    Shape('sort=package_type:desc,display_name:desc',
          sort=[('package_type', DESC), ('display_name', DESC)]),
    Shape('package_type=Library', field_is('package_type', 'Library')),
    Shape('package_type=in:Library&sort=name:asc',
          field_is('package_type', 'Library'), sort=[('name', ASC)]),
    Shape('display_name=in:alpha,gamma&sort=display_name:asc',
          field_is('display_name', 'alpha', 'gamma'),
          sort=[('display_name', ASC)]),
    Shape('display_name=neq:alpha&sort=display_name:desc',
          lambda r: r['display_name'] != 'alpha',
          sort=[('display_name', DESC)]),
    Shape('package_type=Application&tags=dev&visibility=in:shared,public',
          lambda r: (r['package_type'] == 'Application' and
                     'dev' in r['tags'] and
                     r['visibility'] in ('shared', 'public'))),
    Shape('version=latest&package_type=Library&sort=display_name:asc',
          field_is('package_type', 'Library'), is_latest=True,
          sort=[('display_name', ASC)]),
]

ALL_SHAPES = [
    Shape(''),
    Shape('name=web', field_is('name', 'web')),
    Shape('name=web&sort=type_name:asc,version:desc',
          field_is('name', 'web'),
          sort=[('type_name', ASC), ('version', DESC)]),
    Shape('version=latest&name=web', field_is('name', 'web'),
          is_latest=True),
    Shape('version=latest&sort=name:asc', is_latest=True,
          sort=[('name', ASC)]),
    Shape('type_name=murano_packages&sort=name:asc',
          field_is('type_name', 'murano_packages'), sort=[('name', ASC)]),
]

# The common shapes run on one type; the other runs those about its own
# fields and a few to show it lists as the first does.
LISTS = [('heat_templates', COMMON_SHAPES),
         ('murano_packages', [s for s in COMMON_SHAPES if s.query in (
             '', 'sort=version:asc', 'visibility=community',
             'version=latest')] + MURANO_SHAPES),
         ('all', ALL_SHAPES)]


class TestListsAgainstTheOracle(base.FunctionalTest):

    def setUp(self):
        super(TestListsAgainstTheOracle, self).setUp()
        self.records = self.seed()
        self.labels = {r['id']: '%s:%s@%s/%s/%s' % (
            r['type_name'].split('_')[0], r['name'], r['version'], r['owner'],
            r['visibility']) for r in self.records}

    # -- seeding -------------------------------------------------------------

    def call(self, method, path, who, body=None, raw=None, expect=200,
             content_type=None):
        resp = self.request(method, path, body=body, raw=raw,
                            identity=IDENTITIES[who],
                            content_type=content_type)
        self.assertEqual(expect, resp.status_int,
                         '%s %s: %s' % (method, path, resp.text))
        return resp

    def make(self, spec):
        owner, type_name = spec['owner'], spec['type_name']
        body = {'name': spec['name'], 'version': spec['version'],
                'tags': spec['tags'],
                'visibility': ('private' if spec['visibility'] == 'public'
                               and owner != ADMIN_PROJECT
                               else spec['visibility'])}
        for field in ('package_type', 'display_name'):
            if spec.get(field) is not None:
                body[field] = spec[field]
        art = self.call('POST', '/v2/artifacts/' + type_name, owner,
                        body=body, expect=201).json
        url = art['self']
        if body['visibility'] != spec['visibility']:
            self.call('PATCH', url, ADMIN_PROJECT, body=[
                {'op': 'replace', 'path': '/visibility',
                 'value': spec['visibility']}])
        for member, status in sorted(spec['members'].items()):
            self.call('POST', url + '/members', owner,
                      body={'member': member})
            if status != 'pending':
                self.call('PUT', '%s/members/%s' % (url, member), member,
                          body={'status': status})
        visibility = spec['visibility']
        if spec['unshare']:
            visibility = 'private'
            self.call('PATCH', url, owner, body=[
                {'op': 'replace', 'path': '/visibility',
                 'value': visibility}])
        if spec['status'] != 'drafted':
            self.call('PUT', '%s/%s' % (url, BLOB[type_name]), owner,
                      raw=b'x', content_type='application/octet-stream',
                      expect=204)
            self.call('POST', url + '/actions/activate', owner, expect=204)
        if spec['status'] == 'deactivated':
            self.call('POST', url + '/actions/deactivate', owner,
                      expect=204)
        return dict(
            id=art['id'], type_name=type_name, name=art['name'],
            version=art['version'], owner=art['owner'], tags=art['tags'],
            visibility=visibility, status=spec['status'],
            members=spec['members'], created_at=spec['created_at'],
            package_type=art.get('package_type'),
            display_name=art.get('display_name'))

    def seed(self):
        records = [self.make(spec) for spec in plan()]
        table = models.artifacts
        with self.glance.engine.begin() as conn:
            for r in records:
                conn.execute(table.update().where(table.c.id == r['id'])
                             .values(created_at=r['created_at']))
        return records

    # -- reading -------------------------------------------------------------

    def walk(self, url, limit, who, problems, where):
        """The ids of every page from ``url`` on, by the next links."""
        ids = []
        while url:
            resp = self.request('GET', url, identity=who)
            if resp.status_int != 200:
                problems.append('%s: GET %s gave %d %s'
                                % (where, url, resp.status_int, resp.text))
                return None
            page = [a['id'] for a in resp.json['artifacts']]
            if len(page) > limit:
                problems.append('%s: a page of %d > limit %d'
                                % (where, len(page), limit))
            ids += page
            url = resp.json.get('next')
            if url is not None and not url.startswith('/v2/artifacts/'):
                problems.append('%s: next link %s' % (where, url))
                return None
            if len(ids) > len(self.records) + limit:
                problems.append('%s: the next links do not end' % where)
                return None
        return ids

    def show(self, ids):
        return [self.labels.get(i, i) for i in ids]

    def compare(self, problems, where, expected, got):
        if got is None or got == expected:
            return
        first = next((i for i, (e, g) in enumerate(zip(expected, got))
                      if e != g), min(len(expected), len(got)))
        missing = [i for i in expected if i not in got]
        extra = [i for i in got if i not in expected]
        problems.append(
            '%s: expected %d ids, got %d; first difference at %d\n'
            '    expected %s\n    got      %s\n    missing  %s\n'
            '    extra    %s'
            % (where, len(expected), len(got), first,
               self.show(expected[first:first + 4]),
               self.show(got[first:first + 4]), self.show(missing),
               self.show(extra)))

    def check(self, type_name, shapes, problems):
        url = '/v2/artifacts/' + type_name
        only = None if type_name == 'all' else type_name
        for label, caller, extra, every_shape in CALLERS:
            who = IDENTITIES[caller or ADMIN_PROJECT]
            member_status = extra.partition('=')[2] or 'accepted'
            for shape in shapes:
                if not (every_shape or shape.about_listing):
                    continue
                query = '&'.join(q for q in (shape.query, extra) if q)
                where = 'GET %s?%s as %s' % (url, query, label)
                expected = shape.expect(self.records, only, caller,
                                        member_status)
                got = self.walk('%s?%s&limit=%d' % (url, query, LIMIT),
                                LIMIT, who, problems, where)
                self.compare(problems, where, expected, got)
                if len(expected) < 2:
                    continue
                # From a marker that is no page's end, with pages of
                # another size.
                middle = len(expected) // 2
                where += ' from the marker at %d' % middle
                got = self.walk('%s?%s&limit=%d&marker=%s'
                                % (url, query, MARKER_LIMIT,
                                   expected[middle]),
                                MARKER_LIMIT, who, problems, where)
                self.compare(problems, where, expected[middle + 1:], got)

    def check_the_seed(self):
        """The seed has what the lists are meant to tell apart."""
        records = self.records
        self.assertTrue(120 <= len(records) <= 200, len(records))
        for field, values in (
                ('visibility', {'private', 'public', 'shared',
                                'community'}),
                ('status', {'drafted', 'active', 'deactivated'}),
                ('owner', set(PROJECTS + (ADMIN_PROJECT,)))):
            self.assertEqual(values, {r[field] for r in records}, field)
        self.assertEqual({'accepted', 'pending', 'rejected'},
                         {r['members']['projb'] for r in records
                          if 'projb' in r['members']})
        self.assertTrue(any(r['members'] and r['visibility'] == 'private'
                            for r in records))
        murano = [r for r in records if r['type_name'] == 'murano_packages']
        self.assertIn(None, {r['display_name'] for r in murano})
        self.assertEqual({'Application', 'Library'},
                         {r['package_type'] for r in murano})
        # Many created_at ties, broken by id.
        self.assertLess(len({r['created_at'] for r in records}),
                        len(records) // 3)
        # Somewhere the latest version B lists is not the latest there is;
        # somewhere 1.10.0 is the latest over 1.9.0, and 1.0.0-rc.1 over
        # 1.0.0-beta.
        everything = Shape('version=latest', is_latest=True)
        for_b = everything.expect(records, None, 'projb', 'accepted')
        for_admin = everything.expect(records, None, None, 'accepted')
        self.assertTrue(set(for_b) - set(for_admin))
        for below, winner, loser in (('2.0.0-rc.1', '1.10.0', '1.9.0'),
                                     ('1.0.0', '1.0.0-rc.1', '1.0.0-beta')):
            groups = {}
            for r in records:
                if in_range(high=below)(r):
                    groups.setdefault((r['type_name'], r['name']),
                                      set()).add(r['version'])
            self.assertTrue(any({winner, loser} <= versions and
                                max(versions, key=semver.sort_key) == winner
                                for versions in groups.values()))
        # Shown as stored: the created_at the oracle sorts by.
        first = min(records, key=lambda r: r['id'])
        resp = self.request('GET', '/v2/artifacts/all?limit=1&sort=id:asc',
                            identity=ADMIN)
        self.assertEqual(first['created_at'].strftime('%Y-%m-%dT%H:%M:%SZ'),
                         resp.json['artifacts'][0]['created_at'])

    # -- the test ------------------------------------------------------------

    def test_every_caller_lists_what_the_oracle_says_for_every_shape(self):
        self.check_the_seed()
        problems = []
        for type_name, shapes in LISTS:
            self.check(type_name, shapes, problems)
        if problems:
            self.fail('%d lists differ from the oracle:\n%s'
                      % (len(problems), '\n'.join(problems)))
