"""The OCI distribution face's domain: repositories, blobs, upload
sessions, manifests and tags as artifacts of the catalog (the types of
glance/artifacts/types/oci.py), under the catalog's policy, visibility,
quotas, notifications, stores and transactions.

Who may do what:

- A repository belongs to the project that pushed to it first; only that
  project pushes to it (DENIED for others, and for a name another
  project holds even when the caller cannot see it).
- A pull needs a repository the caller can see (its visibility and
  members, as for any artifact). Its manifests and blobs belong to the
  repository's project and are read here on the repository's
  authority: a manifest by its repository and digest, a blob only when
  it is the caller's own or a manifest of that repository names it, so
  that a public repository never serves another repository's blobs.
- Every field is derived from the content received: a blob's name is its
  digest, checked over every byte before the data is recorded as the
  blob's; a manifest's digest, media type, subject and references come
  from its bytes, and every blob it names must be there.

Errors are those of the specification (``Error`` and its subclasses,
with their codes); the HTTP layer gives each its status.
"""

import datetime
import hashlib
import json
import re
import time
import uuid

from oslo_config import cfg
from oslo_utils import timeutils
from webob import multidict

from glance.artifacts import blobs
from glance.artifacts import catalog
from glance.artifacts import exception
from glance.artifacts import lifecycle
from glance.artifacts.types import oci as oci_types

CONF = cfg.CONF

REPOSITORY_TYPE = oci_types.OciRepository.name
MANIFEST_TYPE = oci_types.OciManifest.name
BLOB_TYPE = oci_types.OciBlob.name
UPLOAD_TYPE = oci_types.OciUpload.name
TYPES = (REPOSITORY_TYPE, MANIFEST_TYPE, BLOB_TYPE, UPLOAD_TYPE)

# The grammar of the specification (distribution-spec, "Pulling
# manifests"); 255 characters at most, as the catalog's names.
_COMPONENT = r'[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*'
REPOSITORY = re.compile(r'%s(?:/%s)*' % (_COMPONENT, _COMPONENT))
NAME_MAX = 255
TAG = re.compile(r'[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}')
DIGEST = re.compile(r'([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)')
ALGORITHMS = {'sha256': 64, 'sha512': 128}

IMAGE_MANIFESTS = ('application/vnd.oci.image.manifest.v1+json',
                   'application/vnd.docker.distribution.manifest.v2+json')
INDEXES = ('application/vnd.oci.image.index.v1+json',
           'application/vnd.docker.distribution.manifest.list.v2+json')
MANIFEST_MEDIA_TYPES = IMAGE_MANIFESTS + INDEXES

#: Rows a lookup by name reads: one per project that has the name.
_LOOKUP_LIMIT = 1000


class Error(exception.ArtifactError):
    """An error of the distribution specification: ``code`` is its code,
    the message is for the person, ``detail`` (JSON) for the client."""
    code = None

    def __init__(self, message, detail=None):
        super(Error, self).__init__(message)
        self.detail = detail


class BlobUnknown(Error):
    code = 'BLOB_UNKNOWN'


class BlobUploadInvalid(Error):
    code = 'BLOB_UPLOAD_INVALID'


class RangeInvalid(BlobUploadInvalid):
    """A chunk that does not start where the data received so far ends
    (416)."""


class BlobUploadUnknown(Error):
    code = 'BLOB_UPLOAD_UNKNOWN'


class DigestInvalid(Error):
    code = 'DIGEST_INVALID'


class ManifestBlobUnknown(Error):
    code = 'MANIFEST_BLOB_UNKNOWN'


class ManifestInvalid(Error):
    code = 'MANIFEST_INVALID'


class ManifestTooLarge(ManifestInvalid):
    """More than MANIFEST_MAX bytes (413)."""


class ManifestUnknown(Error):
    code = 'MANIFEST_UNKNOWN'


class NameInvalid(Error):
    code = 'NAME_INVALID'


class NameUnknown(Error):
    code = 'NAME_UNKNOWN'


class SizeInvalid(Error):
    code = 'SIZE_INVALID'


class Denied(Error):
    code = 'DENIED'


class Unsupported(Error):
    code = 'UNSUPPORTED'


# -- names, tags and digests -------------------------------------------------

