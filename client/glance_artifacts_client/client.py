"""The Python API of the artifacts client.

    from keystoneauth1 import session
    from glance_artifacts_client import Client

    client = Client(session=session.Session(auth=...))   # from the catalog
    client = Client(endpoint='http://127.0.0.1:9292')     # no auth

    art = client.create_artifact('heat_templates',
                                 {'name': 'wordpress', 'version': '1.0.0'})
    client.upload_blob('heat_templates', art['id'], 'template',
                       'wordpress.yaml')
    client.download_blob_to_file('heat_templates', art['id'], 'template',
                                 'copy.yaml')

The endpoint is the image service's (service type ``image``), found in the
catalog of the session's auth as for Glance's images. Artifacts are dicts
as the API shows them. Blob data moves in chunks of ``chunk_size`` bytes,
never whole: an upload reads its data twice (once for the checksums the
server verifies, once to send it), and data that cannot be read twice
(a pipe) is spooled to a temporary file; a download is verified against
the checksums the server sends while it streams.
"""

import hashlib
import io
import os
import re
import tempfile
import urllib.parse
import uuid

from keystoneauth1 import adapter
from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint
import requests

from glance_artifacts_client import exceptions
from glance_artifacts_client import version as _version

PREFIX = '/v2/artifacts'
PATCH_MEDIA_TYPE = 'application/openstack-images-v2.1-json-patch'
DEFAULT_CHUNK_SIZE = 256 * 1024
# Glance's default [DEFAULT] hashing_algorithm; the server checks the
# X-Openstack-Artifact-Os-Hash-Value of an upload with its own.
DEFAULT_HASH_ALGORITHM = 'sha512'

SIZE_HEADER = 'X-Openstack-Artifact-Size'
HASH_HEADER = 'X-Openstack-Artifact-Os-Hash-Value'
ALGO_HEADER = 'X-Openstack-Artifact-Os-Hash-Algo'
STORE_HEADER = 'X-Openstack-Artifact-Store'
TYPE_HEADER = 'X-Openstack-Artifact-Content-Type'

# A version at the end of a catalog URL (http://glance:9292/v2): the API
# lives below the service's root.
_VERSION_SUFFIX = re.compile(r'/v[0-9]+(\.[0-9]+)?/?$')


def is_uuid(text):
    try:
        return str(uuid.UUID(text)) == text.lower()
    except (ValueError, TypeError, AttributeError):
        return False


def _quote(segment):
    return urllib.parse.quote(segment, safe='')


def _md5():
    return hashlib.md5(usedforsecurity=False)


def _in_list(values):
    """``values`` as the comma-separated list of an ``in:`` filter."""
    if any('"' in v for v in values):
        raise ValueError('a value with a double quote cannot be given in '
                         'a list')
    return ','.join('"%s"' % v if ',' in v else v for v in values)


class _UploadBody(object):
    """The body of an upload: ``size`` bytes of ``source`` from offset
    ``start``, in chunks; iterating again starts again (keystoneauth may
    resend a request after taking a new token). It has a length, so that
    requests sends it with a Content-Length rather than chunked."""

    def __init__(self, source, start, size, chunk_size, progress=None):
        self.source = source
        self.start = start
        self.size = size
        self.chunk_size = chunk_size
        self.progress = progress

    def __len__(self):
        return self.size

    def __iter__(self):
        self.source.seek(self.start)
        left = self.size
        if self.progress is not None:
            self.progress(0, self.size)
        while left > 0:
            chunk = self.source.read(min(self.chunk_size, left))
            if not chunk:
                raise exceptions.ClientException(
                    'The data to upload ended %d bytes early (did the file '
                    'change while it was sent?)' % left)
            left -= len(chunk)
            if self.progress is not None:
                self.progress(self.size - left, self.size)
            yield chunk

    def __repr__(self):
        return '<%d bytes of blob data>' % self.size


