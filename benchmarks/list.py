#!/usr/bin/env python3
"""Artifact lists and reads at scale against Glance images, on one
glance-api.

    python3 benchmarks/list.py [--database sqlite|mysql|postgresql]
                               [--n 100000] [--samples 60] [--limit 25]
                               [--keep]

Creates a new database (a SQLite file, or a database of its own on the
MariaDB at 127.0.0.1:3306 or the PostgreSQL at 127.0.0.1:5432, dropped
afterwards), migrates Glance's tables and ours, and seeds N artifacts and
N images side by side with bulk inserts (random.Random(42), the same
every run): about N/500 projects (at least 4) of unequal sizes, about N/6
names of 1-14 versions each (SemVer, keyed with glance.artifacts.semver),
2-3 tags each from a vocabulary of 50, visibility 85% private, 7% public,
6% shared (1-3 members, mostly accepted, some pending) and 2% community,
status mostly active, types heat_templates, heat_environments,
murano_packages (package_type Application or Library, display_name) and
tosca_templates, created_at spread over the past year. Artifact rows are
built as the catalog builds them (catalog._values, the data API's
_property_row). Image i mirrors artifact i (name, owner, visibility and
members, tags, created_at; status active, queued for drafted,
deactivated), with disk_format qcow2 or raw, container_format bare, a
size, the artifact's version as its property artifact_version, and the
property package_type where the artifact is a Murano package. Then the
statistics a catalog that grew over time would have: on PostgreSQL an
ANALYZE, as autovacuum (on by default; off on the machines here) runs
after so many new rows; on MariaDB an ANALYZE TABLE of the seeded
tables, as InnoDB recalculates its persistent statistics once a tenth of
a table changed; on SQLite nothing, as a catalog there keeps the fixed
statistics that glance-artifacts-manage db sync writes. Before those, the
index of image versions is filled as db sync fills it.

Then starts glance-api (glance.wsgi.api:application under gunicorn, 1
worker, --threads threads) with the tests' "testauth" paste flavor, whose
identity comes from headers, and:

* reads seeded artifacts and images back by id (and the members of shared
  ones) and lists what one small project sees, following next links,
  comparing everything with what was seeded: a mismatch fails the run;
* times, as an admin and as a member project (one that owns artifacts
  and has some shared with it), each list shape below against its images
  counterpart, --samples times, image and artifact request by request
  (which goes first alternates), and prints p50 and p95 (nearest rank);
* loads the same paste app in this process and counts the SQL statements
  of one request of each shape (a before_cursor_execute listener on
  Glance's engine, which the artifacts data API uses too; BEGIN, COMMIT
  and the like are not counted, as SQLite alone sends them as
  statements). --show-sql prints them.

Shapes (artifacts / images): the default list of heat_templates /
images; name=X (a name of 14 versions); owner=P&sort=name:asc; pages 2
and 40 by next links; tags=T / tag=T; status=active; visibility=public;
murano_packages?package_type=Library / images?package_type=Library;
version=latest / the default list; version=gte:1.0.0&version=lt:2.0.0 /
size_min&size_max; /v2/artifacts/all / the default list; GET by id;
name=like:PREFIX% (that name without its last two digits) / name=X;
tags-any=T,U / tag=T.
The server serves the default types, images among them, as users get
them; so /v2/artifacts/all lists images too. The images type's own
shapes ("img" rows: /v2/artifacts/images / /v2/images): the default
list, name=X, owner=P&sort=name:asc, sort=name:asc, pages 2 and 40,
tags, status, visibility, disk_format, version=latest and
sort=version:desc (Glance has no version: against its default list),
GET by id; and /v2/artifacts/all?sort=name:asc and its page 2 against
the images list in that order.

Targets, per row: artifacts p95 <= --target-ms (50) (not for the rows
that include images: their target is Glance's own time) and <= images
p95 with a slack of 1 ms or 10%, whichever is larger; GET by id in at
most 2 statements; page 40 p95 within 1.5x page 2 p95, or +5 ms; and
(one more row) the server's peak RSS while measuring within 64 MiB of
its size before. The last line is "targets met: yes|no (K of M rows)".
Targets missed still exit 0; HTTP errors and read-back mismatches exit
1.

A million of each takes long to seed (several minutes) and is meant for
the database servers, by hand:

    .venv/bin/python benchmarks/list.py --database postgresql --n 1000000
    .venv/bin/python benchmarks/list.py --database mysql --n 1000000

Run it from a checkout with Glance and glance-artifacts installed (python3
tools/dev.py serve, or test, makes .venv; then .venv/bin/python
benchmarks/list.py). --keep keeps the temporary directory (config, logs,
SQLite file) and the server database.
"""

import argparse
import atexit
import bisect
import datetime
import itertools
import json
import math
import os
import random
import shutil
import sys
import tempfile
import time
import uuid

import sqlalchemy as sa

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from glance.artifacts import catalog  # noqa: E402
from glance.artifacts import fields  # noqa: E402
from glance.artifacts.types import heat  # noqa: E402
from glance.artifacts.types import murano  # noqa: E402
from glance.artifacts.types import tosca  # noqa: E402
from glance.db.artifacts import image_versions  # noqa: E402
from glance.db.artifacts import models  # noqa: E402
from glance.db.artifacts import sqlalchemy_api  # noqa: E402
from glance.db.sqlalchemy import models as glance_models  # noqa: E402
from benchmarks import run as run_benchmark  # noqa: E402
from tests import base  # noqa: E402
from tests import databases  # noqa: E402
from tests.e2e import server as e2e_server  # noqa: E402
from tools import dev  # noqa: E402