def check_name(name):
    if len(name) > NAME_MAX or not REPOSITORY.fullmatch(name):
        raise NameInvalid("'%s' is not a repository name: components of "
                          "a-z and 0-9, separated within by '.', '_', '__' "
                          "or dashes, joined by '/', %d characters at most."
                          % (name[:300], NAME_MAX), {'name': name[:300]})


def check_tag(tag):
    if not TAG.fullmatch(tag):
        raise ManifestInvalid("'%s' is not a tag: up to 128 characters of "
                              "a-z, A-Z, 0-9, '_', '.' and '-', not "
                              "starting with '.' or '-'." % tag[:200],
                              {'tag': tag[:200]})


def is_digest(reference):
    return ':' in reference


def check_digest(digest):
    """(algorithm, hex) of a digest this registry verifies (sha256 and
    sha512); DigestInvalid otherwise."""
    match = DIGEST.fullmatch(digest)
    if match is None:
        raise DigestInvalid("'%s' is not a digest (ALGORITHM:ENCODED)."
                            % digest[:200], {'digest': digest[:200]})
    algorithm, encoded = match.groups()
    if algorithm not in ALGORITHMS:
        raise DigestInvalid("Digests of algorithm '%s' are not supported: "
                            "use %s." % (algorithm[:32],
                                         ' or '.join(ALGORITHMS)),
                            {'digest': digest[:200]})
    if len(encoded) != ALGORITHMS[algorithm] or \
            not re.fullmatch('[0-9a-f]+', encoded):
        raise DigestInvalid('A %s digest is %d lowercase hexadecimal '
                            "digits: '%s'." % (algorithm,
                                               ALGORITHMS[algorithm],
                                               digest[:200]),
                            {'digest': digest[:200]})
    return algorithm, encoded


class Digesting(object):
    """A file-like reader over ``source`` that hashes what it reads and,
    at the end of the data, raises DigestInvalid unless it has the
    expected digest: so the upload it feeds fails, and keeps nothing,
    before its data becomes a blob's."""

    def __init__(self, source, digest):
        self.algorithm, self.expected = check_digest(digest)
        self.digest = digest
        self.source = source
        self.hash = hashlib.new(self.algorithm)
        self.count = 0

    def read(self, size=-1):
        data = self.source.read(size)
        if data:
            self.hash.update(data)
            self.count += len(data)
            return data
        if self.hash.hexdigest() != self.expected:
            raise DigestInvalid(
                'The %d bytes received have the digest %s:%s, not %s; '
                'nothing was kept.' % (self.count, self.algorithm,
                                       self.hash.hexdigest(), self.digest),
                {'digest': self.digest})
        return data


class _Chunks(object):
    """A file-like reader over the data of blob rows, one after another
    (each read from its store only when the one before has ended), and
    then over a file-like ``tail``."""

    def __init__(self, rows, tail):
        self.rows = list(rows)
        self.data = None
        self.tail = tail
        self.pending = b''

    def read(self, size=-1):
        while not self.pending and (self.data is not None or self.rows):
            if self.data is None:
                self.data = blobs.data(self.rows.pop(0))
            self.pending = next(self.data, b'')
            if not self.pending:
                self.data = None
        if not self.pending:
            return self.tail.read(size) if self.tail is not None else b''
        if size < 0:
            size = len(self.pending)
        data, self.pending = self.pending[:size], self.pending[size:]
        return data


# -- lookups -----------------------------------------------------------------

def _list(context, types, type_name, **filters):
    # eq: keeps a value with a colon (a digest) from reading as an
    # operator.
    params = multidict.MultiDict(
        limit=str(_LOOKUP_LIMIT),
        **{name: 'eq:' + value for name, value in filters.items()})
    views, _more = catalog.list_artifacts(context, types[type_name], params,
                                          types)
    return views


def _owner(context):
    return context.owner or None


def _own(context, view):
    return (view['owner'] or None) == _owner(context)


def _owned(types, type_name, owner, **filters):
    """The artifact of ``type_name`` with ``filters`` that ``owner``'s
    project holds (read with the housekeeping identity: the caller of
    this module was checked against the repository), or None."""
    for view in _list(catalog.admin_context(), types, type_name, **filters):
        if (view['owner'] or None) == owner:
            return view
    return None


def anonymous(context):
    """Whether the caller gave no credentials (Glance's anonymous context,
    where allow_anonymous_access lets one through): it may pull from
    public repositories only."""
    return context.user_id is None and not context.is_admin


