"""The data API does not trust its callers (issue 21): called straight,
with a project's context, as a caller that skipped the domain would (in
registry mode the registry's checks answer first, with the same
errors). Runs on the database and data API of the run."""

import datetime
import uuid

from glance import context as glance_context
from glance.artifacts import catalog
from glance.db import artifacts as artifacts_db
from glance.db.artifacts import errors
from glance.db.artifacts import models
from tests import base as test_base
from tests.functional import base

S = '/v2/artifacts/sample_artifacts'


def _context(project, roles=('member', 'reader')):
    return glance_context.RequestContext(project_id=project,
                                         roles=list(roles))


class TestDataAPIChecks(base.FunctionalTest):

    def setUp(self):
        super(TestDataAPIChecks, self).setUp()
        self.api = artifacts_db.get_api()
        self.a, self.b = ('a-' + uuid.uuid4().hex[:8],
                          'b-' + uuid.uuid4().hex[:8])

    def create(self, project, **fields):
        fields.setdefault('name', 'n-' + uuid.uuid4().hex)
        resp = self.request('POST', S, body=fields,
                            identity=test_base.identity(project))
        self.assertEqual(201, resp.status_int, resp.text)
        return resp.json

    def begin(self, art):
        """The id of an upload to blob1 of ``art``, begun by project A."""
        upload_id = str(uuid.uuid4())
        self.api.blob_upload_begin(_context(self.a), art['id'],
                                   'sample_artifacts', 'blob1', '', {
                                       'upload_id': upload_id,
                                       'backend': 'fs',
                                       'process': 'elsewhere:1:0',
                                       'reserved': 0})
        return upload_id

    def public_of_a(self):
        art = self.create(self.a)
        # Made public by an admin (the no-auth pipeline is one).
        resp = self.request('PATCH', art['self'], body=[
            {'op': 'replace', 'path': '/visibility', 'value': 'public'}])
        self.assertEqual(200, resp.status_int, resp.text)
        return art

    def test_another_projects_public_artifact_is_not_written(self):
        art = self.public_of_a()
        b = _context(self.b)
        for call in (
                lambda: self.api.artifact_update(
                    b, art['id'], None, {'description': 'B was here'}),
                lambda: self.api.artifact_delete(b, art['id'], None),
                lambda: self.api.artifact_tag_add(b, art['id'], None, 't'),
                lambda: self.api.member_create(b, art['id'], None,
                                               self.b)):
            self.assertRaises(errors.Forbidden, call)
        record = self.api.artifact_get(_context(self.a), art['id'])
        self.assertEqual((None, [], 1), (record['description'],
                                         record['tags'],
                                         self.count_rows(
                                             base.models.artifacts)))

    def test_an_artifact_is_created_in_the_callers_project_only(self):
        values = {'id': str(uuid.uuid4()), 'type_name': 'sample_artifacts',
                  'type_version': '1.0', 'name': 'x', 'version': '1.0.0',
                  'version_key': '1', 'owner': self.a,
                  'visibility': 'private', 'status': 'drafted',
                  'protected': False}
        error = self.assertRaises(errors.Forbidden, self.api.artifact_create,
                                  _context(self.b), values)
        self.assertIn("created in the caller's", str(error))
        self.assertEqual(0, self.count_rows(base.models.artifacts))

    def test_uploads_belong_to_their_artifacts_owner(self):
        art = self.public_of_a()
        upload_id = self.begin(art)
        a, b = _context(self.a), _context(self.b)
        for call in (
                lambda: self.api.blob_upload_heartbeat(
                    b, art['id'], 'blob1', '', upload_id),
                lambda: self.api.blob_upload_abort(
                    b, art['id'], 'blob1', '', upload_id),
                lambda: self.api.blob_upload_reserve(
                    b, art['id'], 'blob1', '', upload_id, 1, 2, None),
                lambda: self.api.blob_upload_list(b, art['id'])):
            self.assertRaises(errors.Forbidden, call)
        self.assertTrue(self.api.blob_upload_heartbeat(
            a, art['id'], 'blob1', '', upload_id))
        self.assertEqual([upload_id], [u['upload_id'] for u in
                                       self.api.blob_upload_list(
                                           a, art['id'])])

    def test_a_finished_upload_keeps_the_data_it_wrote(self):
        art = self.create(self.a)
        a = _context(self.a)
        upload_id = self.begin(art)
        values = {'status': 'active', 'size': 3, 'checksum': '0' * 32,
                  'os_hash_algo': 'sha512', 'os_hash_value': '0' * 128,
                  'content_type': 'text/plain', 'backend': 'fs'}
        for location, backend in [
                ('file:///etc/glance/glance-api.conf', 'fs'),
                ('file:///store/artifact-%s' % uuid.uuid4(), 'fs'),
                ('file:///store/../etc/artifact-%s' % upload_id, 'fs'),
                ('file:///store/artifact-%s?x' % upload_id, 'fs'),
                ('file:///store/artifact-%s' % upload_id, 'fs2')]:
            error = self.assertRaises(
                errors.Invalid, self.api.blob_upload_finish, a, art['id'],
                'sample_artifacts', 'blob1', '', upload_id,
                dict(values, location=location, backend=backend))
            self.assertIn(upload_id, str(error))
        record = self.api.artifact_get(a, art['id'])
        self.assertEqual(([], [upload_id]), (
            record['blobs'], [u['upload_id'] for u in record['uploads']]))

    def test_data_in_use_is_found_by_name_whatever_holds_it(self):
        art = self.create(self.a)
        a = _context(self.a)
        # glance-api's garbage collector asks as glance-api itself.
        admin = catalog.admin_context()
        uploading = self.begin(art)
        unused = str(uuid.uuid4())
        values = {'status': 'active', 'size': 3, 'checksum': '0' * 32,
                  'os_hash_algo': 'sha512', 'os_hash_value': '0' * 128,
                  'content_type': 'text/plain', 'backend': 'fs'}

        def used(*upload_ids):
            return self.api.blob_data_used(
                admin, ['artifact-' + u for u in upload_ids])
        self.assertEqual(['artifact-' + uploading],
                         used(uploading, unused))
        # Finished, the data is the blob's; replaced and kept for a
        # while, a pending delete's.
        self.api.blob_upload_finish(
            a, art['id'], 'sample_artifacts', 'blob1', '', uploading,
            dict(values, location='file:///store/artifact-%s' % uploading))
        self.assertEqual(['artifact-' + uploading],
                         used(uploading, unused))
        second = self.begin(art)
        self.api.blob_upload_finish(
            a, art['id'], 'sample_artifacts', 'blob1', '', second,
            dict(values, location='file:///store/artifact-%s' % second),
            keep_for=3600)
        self.assertEqual(sorted(['artifact-' + uploading,
                                 'artifact-' + second]),
                         used(uploading, second, unused))
        # A row whose location held no data name when it was migrated is
        # matched by the segments of its location.
        legacy = str(uuid.uuid4())
        with self.glance.engine.begin() as conn:
            conn.execute(models.pending_deletes.insert().values(
                backend='fs', delete_after=datetime.datetime(2100, 1, 1),
                location='file:///old/artifact-%s/layout/x' % legacy))
        self.assertEqual(['artifact-' + legacy], used(legacy, unused))
        self.assertRaises(errors.Invalid, self.api.blob_data_used, admin,
                          ['artifact-' + unused] * 10001)

    def test_upload_records_are_what_glance_api_makes(self):
        art = self.create(self.a)
        upload = {'upload_id': str(uuid.uuid4()), 'backend': 'fs',
                  'process': 'elsewhere:1:0', 'reserved': 0}
        for change, fragment in [({'upload_id': '../../etc/passwd'}, 'UUID'),
                                 ({'process': 'no process'}, 'HOST:PID'),
                                 ({'reserved': -1}, 'non-negative'),
                                 ({'more': 1}, 'An upload is')]:
            error = self.assertRaises(
                errors.Invalid, self.api.blob_upload_begin,
                _context(self.a), art['id'], 'sample_artifacts', 'blob1',
                '', dict(upload, **change))
            self.assertIn(fragment, str(error))
        self.assertEqual([], self.api.blob_upload_list(_context(self.a),
                                                       art['id']))

    def test_housekeeping_reads_are_refused_not_empty(self):
        self.create(self.a)
        a = _context(self.a)
        for call in (lambda: self.api.blob_data_used(a, []),
                     lambda: self.api.pending_delete_list(a),
                     lambda: self.api.pending_delete_remove(a, [1]),
                     lambda: self.api.blob_upload_list(a)):
            self.assertRaises(errors.Forbidden, call)

    def test_referrers_the_caller_cannot_see_are_not_named(self):
        target = self.public_of_a()
        self.create(self.b, ref1=target['id'])
        seen = self.create(self.a, ref1=target['id'])
        referrers = self.api.artifact_referrers(
            _context(self.a), target['id'], [('sample_artifacts', 'ref1')])
        self.assertEqual(
            sorted([{'visible': False}, {
                'id': seen['id'], 'type_name': 'sample_artifacts',
                'name': seen['name'], 'version': '0.0.0',
                'visible': True}], key=lambda r: 'id' in r),
            sorted(referrers, key=lambda r: 'id' in r))

    def test_a_member_reads_its_own_membership_only(self):
        art = self.create(self.a, visibility='shared')
        a = _context(self.a)
        for member in (self.b, 'c-project'):
            self.api.member_create(a, art['id'], None, member)
        self.assertEqual([self.b], [m['member'] for m in self.api.member_list(
            _context(self.b), art['id'], None)])
        self.assertRaises(errors.NotFound, self.api.member_list,
                          _context(self.b), art['id'], None, 'c-project')
        self.assertRaises(errors.NotFound, self.api.member_update,
                          _context(self.b), art['id'], None, 'c-project',
                          'accepted')
        self.assertEqual('accepted', self.api.member_update(
            _context(self.b), art['id'], None, self.b, 'accepted')['status'])