SEED = 42
TYPES = {t.name: t for t in (heat.HeatTemplate, heat.HeatEnvironment,
                             murano.MuranoPackage, tosca.ToscaTemplate)}
TYPE_WEIGHTS = [('heat_templates', 35), ('heat_environments', 15),
                ('murano_packages', 25), ('tosca_templates', 25)]
VISIBILITY_WEIGHTS = [('private', 85), ('public', 7), ('shared', 6),
                      ('community', 2)]
STATUS_WEIGHTS = [('active', 88), ('drafted', 8), ('deactivated', 4)]
IMAGE_STATUS = {'active': 'active', 'drafted': 'queued',
                'deactivated': 'deactivated'}
TAGS = ('web database cache queue monitoring logging backup storage '
        'network security dns loadbalancer proxy mail chat ci cd build '
        'test staging production dev analytics search ml gpu batch '
        'stream iot edge cdn vpn firewall identity secrets metrics '
        'tracing alerting kubernetes docker vm windows linux ubuntu '
        'centos debian java python go nodejs ruby php').split()
NAME_WORDS = ('wordpress mysql nginx redis kafka postgres mongo rabbit '
              'jenkins gitlab grafana prometheus elastic kibana haproxy '
              'apache tomcat django rails spark hadoop zookeeper etcd '
              'vault consul minio ceph openvpn bind postfix').split()
NAME_KINDS = ('app server cluster stack service agent lib pack').split()
OPEN_NAMES = 64          # names being released at once while seeding
MAX_VERSIONS = 14
SIZE_MIN, SIZE_MAX = 2 ** 20, 2 ** 32    # image sizes, bytes
SIZE_RANGE = (2 ** 30, 2 ** 31)          # the images size filter
ADMIN_ROLES = ('admin', 'member', 'reader')
MEMBER_ROLES = ('reader', 'member')
CHECK_LIMIT = 1000       # page size of the read-back list check
REQUEST_TIMEOUT = 600
MiB = 1024 * 1024
# The growth of the server's memory (its processes' summed RSS) while
# the lists are measured: a request holds a page, whatever the catalog.
RSS_TARGET_MIB = 64
TRANSACTION_CONTROL = ('BEGIN', 'COMMIT', 'ROLLBACK', 'SAVEPOINT', 'RELEASE')


class Failure(Exception):
    """Something is wrong (not a missed target): the run exits 1."""


def _cum(weights):
    return [k for k, _w in weights], list(itertools.accumulate(
        w for _k, w in weights))


def _pick(rng, weights):
    values, cum = weights
    return values[bisect.bisect(cum, rng.random() * cum[-1])]


def _uuid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _isotime(value):
    return value.strftime('%Y-%m-%dT%H:%M:%SZ')