def repository(context, types, name):
    """The repository of that name the caller can see (their project's
    own first); NameUnknown when there is none. Without credentials, a
    public one (looked up with the housekeeping identity: the policies of
    the catalog are for callers with roles)."""
    check_name(name)
    if anonymous(context):
        views = _list(catalog.admin_context(), types, REPOSITORY_TYPE,
                      name=name, visibility='public')
    else:
        views = _list(context, types, REPOSITORY_TYPE, name=name)
    own = [v for v in views if _own(context, v)]
    if not own and not views:
        raise NameUnknown("No repository '%s' is known to you." % name,
                          {'name': name})
    repo = (own or views)[0]
    _check_not_deactivated(context, repo)
    return repo


def _check_not_deactivated(context, repo):
    # As the data of a deactivated artifact: for administrators only.
    if repo['status'] == 'deactivated' and not context.is_admin:
        raise Denied("The repository '%s' is deactivated: only "
                     'administrators may use it.' % repo['name'],
                     {'name': repo['name']})


def repository_to_push(context, types, name):
    """The caller's project's repository of that name, created at its
    first push; Denied when another project holds that name."""
    check_name(name)
    for _attempt in range(2):
        theirs = _list(catalog.admin_context(), types, REPOSITORY_TYPE,
                       name=name)
        own = [v for v in theirs if _own(context, v)]
        if own:
            _check_not_deactivated(context, own[0])
            return own[0]
        if theirs:
            raise Denied("The repository '%s' belongs to another project: "
                         "you may not push to it." % name, {'name': name})
        try:
            view = catalog.create(context, types[REPOSITORY_TYPE],
                                  {'name': name}, types)
        except exception.Duplicate:
            continue        # made at the same moment by another push
        lifecycle.activate(context, types[REPOSITORY_TYPE], view['id'],
                           types)
        return catalog.get(context, types[REPOSITORY_TYPE], view['id'])
    raise exception.Conflict("The repository '%s' could not be made; try "
                             "again." % name)


# -- blobs -------------------------------------------------------------------

def _blob(types, owner, digest):
    return _owned(types, BLOB_TYPE, owner, name=digest)


def blob_to_pull(context, types, name, digest):
    """(the blob's artifact view, its data row) of a blob the caller may
    pull from repository ``name``: their project's own, or one that a
    manifest of the repository names."""
    check_digest(digest)
    repo = repository(context, types, name)
    owner = repo['owner'] or None
    blob = _blob(types, owner, digest)
    if blob is None or blob['status'] != 'active' or not (
            _own(context, repo) or _owned(types, MANIFEST_TYPE, owner,
                                          name=name, blobs=blob['id'])):
        raise BlobUnknown('The repository %s has no blob %s.'
                          % (name, digest), {'digest': digest})
    return blobs.download(catalog.admin_context(), types[BLOB_TYPE],
                          blob['id'], 'data', None)


def _put_blob(context, types, digest, reader, size):
    """Store what ``reader`` gives as the caller's project's blob
    ``digest``, checked against it; when that blob is there already,
    check the data against it and keep the blob as it is."""
    checked = Digesting(reader, digest)
    blob = _blob(types, _owner(context), digest)
    if blob is not None and blob['status'] == 'active':
        while checked.read(blobs.CHUNK):
            pass
        return blob
    if blob is None:
        try:
            blob = catalog.create(context, types[BLOB_TYPE],
                                  {'name': digest}, types)
        except exception.Duplicate:
            blob = _blob(types, _owner(context), digest)
    try:
        blobs.upload(context, types[BLOB_TYPE], blob['id'], 'data', None,
                     checked, size, types=types)
    except exception.Conflict:
        if checked.count:
            raise
        # Another push of the same blob is under way (one upload of a
        # blob at a time) or has just ended: take this data, check it,
        # and keep theirs once it is there.
        while checked.read(blobs.CHUNK):
            pass
        return _when_active(types, _owner(context), digest)
    lifecycle.activate(context, types[BLOB_TYPE], blob['id'], types)
    return blob


#: Seconds a push waits for another push of the same blob to end.
CONCURRENT_PUSH_WAIT = 60


def _when_active(types, owner, digest):
    deadline = time.monotonic() + CONCURRENT_PUSH_WAIT
    while True:
        blob = _blob(types, owner, digest)
        if blob is not None and blob['status'] == 'active':
            return blob
        if time.monotonic() > deadline:
            raise exception.Conflict(
                'Another push of the blob %s has not ended after %d '
                'seconds; try again.' % (digest, CONCURRENT_PUSH_WAIT))
        time.sleep(0.2)