class BlobDownload(object):
    """The data of one blob, streaming: iterate for its chunks; the last
    step of the iteration checks what came against the size, the MD5
    (``checksum``) and the ``os_hash_value`` the server sent, and raises
    IncompleteDownload or ChecksumMismatch when they differ. Use it as a
    context manager, or close() it, when not reading it to the end."""

    def __init__(self, response, chunk_size, what):
        self.response = response
        self.chunk_size = chunk_size
        self.what = what
        headers = response.headers
        length = headers.get('Content-Length')
        self.size = int(length) if length is not None else None
        self.checksum = headers.get('Content-MD5')
        self.os_hash_algo = headers.get(ALGO_HEADER)
        self.os_hash_value = headers.get(HASH_HEADER)
        self.content_type = headers.get('Content-Type')
        self.received = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        self.response.close()

    def _hashers(self):
        hashers = {}
        if self.checksum:
            hashers['checksum'] = (_md5(), self.checksum)
        if self.os_hash_value and self.os_hash_algo in \
                hashlib.algorithms_available:
            hashers['os_hash_value'] = (hashlib.new(self.os_hash_algo),
                                        self.os_hash_value)
        if not hashers:
            self.close()
            raise exceptions.ChecksumMismatch(
                'The server sent no checksum of %s that this client can '
                'compute (Content-MD5 %r, %s %r): it cannot be verified'
                % (self.what, self.checksum, self.os_hash_algo,
                   self.os_hash_value))
        return hashers

    def write_to(self, f, progress=None):
        """Write every chunk to the binary file ``f``, checked as
        iterating checks them; ``progress`` is called with (bytes
        received, size)."""
        if progress is not None:
            progress(0, self.size)
        for chunk in self:
            f.write(chunk)
            if progress is not None:
                progress(self.received, self.size)

    def __iter__(self):
        hashers = self._hashers()
        try:
            for chunk in self.response.iter_content(self.chunk_size):
                for hasher, _expected in hashers.values():
                    hasher.update(chunk)
                self.received += len(chunk)
                yield chunk
        except requests.exceptions.RequestException as e:
            raise exceptions.IncompleteDownload(
                'The download of %s broke off after %d of %s bytes: %s'
                % (self.what, self.received, self.size, e))
        finally:
            self.close()
        if self.size is not None and self.received != self.size:
            raise exceptions.IncompleteDownload(
                'The download of %s ended after %d of %d bytes'
                % (self.what, self.received, self.size))
        for name, (hasher, expected) in sorted(hashers.items()):
            got = hasher.hexdigest()
            if got != expected.lower():
                kind = ('MD5' if name == 'checksum'
                        else self.os_hash_algo)
                raise exceptions.ChecksumMismatch(
                    'The data of %s does not match its %s: the server '
                    'gave %s, the data received has %s'
                    % (self.what, kind, expected, got))