class Seeder(object):
    """Generates artifacts and their mirror images batch by batch and
    inserts them; keeps only counters and small samples."""

    def __init__(self, n, samples):
        self.n = n
        self.rng = random.Random(SEED)
        # Picks of samples, apart so that they do not change the data.
        self.picker = random.Random(SEED + 1)
        rng = self.rng
        count = max(4, n // 500)
        self.projects = ['%032x' % rng.getrandbits(128)
                         for _ in range(count)]
        # Projects of unequal sizes: the first is the largest.
        self.project_weights = _cum([(p, 1 / math.sqrt(i + 1))
                                     for i, p in enumerate(self.projects)])
        self.types = _cum(TYPE_WEIGHTS)
        self.visibilities = _cum(VISIBILITY_WEIGHTS)
        self.statuses = _cum(STATUS_WEIGHTS)
        self.tags = _cum([(t, 1 / (i + 1) ** 0.7)
                          for i, t in enumerate(TAGS)])
        self.tag = TAGS[5]           # a tag of middling frequency
        self.largest = self.projects[0]
        self.member = self.projects[1]
        self.small = self.projects[-1]
        self.now = datetime.datetime.utcnow().replace(microsecond=0)
        self.start = self.now - datetime.timedelta(days=365)
        self.step_us = 365 * 86400 * 10 ** 6 // max(n, 1)
        self.names = 0
        # The name filter's name: a heat template of the member project
        # with 14 versions, released first.
        self.forced = self._new_name(type_name='heat_templates',
                                     owner=self.member,
                                     versions=MAX_VERSIONS)
        self.name = self.forced['name']
        self.pool = [self.forced]
        # Counters and samples.
        self.counts = {'artifacts': 0, 'properties': 0, 'tags': 0,
                       'members': 0, 'images': 0, 'image_tags': 0,
                       'image_properties': 0, 'image_members': 0,
                       'names': 0}
        self.listed = {p: {'images': 0, 'artifacts': dict.fromkeys(TYPES, 0)}
                       for p in (self.member, self.small)}
        self.member_shared = 0       # accepted shares with the member
        self.member_owned = 0
        self.reservoir_size = max(samples, 50)
        self.any_sample = []         # records, for admins
        self.member_sample = []      # records the member can see
        self.seen = {'any': 0, 'member': 0}
        self.check = {}              # a first record of some kinds

    # -- generation ----------------------------------------------------------

    def _versions(self, count):
        rng = self.rng
        major = rng.choice((0, 1, 1, 1, 2, 3))
        minor, patch = rng.randrange(6), rng.randrange(10)
        versions = []
        for _ in range(count):
            versions.append('%d.%d.%d' % (major, minor, patch))
            r = rng.random()
            if r < 0.1:
                major, minor, patch = major + 1, 0, 0
            elif r < 0.4:
                minor, patch = minor + 1, 0
            else:
                patch += 1
        return versions

    def _new_name(self, type_name=None, owner=None, versions=None):
        rng = self.rng
        if versions is None:
            versions = max(1, min(MAX_VERSIONS,
                                  round(rng.triangular(1, MAX_VERSIONS, 3))))
        self.names += 1
        return {'name': '%s-%s-%06d' % (rng.choice(NAME_WORDS),
                                        rng.choice(NAME_KINDS), self.names),
                'type_name': type_name or _pick(rng, self.types),
                'owner': owner or _pick(rng, self.project_weights),
                'versions': self._versions(versions)}

    def _next_name(self):
        """A name and its next version; the forced name goes first."""
        if self.pool[0] is self.forced and self.forced['versions']:
            entry = self.forced
        else:
            if self.pool[0] is self.forced:
                self.pool = [self._new_name() for _ in range(OPEN_NAMES)]
            entry = self.pool[self.rng.randrange(len(self.pool))]
        version = entry['versions'].pop(0)
        if not entry.get('released'):
            entry['released'] = True
            self.counts['names'] += 1
        if not entry['versions'] and entry is not self.forced:
            self.pool[self.pool.index(entry)] = self._new_name()
        return entry, version

    def record(self, index):
        """One artifact and its mirror image, as a dict of what was
        seeded (artifact_rows and image_rows make its rows)."""
        rng = self.rng
        entry, version = self._next_name()
        visibility = _pick(rng, self.visibilities)
        status = _pick(rng, self.statuses)
        tags = set()
        count = rng.choice((2, 3))
        while len(tags) < count:
            tags.add(_pick(rng, self.tags))
        owner = entry['owner']
        members = {}
        if visibility == 'shared':
            others = [p for p in self.projects if p != owner]
            for member in rng.sample(others, min(len(others),
                                                 rng.randint(1, 3))):
                members[member] = ('pending' if rng.random() < 0.2
                                   else 'accepted')
        created = self.start + datetime.timedelta(
            microseconds=index * self.step_us + rng.randrange(self.step_us))
        fields = {}
        if entry['type_name'] == 'murano_packages':
            fields['package_type'] = ('Library' if rng.random() < 0.2
                                      else 'Application')
            fields['display_name'] = entry['name'].replace('-', ' ').title()
        elif entry['type_name'] == 'tosca_templates':
            fields['template_format'] = ('csar' if rng.random() < 0.1
                                         else 'yaml')
        return {'id': _uuid(rng), 'image_id': _uuid(rng),
                'type_name': entry['type_name'], 'name': entry['name'],
                'version': version, 'owner': owner,
                'visibility': visibility, 'status': status,
                'tags': sorted(tags), 'members': members,
                'created_at': created,
                'activated_at': (None if status == 'drafted' else
                                 created + datetime.timedelta(
                                     seconds=rng.randrange(1, 3600))),
                'fields': fields,
                'disk_format': 'raw' if rng.random() < 0.3 else 'qcow2',
                'size': (None if status == 'drafted'
                         else rng.randrange(SIZE_MIN, SIZE_MAX))}

    # -- rows ----------------------------------------------------------------

    @staticmethod
    def artifact_rows(rec):
        """(artifact row, property rows, tag rows, member rows), built as
        catalog.create builds them."""
        type_cls = TYPES[rec['type_name']]
        given = dict(rec['fields'], name=rec['name'], version=rec['version'],
                     visibility=rec['visibility'], tags=rec['tags'])
        changes = {}
        for name, field in type_cls.all_fields().items():
            if field.readonly or isinstance(field, fields.Blob):
                continue
            changes[name] = catalog._validated(
                field, name, given[name] if name in given
                else field.initial())
        values = catalog._values(type_cls, changes)
        updated = rec['activated_at'] or rec['created_at']
        row = {name: values[name] for name in
               ('name', 'version', 'version_key', 'description',
                'visibility', 'protected')}
        row.update(id=rec['id'], type_name=type_cls.name,
                   type_version=type_cls.type_version, owner=rec['owner'],
                   status=rec['status'], created_at=rec['created_at'],
                   updated_at=updated, activated_at=rec['activated_at'],
                   revision=0)
        props = [sqlalchemy_api._property_row(rec['id'], name, prop)
                 for name, rows in sorted(values['properties'].items())
                 for prop in rows]
        tags = [{'artifact_id': rec['id'], 'value': v}
                for v in sorted(set(values['tags']))]
        members = [{'artifact_id': rec['id'], 'member': m, 'status': s,
                    'created_at': updated, 'updated_at': updated}
                   for m, s in sorted(rec['members'].items())]
        return row, props, tags, members

    @staticmethod
    def image_rows(rec):
        """(image row, tag rows, property rows, member rows)."""
        updated = rec['activated_at'] or rec['created_at']
        common = {'image_id': rec['image_id'], 'created_at': updated,
                  'updated_at': updated, 'deleted_at': None,
                  'deleted': False}
        row = {'id': rec['image_id'], 'name': rec['name'],
               'disk_format': rec['disk_format'],
               'container_format': 'bare', 'size': rec['size'],
               'virtual_size': None, 'status': IMAGE_STATUS[rec['status']],
               'visibility': rec['visibility'], 'checksum': None,
               'os_hash_algo': None, 'os_hash_value': None, 'min_disk': 0,
               'min_ram': 0, 'owner': rec['owner'], 'protected': False,
               'os_hidden': False, 'created_at': rec['created_at'],
               'updated_at': updated, 'deleted_at': None, 'deleted': False}
        tags = [dict(common, value=v) for v in rec['tags']]
        # The artifact's version, as the artifact version of the image.
        props = [dict(common, name='artifact_version', value=rec['version'])]
        if 'package_type' in rec['fields']:
            props.append(dict(common, name='package_type',
                              value=rec['fields']['package_type']))
        members = [dict(common, member=m, status=s, can_share=False)
                   for m, s in sorted(rec['members'].items())]
        return row, tags, props, members

    # -- bookkeeping ---------------------------------------------------------

    @staticmethod
    def _listed_by(project, rec):
        """Whether ``project``'s default list holds the record."""
        return (rec['owner'] == project or rec['visibility'] == 'public' or
                rec['members'].get(project) == 'accepted')

    def _keep(self, sample, key, rec):
        """Reservoir sampling of at most reservoir_size records."""
        self.seen[key] += 1
        if len(sample) < self.reservoir_size:
            sample.append(rec)
        else:
            j = self.picker.randrange(self.seen[key])
            if j < self.reservoir_size:
                sample[j] = rec

    def note(self, rec):
        for project, listed in self.listed.items():
            if self._listed_by(project, rec):
                listed['images'] += 1
                listed['artifacts'][rec['type_name']] += 1
        if rec['owner'] == self.member:
            self.member_owned += 1
        if rec['members'].get(self.member) == 'accepted':
            self.member_shared += 1
        self._keep(self.any_sample, 'any', rec)
        if (rec['owner'] == self.member or self.member in rec['members'] or
                rec['visibility'] in ('public', 'community')):
            self._keep(self.member_sample, 'member', rec)
        for kind, wanted in (('murano', rec['type_name'] ==
                              'murano_packages'),
                             ('tosca', rec['type_name'] ==
                              'tosca_templates'),
                             ('shared', bool(rec['members'])),
                             ('public', rec['visibility'] == 'public'),
                             ('drafted', rec['status'] == 'drafted')):
            if wanted and kind not in self.check:
                self.check[kind] = rec
        if rec['name'] == self.name and 'forced' not in self.check:
            self.check['forced'] = rec

    # -- inserting -----------------------------------------------------------

    def seed(self, url, batch):
        """Insert everything; returns the seconds spent generating,
        inserting artifacts and inserting images."""
        engine = sa.create_engine(url)
        image_tables = (glance_models.Image.__table__,
                        glance_models.ImageTag.__table__,
                        glance_models.ImageProperty.__table__,
                        glance_models.ImageMember.__table__)
        artifact_tables = (models.artifacts, models.properties, models.tags,
                           models.members)
        times = {'generate': 0.0, 'artifacts': 0.0, 'images': 0.0}
        try:
            for first in range(0, self.n, batch):
                started = time.monotonic()
                art = ([], [], [], [])
                img = ([], [], [], [])
                for index in range(first, min(self.n, first + batch)):
                    rec = self.record(index)
                    self.note(rec)
                    for rows, new in zip(art, self.artifact_rows(rec)):
                        if isinstance(new, dict):
                            rows.append(new)
                        else:
                            rows.extend(new)
                    for rows, new in zip(img, self.image_rows(rec)):
                        if isinstance(new, dict):
                            rows.append(new)
                        else:
                            rows.extend(new)
                times['generate'] += time.monotonic() - started
                for kind, tables, rows in (('artifacts', artifact_tables, art),
                                           ('images', image_tables, img)):
                    started = time.monotonic()
                    with engine.begin() as conn:
                        for table, table_rows in zip(tables, rows):
                            if table_rows:
                                conn.execute(table.insert(), table_rows)
                    times[kind] += time.monotonic() - started
                for key, rows in zip(('artifacts', 'properties', 'tags',
                                      'members', 'images', 'image_tags',
                                      'image_properties', 'image_members'),
                                     art + img):
                    self.counts[key] += len(rows)
        finally:
            engine.dispose()
        return times


# -- HTTP -------------------------------------------------------------------

class Client(object):
    """Requests to the glance-api under test; any status but 200 fails."""

    def __init__(self, server):
        self.server = server

    def get(self, path, headers):
        started = time.perf_counter()
        status, _h, body = self.server.request('GET', path, headers=headers,
                                               timeout=REQUEST_TIMEOUT)
        elapsed = time.perf_counter() - started
        if status != 200:
            raise Failure('GET %s: %s %s' % (path, status,
                                             body[:500].decode('utf-8',
                                                               'replace')))
        return elapsed, body

    def json(self, path, headers):
        return json.loads(self.get(path, headers)[1])


def _items(doc):
    """The listed items of a list response, or [the item] of a show (an
    artifact may have a field named images)."""
    if 'first' not in doc:
        return [doc]
    return doc['images'] if 'images' in doc else doc['artifacts']


def _expect(problems, what, expected, actual):
    if expected != actual:
        problems.append('%s: seeded %r, read %r' % (what, expected, actual))


def check_read_back(client, seeder, admin):
    """GET seeded artifacts and images by id (and the members of a shared
    one), list what a small project sees, and compare with the seed."""
    problems = []
    records = list(seeder.check.values()) + seeder.any_sample[:24]
    for rec in records:
        art = client.json('/v2/artifacts/%s/%s' % (rec['type_name'],
                                                   rec['id']), admin)
        what = 'artifact %s' % rec['id']
        for key in ('name', 'version', 'owner', 'visibility', 'status',
                    'type_name', 'tags'):
            _expect(problems, '%s %s' % (what, key), rec[key], art.get(key))
        for key, value in rec['fields'].items():
            _expect(problems, '%s %s' % (what, key), value, art.get(key))
        _expect(problems, what + ' created_at', _isotime(rec['created_at']),
                art.get('created_at'))
        image = client.json('/v2/images/%s' % rec['image_id'], admin)
        what = 'image %s' % rec['image_id']
        for key, value in (('name', rec['name']), ('owner', rec['owner']),
                           ('visibility', rec['visibility']),
                           ('status', IMAGE_STATUS[rec['status']]),
                           ('tags', rec['tags']), ('size', rec['size']),
                           ('disk_format', rec['disk_format']),
                           ('package_type',
                            rec['fields'].get('package_type'))):
            read = image.get(key)
            _expect(problems, '%s %s' % (what, key), value,
                    sorted(read) if key == 'tags' else read)
        if rec['members']:
            doc = client.json('/v2/artifacts/%s/%s/members'
                              % (rec['type_name'], rec['id']), admin)
            _expect(problems, 'artifact %s members' % rec['id'],
                    rec['members'], {m['member_id']: m['status']
                                     for m in doc['members']})
            doc = client.json('/v2/images/%s/members' % rec['image_id'],
                              admin)
            _expect(problems, 'image %s members' % rec['image_id'],
                    rec['members'], {m['member_id']: m['status']
                                     for m in doc['members']})
    # What the smallest project lists: its own, public ones, and those
    # shared with it that it accepted.
    small = base.identity(project=seeder.small, roles=MEMBER_ROLES)
    expected = seeder.listed[seeder.small]
    for kind, path, count in (
            ('artifacts', '/v2/artifacts/heat_templates',
             expected['artifacts']['heat_templates']),
            ('images', '/v2/images', expected['images'])):
        ids, url = set(), '%s?limit=%d' % (path, CHECK_LIMIT)
        pages = 0
        while url:
            doc = client.json(url, small)
            pages += 1
            for item in _items(doc):
                if item['id'] in ids:
                    problems.append('%s listed twice: %s' % (kind,
                                                             item['id']))
                ids.add(item['id'])
                if not (item['owner'] == seeder.small or
                        item['visibility'] in ('public', 'shared')):
                    problems.append('%s %s of %s (%s) listed for project '
                                    '%s' % (kind, item['id'], item['owner'],
                                            item['visibility'],
                                            seeder.small))
            url = doc.get('next')
        _expect(problems, 'number of %s project %s lists (%d pages)'
                % (kind, seeder.small, pages), count, len(ids))
    if problems:
        raise Failure('read-back mismatch:\n  ' + '\n  '.join(problems[:40]))
    return len(records)


# -- the shapes ---------------------------------------------------------------

SHAPES = ('default list', 'name filter', 'owner+sort', 'page 2', 'page 40',
          'tags filter', 'status filter', 'visibility', 'type field',
          'version=latest', 'version range', 'all types', 'GET by id',
          'name like', 'tags any', 'img list', 'img name',
          'img owner+sort', 'img sort name', 'img page 2', 'img page 40',
          'img tags', 'img status',
          'img visibility', 'img type field', 'img latest',
          'img sort version', 'img GET by id', 'all sort name',
          'all page 2')
#: Shapes of the images type (/v2/artifacts/images, and /all with images
#: in it), judged against Glance's nearest list alone: Glance's own
#: sort by name reads every image, and so does the same order here.
IMAGE_SHAPES = frozenset(s for s in SHAPES
                         if s.startswith(('img ', 'all ')) or
                         s == 'all types')


IMG = '/v2/artifacts/images'


def queries(client, seeder, role, identity, limit):
    """{shape: (images path or function of the sample, artifacts path or
    function, or None when the data has no such page)}."""
    lim = 'limit=%d' % limit
    owner = seeder.largest if role == 'admin' else seeder.member
    q = {
        'default list': ('/v2/images?' + lim,
                         '/v2/artifacts/heat_templates?' + lim),
        'name filter': ('/v2/images?name=%s&%s' % (seeder.name, lim),
                        '/v2/artifacts/heat_templates?name=%s&%s'
                        % (seeder.name, lim)),
        'owner+sort': ('/v2/images?owner=%s&sort=name:asc&%s'
                       % (owner, lim),
                       '/v2/artifacts/heat_templates?owner=%s&sort=name:asc'
                       '&%s' % (owner, lim)),
        'tags filter': ('/v2/images?tag=%s&%s' % (seeder.tag, lim),
                        '/v2/artifacts/heat_templates?tags=%s&%s'
                        % (seeder.tag, lim)),
        # Glance has neither: against its name and its tag filter.
        'name like': ('/v2/images?name=%s&%s' % (seeder.name, lim),
                      '/v2/artifacts/heat_templates?name=like:%s%%25&%s'
                      % (seeder.name[:-2], lim)),
        'tags any': ('/v2/images?tag=%s&%s' % (seeder.tag, lim),
                     '/v2/artifacts/heat_templates?tags-any=%s,%s&%s'
                     % (seeder.tag, TAGS[10], lim)),
        'status filter': ('/v2/images?status=active&' + lim,
                          '/v2/artifacts/heat_templates?status=active&'
                          + lim),
        'visibility': ('/v2/images?visibility=public&' + lim,
                       '/v2/artifacts/heat_templates?visibility=public&'
                       + lim),
        'type field': ('/v2/images?package_type=Library&' + lim,
                       '/v2/artifacts/murano_packages?package_type=Library&'
                       + lim),
        'version=latest': ('/v2/images?' + lim,
                           '/v2/artifacts/heat_templates?version=latest&'
                           + lim),
        'version range': ('/v2/images?size_min=%d&size_max=%d&%s'
                          % (SIZE_RANGE + (lim,)),
                          '/v2/artifacts/heat_templates?version=gte:1.0.0'
                          '&version=lt:2.0.0&' + lim),
        'all types': ('/v2/images?' + lim, '/v2/artifacts/all?' + lim),
        'img list': ('/v2/images?' + lim, IMG + '?' + lim),
        'img name': ('/v2/images?name=%s&%s' % (seeder.name, lim),
                     IMG + '?name=%s&%s' % (seeder.name, lim)),
        'img owner+sort': ('/v2/images?owner=%s&sort=name:asc&%s'
                           % (owner, lim),
                           IMG + '?owner=%s&sort=name:asc&%s' % (owner, lim)),
        'img sort name': ('/v2/images?sort=name:asc&' + lim,
                          IMG + '?sort=name:asc&' + lim),
        'img tags': ('/v2/images?tag=%s&%s' % (seeder.tag, lim),
                     IMG + '?tags=%s&%s' % (seeder.tag, lim)),
        'img status': ('/v2/images?status=active&' + lim,
                       IMG + '?status=active&' + lim),
        'img visibility': ('/v2/images?visibility=public&' + lim,
                           IMG + '?visibility=public&' + lim),
        'img type field': ('/v2/images?disk_format=qcow2&' + lim,
                           IMG + '?disk_format=qcow2&' + lim),
        # Glance has no version: the bound is its default list.
        'img latest': ('/v2/images?' + lim, IMG + '?version=latest&' + lim),
        'img sort version': ('/v2/images?' + lim,
                             IMG + '?sort=version:desc&' + lim),
        'all sort name': ('/v2/images?sort=name:asc&' + lim,
                          '/v2/artifacts/all?sort=name:asc&' + lim),
    }
    for shape, start_shape, follow in (
            ('page 2', 'default list', 1), ('page 40', 'default list', 39),
            ('img page 2', 'img list', 1), ('img page 40', 'img list', 39),
            ('all page 2', 'all types', 1)):
        paths = []
        for start in q[start_shape]:
            path = start
            for _ in range(follow):
                path = path and client.json(path, identity).get('next')
            paths.append(path)
        q[shape] = tuple(paths) if all(paths) else None
    sample = seeder.any_sample if role == 'admin' else seeder.member_sample
    q['GET by id'] = (
        lambda s: '/v2/images/%s' % sample[s % len(sample)]['image_id'],
        lambda s: '/v2/artifacts/%s/%s' % (sample[s % len(sample)]
                                           ['type_name'],
                                           sample[s % len(sample)]['id']))
    q['img GET by id'] = (
        lambda s: '/v2/images/%s' % sample[s % len(sample)]['image_id'],
        lambda s: IMG + '/%s' % sample[s % len(sample)]['image_id'])
    return q


def _path(path, sample):
    return path(sample) if callable(path) else path


def percentile(values, p):
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def measure(client, roles, samples):
    """{(role, shape): {'images': [ms...], 'artifacts': [ms...],
    'rows': (images, artifacts)}}, request by request."""
    results = {}
    for role, (identity, qs) in roles.items():
        for shape in SHAPES:
            if qs[shape] is None:
                continue
            rows = []
            for path in qs[shape]:
                rows.append(len(_items(json.loads(client.get(
                    _path(path, 0), identity)[1]))))
            results[(role, shape)] = {'images': [], 'artifacts': [],
                                      'rows': tuple(rows)}
    for s in range(samples):
        for r, (role, (identity, qs)) in enumerate(roles.items()):
            for k, shape in enumerate(SHAPES):
                if qs[shape] is None:
                    continue
                pair = list(zip(('images', 'artifacts'), qs[shape]))
                if (s + r + k) % 2:
                    pair.reverse()
                for kind, path in pair:
                    elapsed, _body = client.get(_path(path, s + 1), identity)
                    results[(role, shape)][kind].append(elapsed * 1000)
    return results


# -- statements ---------------------------------------------------------------

def count_statements(confdir, roles, show=False):
    """{(role, shape): (images statements, artifacts statements)} for one
    request each, in-process through the same paste app."""
    import webob
    from oslo_config import cfg

    from glance.api import common as glance_api_common
    from glance.common import config as glance_config
    from glance.common import wsgi_app
    from glance.db.sqlalchemy import api as glance_db

    os.environ['OS_GLANCE_CONFIG_DIR'] = confdir
    wsgi_app.init_app()
    # Glance drains this pool at exit; make it now, not at shutdown.
    glance_api_common.get_thread_pool('tasks_pool')
    cfg.CONF.set_override('flavor', 'testauth', group='paste_deploy')
    app = glance_config.load_paste_app('glance-api')
    statements = []

    def listener(conn, cursor, statement, parameters, context,
                 executemany):
        # Transaction control is not counted: SQLite's BEGIN is a
        # statement of its own (oslo.db emits it), other databases' are
        # implicit.
        if statement.split(None, 1)[0].upper() not in TRANSACTION_CONTROL:
            statements.append(statement)

    engines = {id(e): e for e in (glance_db.get_engine(),
                                  sqlalchemy_api.get_engine())}
    for engine in engines.values():
        sa.event.listen(engine, 'before_cursor_execute', listener)

    def run(path, identity):
        req = webob.Request.blank(path)
        req.headers['Accept'] = 'application/json'
        req.headers.update(identity)
        resp = req.get_response(app)
        if resp.status_int != 200:
            raise Failure('in-process GET %s: %s %s'
                          % (path, resp.status, resp.text[:500]))

    counts = {}
    try:
        for role, (identity, qs) in roles.items():
            for shape in SHAPES:
                if qs[shape] is None:
                    continue
                pair = []
                for kind, path in zip(('images', 'artifacts'), qs[shape]):
                    path = _path(path, 0)
                    run(path, identity)      # warm
                    del statements[:]
                    run(path, identity)
                    pair.append(len(statements))
                    if show:
                        print('-- %s %s %s: %d statements' % (
                            role, shape, kind, len(statements)))
                        for text in statements:
                            print('   ' + ' '.join(text.split())[:300])
                counts[(role, shape)] = tuple(pair)
    finally:
        for engine in engines.values():
            sa.event.remove(engine, 'before_cursor_execute', listener)
            engine.dispose()
    return counts


# -- the table ----------------------------------------------------------------

def verdicts(results, counts, target_ms):
    """{(role, shape): [missed targets]}."""
    out = {}
    for (role, shape), res in results.items():
        img95 = percentile(res['images'], 95)
        art95 = percentile(res['artifacts'], 95)
        missed = []
        if art95 > target_ms and shape not in IMAGE_SHAPES:
            missed.append('p95>%gms' % target_ms)
        if art95 > max(img95 * 1.10, img95 + 1.0):
            missed.append('>images')
        if shape.endswith('GET by id') and counts[(role, shape)][1] > 2:
            missed.append('SQL>2')
        first = shape.replace('page 40', 'page 2')
        if shape.endswith('page 40') and (role, first) in results:
            p2 = percentile(results[(role, first)]['artifacts'], 95)
            if art95 > max(1.5 * p2, p2 + 5.0):
                missed.append('>page 2')
        out[(role, shape)] = missed
    return out


def print_table(roles, results, counts, missed):
    header = ('%-7s %-16s %9s %17s %17s %7s %7s  %s'
              % ('role', 'shape', 'rows i/a', 'images p50/p95',
                 'artifacts p50/p95', 'p95 a/i', 'SQL i/a', 'verdict'))
    print(header)
    print('-' * len(header))
    met = total = 0
    for role in roles:
        for shape in SHAPES:
            key = (role, shape)
            if key not in results:
                print('%-7s %-16s %9s %17s %17s %7s %7s  %s'
                      % (role, shape, '-', '-', '-', '-', '-',
                         'n/a (fewer pages)'))
                continue
            res = results[key]
            img = (percentile(res['images'], 50),
                   percentile(res['images'], 95))
            art = (percentile(res['artifacts'], 50),
                   percentile(res['artifacts'], 95))
            total += 1
            met += not missed[key]
            print('%-7s %-16s %9s %17s %17s %7.2f %7s  %s' % (
                role, shape, '%d/%d' % res['rows'],
                '%.1f/%.1f' % img, '%.1f/%.1f' % art,
                art[1] / img[1] if img[1] else float('inf'),
                '%d/%d' % counts[key],
                ', '.join(missed[key]) or 'ok'))
    return met, total


# -- main ---------------------------------------------------------------------

SEEDED_TABLES = ('images', 'image_tags', 'image_properties',
                 'image_members', 'ga_artifacts', 'ga_properties', 'ga_tags',
                 'ga_members', 'ga_image_versions')


def gather_statistics(url, database):
    """What the database would know of the seeded tables by now; returns
    what was run, if anything."""
    if database == 'sqlite':
        return None
    engine = sa.create_engine(url, isolation_level='AUTOCOMMIT')
    try:
        with engine.connect() as conn:
            if database == 'postgresql':
                statement = 'ANALYZE'
                conn.exec_driver_sql(statement)
            else:
                statement = 'ANALYZE TABLE ' + ', '.join(SEEDED_TABLES)
                conn.exec_driver_sql(statement).fetchall()
                # What of the tables can be in memory: a million of each
                # need gigabytes, where MariaDB's default is 128 MiB.
                statement += '; innodb_buffer_pool_size %d MiB' % (
                    conn.exec_driver_sql(
                        'SELECT @@innodb_buffer_pool_size').scalar() >> 20)
    finally:
        engine.dispose()
    return statement


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--database', default='sqlite',
                        choices=('sqlite', 'mysql', 'postgresql'))
    parser.add_argument('--n', type=int, default=100000,
                        help='artifacts, and as many images')
    parser.add_argument('--samples', type=int, default=60)
    parser.add_argument('--limit', type=int, default=25)
    parser.add_argument('--target-ms', type=float, default=50)
    parser.add_argument('--threads', type=int, default=4)
    parser.add_argument('--batch', type=int, default=5000,
                        help='artifacts (and images) per insert transaction')
    parser.add_argument('--show-sql', action='store_true',
                        help='print the statements that were counted')
    parser.add_argument('--keep', action='store_true',
                        help='keep the temporary directory and database')
    args = parser.parse_args()
    if args.n < 100 or args.samples < 1 or args.limit < 1:
        parser.error('--n must be at least 100, --samples and --limit at '
                     'least 1')

    tmp = tempfile.mkdtemp(prefix='ga-list-bench-')
    # Removed at exit, after Glance's own exit handlers (which log into
    # it) have run: atexit calls the last registered first.
    if not args.keep:
        atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    server = None
    url = None
    try:
        try:
            url, drop = databases.create(tmp, args.database)
        except databases.Unavailable as e:
            raise Failure(str(e))
        if not args.keep:
            atexit.register(drop)
        # The default types, images among them, as users get them.
        server = e2e_server.Server(tmp, flavor='testauth',
                                   types=dev.DEFAULT_TYPES,
                                   workers=1, threads=args.threads,
                                   mode='sqlalchemy', store='file',
                                   database=url)
        server.sync()
        seeder = Seeder(args.n, args.samples)
        started = time.monotonic()
        times = seeder.seed(url, args.batch)
        seed_seconds = time.monotonic() - started
        c = seeder.counts
        print('seeded %d artifacts and %d images on %s in %.1f s '
              '(generating %.1f s, inserting artifacts %.1f s, images '
              '%.1f s)' % (c['artifacts'], c['images'], args.database,
                           seed_seconds, times['generate'],
                           times['artifacts'], times['images']), flush=True)
        print('  rows: %d ga_properties, %d ga_tags, %d ga_members; %d '
              'image_tags, %d image_properties, %d image_members; %d '
              'projects, %d names' % (
                  c['properties'], c['tags'], c['members'],
                  c['image_tags'], c['image_properties'],
                  c['image_members'], len(seeder.projects), c['names']))
        started = time.monotonic()
        engine = sa.create_engine(url)
        try:
            indexed = image_versions.fill(engine)
        finally:
            engine.dispose()
        print('  indexed the versions of %d images, as glance-artifacts-'
              'manage db sync does (%.1f s)' % (
                  indexed, time.monotonic() - started), flush=True)
        started = time.monotonic()
        analyzed = gather_statistics(url, args.database)
        if analyzed:
            print('  statistics: %s (%.1f s)' % (
                analyzed, time.monotonic() - started), flush=True)
        server.start()
        client = Client(server)
        admin = base.identity(project=uuid.uuid4().hex, roles=ADMIN_ROLES)
        member = base.identity(project=seeder.member, roles=MEMBER_ROLES)
        checked = check_read_back(client, seeder, admin)
        print('read back %d artifacts and images by id, and the lists of '
              'project %s: as seeded' % (checked, seeder.small), flush=True)
        print('member project %s: owns %d artifacts, %d shared with it '
              '(accepted); name filter %s (14 versions), tag %s'
              % (seeder.member, seeder.member_owned, seeder.member_shared,
                 seeder.name, seeder.tag), flush=True)
        roles = {}
        for role, identity in (('admin', admin), ('member', member)):
            roles[role] = (identity, queries(client, seeder, role,
                                             identity, args.limit))
        started = time.monotonic()
        memory = run_benchmark.PeakRSS(server.process.pid)
        memory.start()
        results = measure(client, roles, args.samples)
        measure_seconds = time.monotonic() - started
        rss_growth = memory.growth() / MiB
        counts = count_statements(server.confdir, roles, args.show_sql)
    except Failure as e:
        print('FAILED: %s' % e, file=sys.stderr)
        if server is not None and server.process is not None:
            print(server.output()[-3000:], file=sys.stderr)
        return 1
    finally:
        if server is not None:
            server.stop()
        if args.keep:
            print('kept %s%s' % (tmp, '' if url is None or
                                 args.database == 'sqlite'
                                 else ' and the database ' + url))

    missed = verdicts(results, counts, args.target_ms)
    print('\n%s, N=%d artifacts and %d images, seeded in %.1f s; '
          '%d samples in %.0f s, limit %d, gunicorn 1 worker x %d threads; '
          'times in ms (p95 by nearest rank)'
          % (args.database, args.n, args.n, seed_seconds, args.samples,
             measure_seconds, args.limit, args.threads))
    print('targets: artifacts p95 <= %g ms (not the img and all rows, '
          'which include images) and <= images p95 + max(1 ms, 10%%); GET '
          'by id <= 2 statements; page 40 p95 <= max(1.5 x, +5 ms) page 2 '
          'p95\n' % args.target_ms)
    met, total = print_table(roles, results, counts, missed)
    print('\nserver RSS: %.1f MiB idle; peak growth while measuring %.1f '
          'MiB (target < %d MiB)' % (memory.base / MiB, rss_growth,
                                     RSS_TARGET_MIB))
    met += rss_growth < RSS_TARGET_MIB
    total += 1
    print('\ntargets met: %s (%d of %d rows)'
          % ('yes' if met == total else 'no', met, total))
    return 0


if __name__ == '__main__':
    sys.exit(main())