def put_blob(context, types, name, digest, body, size):
    """A monolithic upload: ``body`` is the whole blob."""
    repository_to_push(context, types, name)
    return _put_blob(context, types, digest, body, size)


def mount(context, types, name, digest, source):
    """Whether the blob ``digest`` the caller may pull from repository
    ``source`` is now in repository ``name`` with nothing uploaded: true
    when it is their project's own blob (blobs are per project); else the
    client uploads it (the specification's fallback)."""
    check_digest(digest)
    repository_to_push(context, types, name)
    try:
        blob, _row = blob_to_pull(context, types, source, digest)
    except (BlobUnknown, NameUnknown, NameInvalid):
        return False
    return _own(context, blob)


def delete_blob(context, types, name, digest):
    check_digest(digest)
    repo = _own_repository(context, types, name)
    blob = _blob(types, repo['owner'] or None, digest)
    if blob is None:
        raise BlobUnknown('The repository %s has no blob %s.'
                          % (name, digest), {'digest': digest})
    catalog.delete(context, types[BLOB_TYPE], blob['id'], types)


def _own_repository(context, types, name):
    repo = repository(context, types, name)
    if not _own(context, repo):
        raise Denied("The repository '%s' belongs to another project."
                     % name, {'name': name})
    return repo


# -- upload sessions ---------------------------------------------------------

def start_upload(context, types, name):
    """A new upload session in repository ``name``; its id."""
    repository_to_push(context, types, name)
    view = catalog.create(context, types[UPLOAD_TYPE],
                          {'name': name,
                           'version': '0.0.0+' + uuid.uuid4().hex}, types)
    return view['id']


def _session(context, types, name, session_id):
    """(view, data API record) of the caller's upload session."""
    if not re.fullmatch('[0-9a-f-]{36}', session_id):
        raise BlobUploadUnknown('No upload %s.' % session_id[:64])
    try:
        record = catalog.get_record(context, types[UPLOAD_TYPE],
                                    session_id)
    except exception.NotFound:
        raise BlobUploadUnknown('No upload %s in %s.' % (session_id, name))
    view = catalog.present(types[UPLOAD_TYPE], record)
    if view['name'] != name or not _own(context, view):
        raise BlobUploadUnknown('No upload %s in %s.' % (session_id, name))
    return view, record


def _received(view):
    """Bytes received by a session: its chunks are keyed by the offset
    they start at and must follow each other exactly."""
    total = 0
    for key in sorted(view['chunks']):
        chunk = view['chunks'][key]
        if int(key) != total or chunk['status'] != 'active':
            raise BlobUploadInvalid('The upload has a gap or a chunk still '
                                    'arriving at byte %d; start a new one.'
                                    % total)
        total += chunk['size']
    return total


def upload_status(context, types, name, session_id):
    """The number of bytes the session has received."""
    view, _record = _session(context, types, name, session_id)
    return _received(view)


def upload_chunk(context, types, name, session_id, body, size, start):
    """Append ``body`` (``size`` bytes, or None when not declared) to the
    session; ``start`` (or None) is where the client says it begins,
    which must be where the data received so far ends (RangeInvalid).
    Returns the bytes received in all."""
    view, _record = _session(context, types, name, session_id)
    received = _received(view)
    if start is not None and start != received:
        raise RangeInvalid('The chunk starts at byte %d, but the upload '
                           'has %d bytes: send from byte %d.'
                           % (start, received, received),
                           {'received': received})
    if size == 0:
        return received
    key = '%015d' % received
    after = blobs.upload(context, types[UPLOAD_TYPE], session_id, 'chunks',
                         key, body, size, types=types)
    return _received(after)


def finish_upload(context, types, name, session_id, digest, body, size):
    """The data of the session, then ``body``, become the project's blob
    ``digest`` once they are checked against it; the session is gone."""
    check_digest(digest)
    view, record = _session(context, types, name, session_id)
    _received(view)
    rows = sorted((r for r in record['blobs'] if r['field'] == 'chunks'),
                  key=lambda r: r['key'])
    reader = _Chunks(rows, body)
    whole = None if size is None else sum(r['size'] for r in rows) + size
    blob = _put_blob(context, types, digest, reader, whole)
    catalog.delete(context, types[UPLOAD_TYPE], session_id, types)
    return blob