class Client(object):
    """The artifacts API of one endpoint.

    :param session: a keystoneauth Session; the endpoint is the image
        service's in its auth's catalog (``service_type``,
        ``interface``, ``region_name``) unless ``endpoint`` is given.
    :param endpoint: the image service's URL (http://glance:9292); without
        a session, requests go there with ``token`` as X-Auth-Token, or
        with no auth.
    :param chunk_size: bytes of blob data read and sent at a time.
    :param hash_algorithm: the hashlib name of the server's
        ``hashing_algorithm`` (Glance's default: sha512), for the digest
        an upload sends for the server to verify.
    """

    def __init__(self, session=None, endpoint=None, token=None,
                 service_type='image', interface=None, region_name=None,
                 chunk_size=DEFAULT_CHUNK_SIZE,
                 hash_algorithm=DEFAULT_HASH_ALGORITHM, **adapter_options):
        if session is None:
            if endpoint is None:
                raise ValueError('Give a keystoneauth session or an '
                                 'endpoint')
            auth = (token_endpoint.Token(endpoint, token) if token
                    else noauth.NoAuth(endpoint=endpoint))
            session = ks_session.Session(auth=auth)
        adapter_options.setdefault('client_name',
                                   'python-glance-artifacts-client')
        adapter_options.setdefault('client_version', _version.__version__)
        self.session = session
        self.adapter = adapter.Adapter(
            session, service_type=service_type, interface=interface,
            region_name=region_name, endpoint_override=endpoint,
            **adapter_options)
        self.chunk_size = chunk_size
        hashlib.new(hash_algorithm)     # ValueError when unknown
        self.hash_algorithm = hash_algorithm
        self._root = None

    # -- HTTP ---------------------------------------------------------------

    @property
    def root(self):
        """The image service's URL without a version (or a trailing
        slash): list links and the API's paths go below it."""
        if self._root is None:
            url = self.adapter.get_endpoint()
            if not url:
                raise exceptions.EndpointNotFound(
                    'No endpoint of the image service (service type %s, '
                    'interface %s, region %s) in the catalog'
                    % (self.adapter.service_type,
                       self.adapter.interface or 'public',
                       self.adapter.region_name or 'any'))
            self._root = _VERSION_SUFFIX.sub('', url.rstrip('/'))
        return self._root

    def url(self, *segments):
        """The absolute URL of /v2/artifacts/SEGMENT/... (quoted)."""
        return self.root + PREFIX + ''.join('/' + _quote(s)
                                            for s in segments)

    def request(self, method, url, expect=(200,), **kwargs):
        """The response to ``method`` ``url`` (absolute, or a path such
        as a list's next link), or the HTTPError its status means."""
        if url.startswith('/'):
            url = self.root + url
        headers = kwargs.pop('headers', None) or {}
        headers.setdefault('Accept', 'application/json')
        response = self.adapter.request(url, method, headers=headers,
                                        raise_exc=False, **kwargs)
        if response.status_code >= 400:
            try:
                raise exceptions.from_response(response)
            finally:
                response.close()
        if response.status_code not in expect:
            response.close()
            raise exceptions.HTTPError(
                'Unexpected answer %s %s to %s %s'
                % (response.status_code, response.reason, method, url),
                status_code=response.status_code,
                request_id=response.headers.get('x-openstack-request-id'),
                response=response)
        return response

    def _json(self, method, url, expect=(200,), **kwargs):
        return self.request(method, url, expect=expect, **kwargs).json()

    # -- types, schemas, usage ---------------------------------------------

    def list_types(self):
        """The enabled artifact types: name, display_name, type_version,
        description, links."""
        return self._json('GET', self.url())['artifact_types']

    def get_schema(self, type_name):
        """The JSON schema of an artifact of ``type_name`` (or ``all``)."""
        return self._json('GET', self.url('schemas', type_name))

    def get_usage(self):
        """The caller's project's usage and limits: {resource: {'usage',
        'limit'[, 'usage_bytes']}}."""
        return self._json('GET', self.url('usage'))['usage']

    # -- artifacts ----------------------------------------------------------

    def list_artifacts(self, type_name, filters=None, tags=(), sort=None,
                       limit=None, marker=None, page_size=None,
                       tags_any=()):
        """The visible artifacts of ``type_name`` (``all`` for every
        type), following the list's next links: all of them, or at most
        ``limit``.

        ``filters`` maps query parameters (``name``, ``version``,
        ``status``, ``visibility``, ``member_status``, type fields,
        ``metadata.KEY``...) to a value or a list of values (a parameter
        repeated, as for ranges: ``{'version': ['gte:1.0.0',
        'lt:2.0.0']}``, a name pattern as ``{'name': 'like:web%'}``);
        ``tags`` must all be present, and one of ``tags_any`` (a tag with
        a comma is sent in double quotes; one with a double quote cannot
        be, ValueError); ``sort`` is
        ``key:dir,...``; ``page_size`` is the ``limit`` of each request
        (by default ``limit``, else the server's default)."""
        if limit is not None and limit <= 0:
            return
        params = []
        items = filters.items() if hasattr(filters, 'items') else \
            (filters or ())
        for key, value in items:
            values = value if isinstance(value, (list, tuple)) else [value]
            params.extend((key, v) for v in values)
        params.extend(('tags', t) for t in tags)
        if tags_any:
            params.append(('tags-any', _in_list(tags_any)))
        if sort:
            params.append(('sort', sort))
        if marker:
            params.append(('marker', marker))
        if page_size or limit:
            params.append(('limit', str(page_size or limit)))
        url = self.url(type_name)
        count = 0
        while url:
            page = self._json('GET', url, params=params)
            for artifact in page['artifacts']:
                yield artifact
                count += 1
                if limit is not None and count >= limit:
                    return
            url, params = page.get('next'), None

    def get_artifact(self, type_name, artifact_id, dependencies=None):
        """The artifact; with ``dependencies`` ('direct' or 'transitive'),
        also its ``dependency_graph``."""
        params = {'dependencies': dependencies} if dependencies else None
        return self._json('GET', self.url(type_name, artifact_id),
                          params=params)

    def find_artifact(self, type_name, name_or_id, version=None):
        """The one visible artifact of ``type_name`` with that id, or with
        that name (and ``version``: a SemVer string or ``latest``).
        NotFound when there is none, NoUniqueMatch when the name names
        several (several versions, or several owners)."""
        if version is None and is_uuid(name_or_id):
            try:
                return self.get_artifact(type_name, name_or_id)
            except exceptions.NotFound:
                pass        # perhaps an artifact named like a UUID
        # 'eq:' lets a name or version hold a colon.
        filters = {'name': 'eq:' + name_or_id, 'member_status': 'all'}
        if version is not None:
            filters['version'] = (version if version == 'latest'
                                  else 'eq:' + version)
        found = list(self.list_artifacts(type_name, filters))
        if not found:
            # Community artifacts are listed only when asked for.
            filters['visibility'] = 'community'
            found = list(self.list_artifacts(type_name, filters))
        what = "'%s'%s" % (name_or_id, ' version %s' % version
                           if version else '')
        if not found:
            raise exceptions.ArtifactNotFound(
                'No %s artifact with the name or id %s' % (type_name, what))
        if len(found) > 1:
            versions = sorted({a['version'] for a in found})
            if version is None and len(versions) > 1:
                raise exceptions.NoUniqueMatch(
                    '%d %s artifacts are named %s, of versions %s: give a '
                    "version (or 'latest'), or an id"
                    % (len(found), type_name, what, ', '.join(versions)))
            raise exceptions.NoUniqueMatch(
                '%d %s artifacts are named %s (ids %s, of projects %s): '
                'give an id' % (len(found), type_name, what,
                                ', '.join(a['id'] for a in found),
                                ', '.join(a['owner'] or '-'
                                          for a in found)))
        return found[0]

    def artifact_id(self, type_name, name_or_id, version=None):
        """The id of an artifact: ``name_or_id`` itself when it is a UUID
        and no version is given (no request), else find_artifact()'s."""
        if version is None and is_uuid(name_or_id):
            return name_or_id
        return self.find_artifact(type_name, name_or_id, version)['id']

    def create_artifact(self, type_name, fields):
        """A new artifact (``drafted``) with ``fields``: name, version,
        and any writable common or type field."""
        return self._json('POST', self.url(type_name), json=fields,
                          expect=(201,))

    def update_artifact(self, type_name, artifact_id, patch):
        """Apply a JSON patch (a list of add/replace/remove operations);
        the artifact as it is then."""
        return self._json('PATCH', self.url(type_name, artifact_id),
                          json=patch,
                          headers={'Content-Type': PATCH_MEDIA_TYPE})

    def delete_artifact(self, type_name, artifact_id):
        self.request('DELETE', self.url(type_name, artifact_id),
                     expect=(204,))

    def _action(self, type_name, artifact_id, action):
        self.request('POST', self.url(type_name, artifact_id, 'actions',
                                      action), expect=(204,))

    def activate(self, type_name, artifact_id):
        """drafted -> active."""
        self._action(type_name, artifact_id, 'activate')

    def deactivate(self, type_name, artifact_id):
        """active -> deactivated."""
        self._action(type_name, artifact_id, 'deactivate')

    def reactivate(self, type_name, artifact_id):
        """deactivated -> active."""
        self._action(type_name, artifact_id, 'reactivate')

    # -- tags and members --------------------------------------------------

    def add_tag(self, type_name, artifact_id, tag):
        self.request('PUT', self.url(type_name, artifact_id, 'tags', tag),
                     expect=(204,))

    def remove_tag(self, type_name, artifact_id, tag):
        self.request('DELETE', self.url(type_name, artifact_id, 'tags',
                                        tag), expect=(204,))

    def add_member(self, type_name, artifact_id, member):
        """Share a ``shared`` artifact with project ``member``."""
        return self._json('POST', self.url(type_name, artifact_id,
                                           'members'),
                          json={'member': member})

    def list_members(self, type_name, artifact_id):
        return self._json('GET', self.url(type_name, artifact_id,
                                          'members'))['members']

    def get_member(self, type_name, artifact_id, member):
        return self._json('GET', self.url(type_name, artifact_id,
                                          'members', member))

    def update_member(self, type_name, artifact_id, member, status):
        """Set a membership's status (pending, accepted, rejected): the
        member's own call."""
        return self._json('PUT', self.url(type_name, artifact_id,
                                          'members', member),
                          json={'status': status})

    def delete_member(self, type_name, artifact_id, member):
        self.request('DELETE', self.url(type_name, artifact_id, 'members',
                                        member), expect=(204,))

    # -- blob data ---------------------------------------------------------

    def _blob_url(self, type_name, artifact_id, field, key):
        segments = [type_name, artifact_id, field]
        if key is not None:
            segments.append(key)
        return self.url(*segments)

    def _hashed(self, data, hash_algorithm):
        """(file, start, size, md5 hex, multihash hex) of ``data`` (a
        binary file object); data that cannot seek is first copied into
        a temporary file, which the caller closes."""
        md5 = _md5()
        multihash = hashlib.new(hash_algorithm)
        try:
            seekable = data.seekable()
        except (AttributeError, ValueError):
            seekable = False
        if seekable:
            start = data.tell()
            target = None
        else:
            start = 0
            target = tempfile.TemporaryFile(prefix='artifact-upload-')
        size = 0
        while True:
            chunk = data.read(self.chunk_size)
            if not chunk:
                break
            md5.update(chunk)
            multihash.update(chunk)
            size += len(chunk)
            if target is not None:
                target.write(chunk)
        return (target or data, start, size, md5.hexdigest(),
                multihash.hexdigest())

    def _put_data(self, url, data, content_type, store, progress,
                  hash_algorithm):
        """PUT ``data`` (a path, a binary file object or bytes) to
        ``url`` as blob data is sent: with its size, MD5 and
        ``hash_algorithm`` digest, which the server checks, and with the
        headers of ``content_type`` and ``store`` when given."""
        if isinstance(data, (str, os.PathLike)):
            with open(data, 'rb') as f:
                return self._put_data(url, f, content_type, store,
                                      progress, hash_algorithm)
        if isinstance(data, (bytes, bytearray, memoryview)):
            data = io.BytesIO(data)
        source, start, size, md5, multihash = self._hashed(
            data, hash_algorithm or self.hash_algorithm)
        try:
            headers = {'Content-Type': 'application/octet-stream',
                       'Content-MD5': md5, HASH_HEADER: multihash,
                       SIZE_HEADER: str(size)}
            if content_type:
                headers[TYPE_HEADER] = content_type
            if store:
                headers[STORE_HEADER] = store
            body = (_UploadBody(source, start, size, self.chunk_size,
                                progress) if size else b'')
            if not size and progress is not None:
                progress(0, 0)
            self.request('PUT', url, data=body, headers=headers,
                         expect=(204,))
        finally:
            if source is not data:
                source.close()

    def _get_blob(self, type_name, artifact_id, field, key):
        """Blob ``field`` (entry ``key``) as the artifact shows it now."""
        blob = self.get_artifact(type_name, artifact_id).get(field)
        return blob.get(key) if key is not None and blob else blob

    def upload_blob(self, type_name, artifact_id, field, data, key=None,
                    content_type=None, store=None, progress=None,
                    hash_algorithm=None):
        """Upload ``data`` as blob ``field`` (or entry ``key`` of blob
        dict ``field``); the blob as the artifact then shows it.

        ``data`` is a path, a binary file object (read from where it
        stands to its end) or bytes. The upload sends the size, the MD5
        (Content-MD5) and the ``hash_algorithm`` digest, which the server
        checks before it keeps anything. ``content_type`` is the media
        type downloads get; ``store`` names the store backend (policy
        permitting); ``progress`` is called with (bytes sent, size);
        ``hash_algorithm`` overrides the client's."""
        self._put_data(self._blob_url(type_name, artifact_id, field, key),
                       data, content_type, store, progress, hash_algorithm)
        return self._get_blob(type_name, artifact_id, field, key)

    def stage_blob(self, type_name, artifact_id, field, data, key=None,
                   content_type=None, progress=None, hash_algorithm=None):
        """Stage ``data`` for blob ``field`` (or entry ``key`` of blob
        dict ``field``): the server keeps it in Glance's staging area,
        not in a store, until an import with the glance-direct method
        (import_blob) stores it; the blob as the artifact then shows it
        (``uploading``, with the staged data's size and checksums).

        ``data``, ``content_type``, ``progress`` and ``hash_algorithm``
        are as for upload_blob(); the store is chosen by the import."""
        self._put_data(self._blob_url(type_name, artifact_id, field, key)
                       + '/stage', data, content_type, None, progress,
                       hash_algorithm)
        return self._get_blob(type_name, artifact_id, field, key)

    def import_blob(self, type_name, artifact_id, field, key=None,
                    method='copy-blob', stores=None, all_stores=False,
                    all_stores_must_succeed=True, uri=None,
                    validation_data=None):
        """Start an import into blob ``field`` (entry ``key``) with
        ``method``:

        - ``copy-blob``: copies of the blob's data to ``stores`` (or,
          with ``all_stores``, to every store that lacks it);
        - ``glance-direct``: the data staged with stage_blob();
        - ``web-download``: the data at ``uri``, which the server
          downloads; ``validation_data`` ({'os_hash_algo': ...,
          'os_hash_value': ...}) is the digest it must have.

        The data of the last two goes to ``stores`` (or ``all_stores``),
        or, when neither is given, to the store an upload would go to.
        The server answers at once; the blob's status (``importing``),
        ``os_glance_importing_to_stores`` and ``os_glance_failed_import``
        show how it goes."""
        body = {'method': {'name': method},
                'all_stores_must_succeed': all_stores_must_succeed}
        if uri is not None:
            body['method']['uri'] = uri
        if validation_data is not None:
            body['method']['validation_data'] = dict(validation_data)
        if all_stores:
            body['all_stores'] = True
        elif stores is not None:
            body['stores'] = list(stores)
        self.request('POST', self._blob_url(type_name, artifact_id, field,
                                            key) + '/import',
                     json=body, expect=(202,))

    def delete_blob_from_store(self, store, type_name, artifact_id, field,
                               key=None):
        """Delete the copy of blob ``field``'s (entry ``key``'s) data in
        ``store`` (never the last one)."""
        segments = ['stores', store, type_name, artifact_id, field]
        if key is not None:
            segments.append(key)
        self.request('DELETE', self.url(*segments), expect=(204,))

    def download_blob(self, type_name, artifact_id, field, key=None):
        """The data of blob ``field`` (entry ``key`` of a blob dict) as a
        BlobDownload, streaming; NoData when nothing was uploaded yet."""
        what = '%s %s %s%s' % (type_name, artifact_id, field,
                               '/' + key if key is not None else '')
        response = self.request(
            'GET', self._blob_url(type_name, artifact_id, field, key),
            stream=True, expect=(200, 204),
            headers={'Accept': 'application/octet-stream'})
        if response.status_code == 204:
            response.close()
            raise exceptions.NoData('%s has no data yet' % what)
        return BlobDownload(response, self.chunk_size, what)

    def download_blob_to_file(self, type_name, artifact_id, field, path,
                              key=None, progress=None):
        """Download a blob into the file ``path``; the BlobDownload, read.

        The data goes to a temporary file beside ``path``, which replaces
        ``path`` only once every byte came and matched the checksums;
        on any error the temporary file is removed and ``path`` is left
        as it was. (A ``path`` that exists and is not a regular file,
        such as /dev/null or a pipe, is written directly.)"""
        download = self.download_blob(type_name, artifact_id, field, key)
        with download:
            if os.path.exists(path) and not os.path.isfile(path):
                with open(path, 'wb') as f:
                    download.write_to(f, progress)
                return download
            directory = os.path.dirname(os.path.abspath(path))
            fd, partial = tempfile.mkstemp(
                dir=directory, prefix='.%s.' % os.path.basename(path),
                suffix='.part')
            try:
                with os.fdopen(fd, 'wb') as f:
                    download.write_to(f, progress)
                os.chmod(partial, _mode_for(path))
                os.replace(partial, path)
            except BaseException:
                os.unlink(partial)
                raise
        return download


def _mode_for(path):
    """The permission bits a download into ``path`` gets: those of the
    file it replaces, else those a new file gets."""
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