def cancel_upload(context, types, name, session_id):
    _session(context, types, name, session_id)
    catalog.delete(context, types[UPLOAD_TYPE], session_id, types)


# -- manifests and tags ------------------------------------------------------

def _descriptor(value, where):
    if not isinstance(value, dict) or not isinstance(
            value.get('digest'), str) or not isinstance(
            value.get('mediaType'), str) or isinstance(
            value.get('size'), bool) or not isinstance(
            value.get('size'), int) or value['size'] < 0:
        raise ManifestInvalid('%s is not a descriptor (an object with '
                              'mediaType, digest and size).' % where)
    try:
        check_digest(value['digest'])
    except DigestInvalid as e:
        raise ManifestInvalid('%s: %s' % (where, e))
    return value


def parse_manifest(content, content_type):
    """(media type, config and layer descriptors, manifest descriptors,
    subject descriptor or None, artifactType or None) of a manifest."""
    try:
        doc = json.loads(content)
    except ValueError as e:
        raise ManifestInvalid('The manifest is not JSON: %s' % e)
    if not isinstance(doc, dict):
        raise ManifestInvalid('The manifest is not a JSON object.')
    media_type = doc.get('mediaType', content_type)
    if content_type and media_type != content_type:
        raise ManifestInvalid("The manifest's mediaType %s differs from "
                              'its Content-Type %s.'
                              % (str(media_type)[:200], content_type[:200]))
    if media_type not in MANIFEST_MEDIA_TYPES:
        raise ManifestInvalid('Manifests of media type %s are not '
                              'supported: send one of %s.'
                              % (str(media_type)[:200],
                                 ', '.join(MANIFEST_MEDIA_TYPES)))
    if doc.get('schemaVersion') != 2:
        raise ManifestInvalid('The manifest is not of schemaVersion 2.')
    parts, manifests = [], []
    if media_type in IMAGE_MANIFESTS:
        layers = doc.get('layers')
        if not isinstance(layers, list):
            raise ManifestInvalid('An image manifest has a list of layers.')
        parts = [_descriptor(doc.get('config'), 'config')] + [
            _descriptor(layer, 'layer %d' % i)
            for i, layer in enumerate(layers)]
    else:
        listed = doc.get('manifests')
        if not isinstance(listed, list):
            raise ManifestInvalid('An index has a list of manifests.')
        manifests = [_descriptor(m, 'manifest %d' % i)
                     for i, m in enumerate(listed)]
    subject = doc.get('subject')
    if subject is not None:
        subject = _descriptor(subject, 'subject')
    artifact_type = doc.get('artifactType')
    if artifact_type is not None and not isinstance(artifact_type, str):
        raise ManifestInvalid('artifactType is a media type (a string).')
    if artifact_type is None and media_type in IMAGE_MANIFESTS:
        artifact_type = parts[0]['mediaType']
    if len(parts) > oci_types.MAX_PARTS or \
            len(manifests) > oci_types.MAX_PARTS:
        raise ManifestInvalid('A manifest names %d blobs or manifests at '
                              'most.' % oci_types.MAX_PARTS)
    annotations = doc.get('annotations')
    return {'media_type': media_type, 'parts': parts,
            'manifests': manifests, 'subject': subject,
            'artifact_type': artifact_type,
            'annotations': annotations if isinstance(annotations, dict)
            else None}


def _version(digest):
    algorithm, encoded = check_digest(digest)
    return '0.0.0+%s.%s' % (algorithm, encoded)


def _manifest(types, owner, name, digest):
    # By digest: a version filter compares SemVer precedence, which
    # leaves out the build metadata that holds the digest.
    check_digest(digest)
    return _owned(types, MANIFEST_TYPE, owner, name=name, digest=digest)


def put_manifest(context, types, name, reference, content, content_type):
    """Push a manifest to repository ``name`` under ``reference`` (a tag,
    or its digest); returns (its digest, its parsed form)."""
    check_name(name)
    if len(content) > oci_types.MANIFEST_MAX:
        raise ManifestTooLarge('A manifest is %d bytes at most.'
                               % oci_types.MANIFEST_MAX)
    if is_digest(reference):
        algorithm, _hex = check_digest(reference)
    else:
        check_tag(reference)
        algorithm = 'sha256'
    digest = '%s:%s' % (algorithm,
                        hashlib.new(algorithm, content).hexdigest())
    if is_digest(reference) and reference != digest:
        raise DigestInvalid('The manifest has the digest %s, not %s.'
                            % (digest, reference), {'digest': reference})
    parsed = parse_manifest(content, content_type)
    repo = repository_to_push(context, types, name)
    owner = _owner(context)
    blob_ids = []
    for part in parsed['parts']:
        blob = _blob(types, owner, part['digest'])
        if blob is None or blob['status'] != 'active' or \
                blob['data']['size'] != part['size']:
            raise ManifestBlobUnknown(
                'The manifest names the blob %s (%d bytes), which is not in '
                'the repository %s: push it first.'
                % (part['digest'], part['size'], name),
                {'digest': part['digest']})
        if blob['id'] not in blob_ids:
            blob_ids.append(blob['id'])
            _keep_young(context, types, blob)
    manifest_ids = []
    for listed in parsed['manifests']:
        found = _manifest(types, owner, name, listed['digest'])
        if found is None or found['status'] != 'active':
            raise ManifestBlobUnknown(
                'The index names the manifest %s, which is not in the '
                'repository %s: push it first.' % (listed['digest'], name),
                {'digest': listed['digest']})
        if found['id'] not in manifest_ids:
            manifest_ids.append(found['id'])
    manifest = _manifest(types, owner, name, digest)
    if manifest is None:
        fields = {'name': name, 'version': _version(digest),
                  'digest': digest, 'media_type': parsed['media_type'],
                  'blobs': blob_ids, 'manifests': manifest_ids}
        if parsed['artifact_type']:
            fields['artifact_type'] = parsed['artifact_type']
        if parsed['subject']:
            fields['subject'] = parsed['subject']['digest']
        try:
            manifest = catalog.create(context, types[MANIFEST_TYPE], fields,
                                      types)
        except exception.Duplicate:
            manifest = _manifest(types, owner, name, digest)
    if manifest['status'] != 'active':
        blobs.upload(context, types[MANIFEST_TYPE], manifest['id'],
                     'manifest', None, _Bytes(content), len(content),
                     types=types)
        lifecycle.activate(context, types[MANIFEST_TYPE], manifest['id'],
                           types)
    if not is_digest(reference):
        catalog.update(context, types[REPOSITORY_TYPE], repo['id'],
                       [{'op': 'add', 'path': '/tagged/' + reference,
                         'value': digest}], types)
    return digest, parsed


class _Bytes(object):
    def __init__(self, data):
        self.data = data

    def read(self, size=-1):
        if size < 0:
            size = len(self.data)
        data, self.data = self.data[:size], self.data[size:]
        return data


def get_manifest(context, types, name, reference):
    """(digest, media type, the manifest's bytes) of a manifest of the
    repository, by tag or digest."""
    repo = repository(context, types, name)
    if is_digest(reference):
        check_digest(reference)
        digest = reference
    else:
        check_tag(reference)
        digest = repo['tagged'].get(reference)
        if digest is None:
            raise ManifestUnknown('The repository %s has no tag %s.'
                                  % (name, reference),
                                  {'tag': reference})
    manifest = _manifest(types, repo['owner'] or None, name, digest)
    if manifest is None or manifest['status'] != 'active':
        raise ManifestUnknown('The repository %s has no manifest %s.'
                              % (name, digest), {'digest': digest})
    return digest, manifest['media_type'], _content(types, manifest)


def _content(types, manifest):
    _view, row = blobs.download(catalog.admin_context(),
                                types[MANIFEST_TYPE], manifest['id'],
                                'manifest', None)
    return b''.join(blobs.data(row))


def tags(context, types, name, n=None, last=None):
    """(the repository's tags in lexical order after ``last``, at most
    ``n`` of them, whether there are more)."""
    repo = repository(context, types, name)
    names = sorted(t for t in repo['tagged'] if last is None or t > last)
    if n is None:
        return names, False
    return names[:n], len(names) > n


def referrers(context, types, name, digest, artifact_type=None):
    """The descriptors of the manifests of the repository whose subject
    is ``digest`` (with ``artifact_type`` only, when given)."""
    check_digest(digest)
    repo = repository(context, types, name)
    filters = {'name': name, 'subject': digest}
    if artifact_type is not None:
        filters['artifact_type'] = artifact_type
    found = []
    for view in _list(catalog.admin_context(), types, MANIFEST_TYPE,
                      **filters):
        if (view['owner'] or None) != (repo['owner'] or None) or \
                view['status'] != 'active':
            continue
        descriptor = {'mediaType': view['media_type'],
                      'digest': view['digest'],
                      'size': view['manifest']['size']}
        if view['artifact_type']:
            descriptor['artifactType'] = view['artifact_type']
        annotations = parse_manifest(_content(types, view),
                                     None)['annotations']
        if annotations:
            descriptor['annotations'] = annotations
        found.append(descriptor)
    return found


def delete_manifest(context, types, name, reference):
    """Delete a tag (by tag), or a manifest and the tags naming it (by
    digest)."""
    repo = _own_repository(context, types, name)
    if not is_digest(reference):
        check_tag(reference)
        if reference not in repo['tagged']:
            raise ManifestUnknown('The repository %s has no tag %s.'
                                  % (name, reference), {'tag': reference})
        _untag(context, types, repo, lambda tag, digest: tag == reference)
        return
    manifest = _manifest(types, repo['owner'] or None, name, reference)
    if manifest is None:
        raise ManifestUnknown('The repository %s has no manifest %s.'
                              % (name, reference), {'digest': reference})
    _untag(context, types, repo, lambda tag, digest: digest == reference)
    catalog.delete(context, types[MANIFEST_TYPE], manifest['id'], types)


def _untag(context, types, repo, which):
    """Remove the tags ``which(tag, digest)`` picks, deciding on the
    repository as it is when the change is written (a tag moved to
    another manifest meanwhile stays)."""
    def patch(view):
        return [{'op': 'remove', 'path': '/tagged/' + tag}
                for tag, digest in sorted(view['tagged'].items())
                if which(tag, digest)]
    catalog.update(context, types[REPOSITORY_TYPE], repo['id'], patch,
                   types)


# -- garbage collection ------------------------------------------------------

def _keep_young(context, types, blob):
    """Make a blob that is about to be named by a new manifest young
    again (a write of it), so that garbage collection, which takes only
    blobs unchanged for its grace period, leaves it: a pass that read it
    before this write fails to delete it (the write moved it on), one
    that reads it after finds it young, and once the manifest is there
    the catalog refuses to delete what it names."""
    young = _isotime(timeutils.utcnow() - datetime.timedelta(
        seconds=CONF.artifacts.gc_grace / 2))
    if blob['updated_at'] < young:
        catalog.data_api().artifact_update(context, blob['id'], BLOB_TYPE,
                                           {})


def _isotime(value):
    return value.strftime('%Y-%m-%dT%H:%M:%SZ')


#: Artifacts a garbage collection pass reads at a time.
_PAGE = 100


def _page(types, type_name, cutoff, marker):
    """A page of the artifacts of ``type_name`` unchanged since
    ``cutoff``, oldest first, after ``marker``."""
    params = multidict.MultiDict(limit=str(_PAGE), sort='updated_at:asc',
                                 updated_at='lt:' + _isotime(cutoff))
    if marker is not None:
        params['marker'] = marker
    views, _more = catalog.list_artifacts(catalog.admin_context(),
                                          types[type_name], params, types)
    return views


def collect(types, older_than):
    """One pass over the OCI content, as the garbage collection of a
    registry: upload sessions unchanged for ``older_than`` seconds are
    cancelled, and blobs unchanged for that long that no manifest names
    are deleted (through the catalog: pending deletes and the store's
    checks apply; a blob a manifest names is refused, and kept). Returns
    {'uploads': n, 'blobs': n}: what went."""
    admin = catalog.admin_context()
    cutoff = timeutils.utcnow() - datetime.timedelta(seconds=older_than)
    counts = {'uploads': 0, 'blobs': 0}
    for type_name, key in ((UPLOAD_TYPE, 'uploads'), (BLOB_TYPE, 'blobs')):
        marker = None
        while True:
            page = _page(types, type_name, cutoff, marker)
            for view in page:
                try:
                    catalog.delete(admin, types[type_name], view['id'],
                                   types)
                except (exception.Conflict, exception.NotFound):
                    # Named by a manifest, changed, or gone: kept; the
                    # next page starts after it (those deleted are gone).
                    marker = view['id']
                    continue
                counts[key] += 1
            if len(page) < _PAGE:
                break
    return counts
