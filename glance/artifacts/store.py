"""The blob service: the only code that calls glance_store.

It uses the stores glance-api configured (``enabled_backends``, or the
single store of older configurations) and knows nothing of artifacts but
backend names, data ids and locations.

Every piece of data it writes is named ``artifact-<upload id>``, so that
what belongs to artifacts can be told apart from Glance's images in a
store both use, and so that the garbage collector (``gc.py``) touches
nothing else.

glance_store is used as it is for every store, with two exceptions for
S3, whose driver holds an upload of unknown size whole in memory and does
not read from an offset: this module writes to S3 with boto3's managed
transfer (multipart, a bounded number of parts in memory, aborted when it
fails) and reads byte ranges with a ranged GET, through the S3 client and
bucket glance_store configured for the backend. Reading data back,
deleting it and locating it stay glance_store's.

Locations are produced, never accepted
--------------------------------------
glance_store opens and deletes whatever a location names: its filesystem
driver reads or unlinks any path of a ``file://`` location. That is why
Glance refuses locations from its callers (OSSA-2014-041). The locations
and backend names this module is handed come from database rows (over
RPC in registry mode), so a forged or corrupted row could make glance-api
serve /etc/glance/glance-api.conf as blob data, or delete it. Every entry
point here (``get``, ``open_file``, ``delete``, ``delete_partial``, the
listing of the garbage collector) therefore first checks, with
``check_location``, that what it is about to touch is artifact data of a
backend of artifacts:

- the backend is one of ``backends()`` (Glance's reserved
  ``os_glance_*`` stores are not; staged data, in Glance's staging store,
  is touched only by the ``stage_*`` functions, with the checks of a
  filesystem backend below);
- the data is named exactly ``artifact-<uuid>``, with a lowercase UUID as
  ``str(uuid.uuid4())`` gives, and a location has no query string,
  fragment or control character;
- filesystem: a ``file://`` location whose file is directly inside one of
  the backend's data directories: the directory as configured (what
  ``add`` writes), or a spelling of it without empty, ``.`` or ``..``
  segments whose real path is the real path of a data directory; the
  file itself must be a regular file, not a symbolic link (``lstat``);
- S3: exactly ``s3://HOST/BUCKET/artifact-<uuid>`` (any of the driver's
  schemes) with the host and bucket of the backend, as ``add`` writes it.

For other stores the location cannot be verified as fully: a Swift,
Cinder or RBD location names hosts, containers, pools or volumes that
this module does not know. There the check only requires one of the
store's schemes, no empty, ``.`` or ``..`` segments, and a last segment
``artifact-<uuid>`` (for RBD, the image segment before the ``snap``
snapshot glance_store adds). A Cinder location names a volume id, never
our name, so Cinder backends cannot hold artifact data; read-only stores
(``http``) never can. Between the check and glance_store's ``open`` a
local user who can write to a data directory could still swap the file
for a link: the check guards against the database, not against the host.

A refused location is a ``LocationRefused`` (403 for a download); deletes
of it return False; each refusal is logged as an ERROR naming the backend
and the location (credentials left out, at most SHOWN characters).
"""

import os
import re
import stat
import threading
import time

import glance_store
from glance_store.common import utils as store_utils
from glance_store import location as store_location
from oslo_config import cfg
from oslo_log import log as logging

from glance.artifacts import exception

try:  # glance_store's s3 extra; only an S3 backend needs it
    from boto3.s3 import transfer as s3_transfer
    from botocore import exceptions as boto_exceptions
    from glance_store._drivers import s3 as s3_driver
    S3_ERRORS = (boto_exceptions.BotoCoreError, boto_exceptions.ClientError)
except ImportError:
    S3_ERRORS = ()

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

PREFIX = 'artifact-'
# An upload id as blobs.py makes them: str(uuid.uuid4()).
_UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
UPLOAD_ID = re.compile(_UUID)
NAME = re.compile(PREFIX + _UUID)
# Backend names that Glance reserves for itself (its staging and tasks
# stores), which glance_store adds to enabled_backends once a store is
# looked up; Glance's own store listings leave them out the same way.
RESERVED_PREFIX = 'os_glance_'
# Stores that never hold data written by this module.
READ_ONLY_SCHEMES = ('http', 'https')
# The snapshot glance_store's RBD driver adds after the image's name.
RBD_SNAPSHOT = 'snap'
# Characters of a location or name shown in logs.
SHOWN = 200
_CONTROL = re.compile(r'[\x00-\x1f\x7f]')
_USERINFO = re.compile(r'^([A-Za-z][A-Za-z0-9+.-]*://)[^?#]*@')
MiB = 1024 * 1024
S3_MAX_PARTS = 10000
# Parts of an S3 upload being sent at once (each of the backend's
# s3_store_large_object_chunk_size, 10 MiB by default). boto3 reads the
# next part while they are sent: one more part in memory, two in all.
S3_PARTS_IN_MEMORY = 1
# Bytes read at a time from an S3 response (glance_store reads 64 KiB).
S3_READ_CHUNK = 1024 * 1024


def data_id(upload_id):
    """The name of an upload's data in its store; LocationRefused when
    ``upload_id`` is not a UUID as blobs.py makes them (the name goes
    into paths and keys)."""
    if not (isinstance(upload_id, str) and UPLOAD_ID.fullmatch(upload_id)):
        raise exception.LocationRefused('its upload id is not a lowercase '
                                        'UUID')
    return PREFIX + upload_id


def data_name(location):
    """The name of the data at ``location`` (its last path segment)."""
    return location.rstrip('/').rsplit('/', 1)[-1]


def _multi():
    return bool(CONF.enabled_backends)


def backends():
    """Names of the backends artifacts may use: Glance's enabled backends
    but its reserved ones."""
    if _multi():
        return sorted(b for b in CONF.enabled_backends
                      if not b.startswith(RESERVED_PREFIX))
    return [None]


def default_backend():
    if _multi():
        return CONF.glance_store.default_backend
    return None


def _store(backend):
    if _multi():
        return glance_store.get_store_from_store_identifier(backend)
    return glance_store.get_store_from_scheme(
        CONF.glance_store.default_store)


def _location(uri, backend):
    if _multi():
        return store_location.get_location_from_uri_and_backend(
            uri, backend, conf=CONF)
    return store_location.get_location_from_uri(uri, conf=CONF)


def _is_s3(store):
    return 's3' in store.get_schemes()


def _datadirs(store):
    """The data directories of a filesystem store; [] for other stores."""
    if getattr(store, 'multiple_datadirs', False):
        return [d for paths in store.priority_data_map.values()
                for d in paths]
    if getattr(store, 'datadir', None):
        return [store.datadir]
    return []


def shown(value):
    """``value`` (a location, a backend name, an upload id) as the log
    shows it: credentials of a URI left out, at most SHOWN characters,
    control characters escaped."""
    text = value if isinstance(value, str) else repr(value)
    text = _USERINFO.sub(r'\1***@', text, count=1)
    if len(text) > SHOWN:
        text = text[:SHOWN] + '...'
    return repr(text)


def check_location(backend, location):
    """The name of the data at ``location`` in ``backend`` (as a blob row
    or a pending delete recorded them), once it is certain that it is
    artifact data of that backend (see the module's docstring); else
    LocationRefused, whose ``reason`` says why. Nothing is read but, for
    a file, the real path of its directory and its own ``lstat``."""
    store = _our_store(backend)
    if not isinstance(location, str) or not location:
        raise exception.LocationRefused('no location is recorded')
    # urllib drops tabs and newlines from URLs, and a NUL ends a path.
    if _CONTROL.search(location):
        raise exception.LocationRefused('it contains control characters')
    if '?' in location or '#' in location:
        raise exception.LocationRefused('it has a query string or a '
                                        'fragment')
    scheme, sep, _rest = location.partition('://')
    schemes = store.get_schemes()
    if not sep or scheme not in schemes:
        raise exception.LocationRefused(
            'its scheme is not one of those %s (%s)'
            % (_of(backend), ', '.join(schemes)))
    if _is_s3(store):
        return _check_s3(store, backend, location)
    if 'file' in schemes:
        return _check_file(store, backend, location)
    return _check_other(store, backend, location)


def _of(backend):
    """The backend as refusals name it."""
    return "of backend '%s'" % backend[:64] if backend else 'of the store'


def _our_store(backend):
    """The store of ``backend`` ('' or None: the single store of an
    older-style configuration), which must be a backend of artifacts."""
    backend = backend or None
    if backend in backends():
        return _store(backend)
    if backend is None:
        raise exception.LocationRefused('no backend is recorded for it')
    raise exception.LocationRefused("its backend '%s' is not a backend of "
                                    "artifacts" % str(backend)[:64])


def _check_data_name(name):
    if not NAME.fullmatch(name):
        raise exception.LocationRefused('its data is not named '
                                        'artifact-<uuid>')


def _check_file(store, backend, location):
    if not location.startswith('file://'):
        raise exception.LocationRefused('the locations %s are file:// '
                                        'locations' % _of(backend))
    path = _file_path(store, location)
    directory, slash, name = path.rpartition('/')
    _check_data_name(name)
    if not slash or not _is_datadir(store, directory or '/'):
        raise exception.LocationRefused(
            'its file is not directly in a data directory %s'
            % _of(backend))
    _check_own_file(path)
    return name


def _file_path(store, location):
    """The path glance_store's filesystem driver opens for ``location``."""
    loc = store.get_store_location_class()(
        {}, store.conf, backend_group=store.backend_group)
    try:
        loc.parse_uri(location)
    except (glance_store.BadStoreUri, ValueError) as e:
        raise exception.LocationRefused('glance_store cannot parse it '
                                        '(%s)' % type(e).__name__)
    return loc.path


def _is_datadir(store, directory):
    """Whether ``directory`` is a data directory of ``store``: as
    configured, which is how add() writes it, or another spelling with
    no empty, '.' or '..' segment whose real path is that of one."""
    datadirs = _datadirs(store)
    if directory in [d.rstrip('/') or '/' for d in datadirs]:
        return True
    segments = directory.split('/')
    if directory.startswith('/'):
        segments = segments[1:]
    if any(s in ('', '.', '..') for s in segments):
        return False
    real = os.path.realpath(directory)
    return any(real == os.path.realpath(d) for d in datadirs)


def _check_own_file(path):
    """Refuse a file that glance_store would not open as itself: a
    symbolic link (it would follow it), a directory, device or pipe. A
    missing file passes: reading it is NotFound, deleting it nothing."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as e:
        raise exception.LocationRefused('its file cannot be examined (%s)'
                                        % e.strerror)
    if stat.S_ISLNK(mode):
        raise exception.LocationRefused('its file is a symbolic link')
    if not stat.S_ISREG(mode):
        raise exception.LocationRefused('its file is not a regular file')


def _check_s3(store, backend, location):
    rest = location.partition('://')[2]
    parts = rest.split('/')
    name = parts[-1]
    _check_data_name(name)
    produced = _s3_uri(store, name).partition('://')[2]
    if rest == produced:
        return name
    if len(parts) < 3 or parts[-2] != store.bucket:
        raise exception.LocationRefused(
            'it is not in the bucket %s' % _of(backend))
    if '/'.join(parts[:-2]) != produced.rsplit('/', 2)[0]:
        raise exception.LocationRefused(
            'it is not on the S3 host %s' % _of(backend))
    raise exception.LocationRefused('it is not of the form '
                                    's3://HOST/BUCKET/artifact-<uuid>')


def _check_other(store, backend, location):
    scheme, _sep, rest = location.partition('://')
    if scheme in READ_ONLY_SCHEMES:
        raise exception.LocationRefused('the store %s is read-only'
                                        % _of(backend))
    segments = rest.split('/')
    if any(s in ('', '.', '..') for s in segments):
        raise exception.LocationRefused("it has empty, '.' or '..' "
                                        "segments")
    if scheme == 'rbd' and len(segments) > 1 and \
            segments[-1] == RBD_SNAPSHOT:
        segments.pop()
    _check_data_name(segments[-1])
    return segments[-1]


def _checked(backend, location):
    """check_location, with each refusal logged for the operator."""
    try:
        return check_location(backend, location)
    except exception.LocationRefused as e:
        LOG.error('Refused blob data location %s of backend %s: %s',
                  shown(location), shown(backend), e.reason)
        raise


def add(backend, upload_id, reader, size):
    """Write ``reader`` to ``backend`` as the data of ``upload_id``.

    Returns (location, size, md5 hex, multihash hex); what was written
    is deleted when it fails. ``size`` is 0 when unknown.
    """
    store = _store(backend)
    name = data_id(upload_id)
    try:
        if _is_s3(store):
            result = _s3_add(store, name, reader, size)
        else:
            result = store.add(name, reader, size,
                               CONF.hashing_algorithm)[:4]
    except glance_store.StorageFull as e:
        raise exception.StorageFull('The store is full: %s' % e)
    except glance_store.StorageWriteDenied as e:
        raise exception.StoreUnavailable('The store refused the write: %s'
                                         % e)
    except glance_store.Invalid as e:
        raise exception.Invalid(str(e))
    except (glance_store.BackendException,
            glance_store.RemoteServiceUnavailable) + S3_ERRORS as e:
        raise exception.StoreUnavailable('The store could not take the '
                                         'data: %s' % e)
    _check_produced(backend, result[0])
    return result


def _check_produced(backend, location):
    """A location that add() itself cannot read back is a bug or a
    changed glance_store: the upload fails now rather than its
    downloads later."""
    try:
        check_location(backend, location)
    except exception.LocationRefused as e:
        LOG.error('glance_store wrote blob data to %s in backend %s, where '
                  'the location check refuses it (%s); the garbage '
                  'collector may find it.', shown(location),
                  shown(backend), e.reason)
        raise exception.StoreUnavailable(
            'The store wrote the data to a location that this service '
            'refuses (%s); see the glance-api log.' % e.reason)


class _Hashing(object):
    """A reader that hashes what is read from it, as glance_store does."""

    def __init__(self, reader, size):
        self._reader = reader
        self._size = size
        self.md5 = store_utils.get_hasher('md5', False)
        self.multihash = store_utils.get_hasher(CONF.hashing_algorithm,
                                                False)
        self.count = 0

    def read(self, size=-1):
        data = self._reader.read(size)
        self.count += len(data)
        if self._size and self.count > self._size:
            raise exception.Invalid('The request declared %d bytes but '
                                    'sent more.' % self._size)
        self.md5.update(data)
        self.multihash.update(data)
        return data


_S3_CLIENTS = {}        # backend -> (its options, its client)
_S3_CLIENTS_LOCK = threading.Lock()


def _s3_client(store):
    """The boto3 client of an S3 backend, made by glance_store's driver
    once for the backend's options (boto3 clients are thread-safe). The
    driver is not reusable: glance_store makes a new one for each use,
    which makes a new boto3 session for each client, which parses S3's
    service model again: some 11 MiB allocated, and a tenth of a second,
    each time."""
    options = CONF[store.backend_group or 'glance_store']
    key = tuple(sorted((name, repr(options[name])) for name in options))
    with _S3_CLIENTS_LOCK:
        known = _S3_CLIENTS.get(store.backend_group)
        if known is None or known[0] != key:
            known = _S3_CLIENTS[store.backend_group] = (
                key, store._create_s3_client())
        return known[1]


def _s3_add(store, name, reader, size):
    """Stream ``reader`` to S3 under ``name``: one PUT when it is small,
    else a multipart upload with S3_PARTS_IN_MEMORY parts being sent
    while the next is read, aborted by boto3 when anything fails."""
    client = _s3_client(store)
    if not store._bucket_exists(client, store.bucket):
        if not store._option_get('s3_store_create_bucket_on_put'):
            raise exception.StoreUnavailable(
                'The bucket %s does not exist in S3 (see '
                's3_store_create_bucket_on_put).' % store.bucket)
        store._create_bucket(client, store._option_get('s3_store_host'),
                             store.bucket,
                             store._option_get('s3_store_region_name'))
    part = max(store.s3_store_large_object_chunk_size,
               -(-size // S3_MAX_PARTS))
    config = s3_transfer.TransferConfig(
        multipart_threshold=part, multipart_chunksize=part,
        max_concurrency=min(store.s3_store_thread_pools, S3_PARTS_IN_MEMORY))
    config.max_in_memory_upload_chunks = S3_PARTS_IN_MEMORY
    hashing = _Hashing(reader, size)
    client.upload_fileobj(hashing, store.bucket, name, Config=config)
    return (_s3_uri(store, name), hashing.count, hashing.md5.hexdigest(),
            hashing.multihash.hexdigest())


def _s3_uri(store, name):
    """The location of ``name`` in the bucket of an S3 store, as its
    driver writes them."""
    return s3_driver.StoreLocation(
        store_specs={'scheme': store.scheme, 'bucket': store.bucket,
                     'key': name, 's3serviceurl': store.full_s3_host},
        conf=CONF, backend_group=store.backend_group).get_uri()


def get(backend, location, offset=0, length=None):
    """(iterator over the data, its size) from ``offset``, ``length``
    bytes (all when None); LocationRefused (logged) for a location that
    check_location refuses."""
    _checked(backend, location)
    store = _store(backend)
    loc = _location(location, backend)
    try:
        if (offset or length) and _is_s3(store):
            return _s3_range(store, loc, offset, length)
        try:
            return store.get(loc, offset=offset, chunk_size=length)
        except glance_store.StoreRandomGetNotSupported:
            data, size = store.get(loc)
            return _skip(data, offset), size
    except glance_store.NotFound:
        raise exception.NotFound('The blob data is missing from its store.')
    except (glance_store.RemoteServiceUnavailable,
            glance_store.BackendException) + S3_ERRORS as e:
        raise exception.StoreUnavailable('The store could not give the '
                                         'data: %s' % e)


def open_file(backend, location, size):
    """The data at ``location`` as a file open for reading, for the WSGI
    server to send itself, when ``backend`` is a filesystem store and the
    file holds exactly ``size`` bytes; None otherwise (other stores, a
    file of another size, a missing or unreadable one): ``get`` then
    reads it and says what is wrong. Checked as ``get`` checks; opened
    without following a symbolic link."""
    _checked(backend, location)
    store = _store(backend)
    if not _datadirs(store):
        return None
    try:
        fd = os.open(_file_path(store, location),
                     os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK |
                     os.O_CLOEXEC)
    except OSError:
        return None
    file = open(fd, 'rb', buffering=0)
    found = os.fstat(fd)
    if not stat.S_ISREG(found.st_mode) or found.st_size != size:
        file.close()
        return None
    return file


def _s3_range(store, loc, offset, length):
    end = '' if length is None else offset + length - 1
    client = _s3_client(store)
    try:
        response = client.get_object(Bucket=loc.store_location.bucket,
                                     Key=loc.store_location.key,
                                     Range='bytes=%d-%s' % (offset, end))
    except boto_exceptions.ClientError as e:
        if _s3_gone(e):
            raise glance_store.NotFound(str(e))
        raise
    return _closing(response['Body'], S3_READ_CHUNK), \
        response['ContentLength']


def _closing(body, chunk_size):
    """The chunks of an S3 response body, which is closed however the
    reading ends (a client that goes away, say)."""
    try:
        yield from body.iter_chunks(chunk_size)
    finally:
        body.close()


def _skip(data, offset):
    """The chunks of ``data`` after its first ``offset`` bytes, for stores
    that cannot start reading elsewhere."""
    try:
        for chunk in data:
            if offset >= len(chunk):
                offset -= len(chunk)
                continue
            yield chunk[offset:]
            offset = 0
    finally:
        close = getattr(data, 'close', None)
        if close is not None:
            close()


def delete(backend, location):
    """Delete stored data; missing data is not an error. False when it
    could not be deleted, or when check_location refuses the location
    (nothing is deleted then); both are logged."""
    try:
        _checked(backend, location)
    except exception.LocationRefused:
        return False
    try:
        _store(backend).delete(_location(location, backend))
    except glance_store.NotFound:
        pass
    except Exception as e:
        LOG.error('Could not delete blob data %s from backend %s: %s',
                  shown(location), shown(backend), e)
        return False
    return True


def delete_partial(backend, upload_id):
    """Delete what a dead uploader may have written for ``upload_id``:
    the file of that name in a filesystem store's directories; in S3, the
    object and any incomplete multipart upload of that key. Other stores
    clean their partial writes themselves when a write fails in-process;
    what a killed process left there is logged. Errors are logged, not
    raised: what stays behind is the garbage collector's. An upload id
    that is not a UUID, or a backend that is not one of artifacts, is
    refused: nothing is looked for."""
    try:
        name = data_id(upload_id)
        _delete_partial(_our_store(backend), backend, name)
    except exception.LocationRefused as e:
        LOG.error('Refused to look for partial data of upload %s in '
                  'backend %s: %s', shown(upload_id), shown(backend),
                  e.reason)
    except Exception as e:
        LOG.error('Could not look for partial data of upload %s in backend '
                  '%s: %s', shown(upload_id), shown(backend), e)


def _delete_partial(store, backend, name):
    if _is_s3(store):
        client = _s3_client(store)
        for upload in _s3_multipart_uploads(client, store.bucket, name):
            if upload['Key'] == name:
                _s3_abort(client, store.bucket, upload)
        if store._object_exists(client, store.bucket, name):
            client.delete_object(Bucket=store.bucket, Key=name)
            LOG.info('Deleted partial blob data s3 %s', name)
        return
    dirs = _datadirs(store)
    if not dirs:
        LOG.warning('Partial data %s in backend %s may remain; this store '
                    'cannot be searched for it.', name, backend)
        return
    for directory in dirs:
        path = os.path.join(directory, name)
        # delete() refuses a link or anything but a regular file.
        if os.path.lexists(path) and delete(backend, 'file://%s' % path):
            LOG.info('Deleted partial blob data %s', path)


# -- Glance's staging store ---------------------------------------------------
# Data staged for an import (PUT .../stage, then glance-direct) waits in
# Glance's staging store: the reserved backend os_glance_staging_store
# with several stores, else a filesystem store on [DEFAULT]
# node_staging_uri, as Glance stages image data. It is a directory of
# this host (or one shared by the hosts); nothing in it is a blob's data,
# and only these functions touch it, with the checks of a filesystem
# backend's locations.

STAGING = 'os_glance_staging_store'
STAGING_CHUNK = 1024 * 1024
_single_staging = []


def staging_backend():
    """The staging store's name as an upload row records it."""
    return STAGING if _multi() else ''


def _staging_store():
    if _multi():
        return glance_store.get_store_from_store_identifier(STAGING)
    if not _single_staging:
        # As Glance's image_data._build_staging_store.
        conf = cfg.ConfigOpts()
        try:
            glance_store.backend.register_opts(conf)
        except cfg.DuplicateOptError:
            pass
        if not CONF.node_staging_uri.startswith('file://'):
            raise exception.StoreUnavailable(
                "[DEFAULT] node_staging_uri is not a file:// URI: data "
                "cannot be staged.")
        conf.set_override('filesystem_store_datadir',
                          CONF.node_staging_uri[len('file://'):],
                          group='glance_store')
        staging = glance_store.backend._load_store(conf, 'file')
        staging.configure()
        _single_staging.append(staging)
    return _single_staging[0]


def _staged_path(location):
    """The path of staged data at ``location``, once checked as the
    locations of a filesystem backend are (LocationRefused, logged)."""
    staging = _staging_store()
    try:
        if not isinstance(location, str) or _CONTROL.search(location) or \
                '?' in location or '#' in location:
            raise exception.LocationRefused('it is not a plain file:// '
                                            'location')
        _check_file(staging, STAGING, location)
    except exception.LocationRefused as e:
        LOG.error('Refused staged data location %s: %s', shown(location),
                  e.reason)
        raise
    return _file_path(staging, location)


def stage_add(upload_id, reader, size):
    """Write ``reader`` to the staging store as the data of
    ``upload_id``: (location, size, md5 hex, multihash hex), as add()."""
    name = data_id(upload_id)
    try:
        result = _staging_store().add(name, reader, size,
                                      CONF.hashing_algorithm)[:4]
    except glance_store.Duplicate:
        raise exception.Conflict('Data of upload %s is staged already.'
                                 % upload_id)
    except glance_store.StorageFull as e:
        raise exception.StorageFull('The staging store is full: %s' % e)
    except (glance_store.StorageWriteDenied, glance_store.BackendException,
            OSError) as e:
        raise exception.StoreUnavailable('The staging store could not '
                                         'take the data: %s' % e)
    _staged_path(result[0])
    return result


def staged_here(location):
    """Whether the staged data at ``location`` is on this host."""
    return os.path.isfile(_staged_path(location))


def stage_get(location):
    """An iterator over the staged data at ``location``; NotFound when it
    is not (or no longer) there."""
    path = _staged_path(location)
    try:
        data = open(path, 'rb')
    except FileNotFoundError:
        raise exception.NotFound('The staged data is not on this host.')
    except OSError as e:
        raise exception.StoreUnavailable('The staged data cannot be read: '
                                         '%s' % e.strerror)
    return _file_chunks(data)


def _file_chunks(data):
    with data:
        while True:
            chunk = data.read(STAGING_CHUNK)
            if not chunk:
                return
            yield chunk


def stage_delete(location):
    """Delete staged data; missing data is not an error. False (logged)
    when it could not be deleted or its location is refused."""
    try:
        os.remove(_staged_path(location))
    except FileNotFoundError:
        pass
    except (exception.LocationRefused, OSError) as e:
        LOG.error('Could not delete staged data %s: %s', shown(location), e)
        return False
    return True


def stage_delete_partial(upload_id):
    """Delete what a dead stager may have left for ``upload_id`` in this
    host's staging store (errors are logged)."""
    try:
        directory = _datadirs(_staging_store())[0]
        path = os.path.join(directory, data_id(upload_id))
        if os.path.lexists(path) and stage_delete('file://%s' % path):
            LOG.info('Deleted partial staged data %s', path)
    except Exception as e:
        LOG.error('Could not look for partial staged data of upload %s: '
                  '%s', shown(upload_id), e)


def _s3_multipart_uploads(client, bucket, prefix):
    pages = client.get_paginator('list_multipart_uploads').paginate(
        Bucket=bucket, Prefix=prefix)
    for page in pages:
        yield from page.get('Uploads', ())


def _s3_abort(client, bucket, upload):
    try:
        client.abort_multipart_upload(Bucket=bucket, Key=upload['Key'],
                                      UploadId=upload['UploadId'])
    except boto_exceptions.ClientError as e:
        if not _s3_gone(e):
            raise
        return      # it completed or was aborted meanwhile
    LOG.info('Aborted the incomplete S3 upload of %s', upload['Key'])


def _s3_gone(error):
    return error.response['Error']['Code'] in ('NoSuchUpload', 'NoSuchKey',
                                               '404')


class Item(object):
    """A piece of artifact data found in a store: its name, size, age in
    seconds, and how to delete it."""

    def __init__(self, name, size, age, delete):
        self.name, self.size, self.age = name, size, age
        self.delete = delete


def listable(backend):
    """Whether the data of ``backend`` can be listed (file and S3; and
    STAGING, this host's staging store)."""
    if backend == STAGING:
        # Only when there is a staging directory on this host (Glance
        # warns at start-up when there is none).
        try:
            return any(os.path.isdir(d)
                       for d in _datadirs(_staging_store()))
        except Exception as e:
            LOG.warning('The staging store cannot be listed: %s', e)
            return False
    store = _store(backend)
    return _is_s3(store) or bool(_datadirs(store))


def list_data(backend):
    """Iterator over the artifact data in ``backend`` (an Item each),
    incomplete S3 uploads included; nothing for a store that cannot be
    listed. Only data named exactly ``artifact-<uuid>`` (in a filesystem
    store, regular files, not links) is artifact data: anything else is
    not listed, and so never deleted. STAGING lists this host's staging
    store."""
    if backend == STAGING:
        return _file_list(_staging_store(), _delete_staged)
    store = _store(backend)
    if _is_s3(store):
        return _s3_list(store)
    return _file_list(store, lambda loc: _delete_listed(backend, loc))


def _delete_staged(location):
    if not stage_delete(location):
        raise exception.StoreUnavailable('%s was not deleted (see the '
                                         'log)' % shown(location))


def _file_list(store, delete):
    now = time.time()
    for directory in _datadirs(store):
        try:
            entries = os.scandir(directory)
        except FileNotFoundError:
            continue
        with entries:
            for entry in entries:
                if not NAME.fullmatch(entry.name):
                    continue
                try:
                    if not entry.is_file(follow_symlinks=False):
                        continue
                    info = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                location = 'file://%s' % entry.path
                yield Item(entry.name, info.st_size, now - info.st_mtime,
                           lambda loc=location: delete(loc))


def _delete_listed(backend, location):
    if not delete(backend, location):
        raise exception.StoreUnavailable('%s was not deleted (see the '
                                         'log)' % shown(location))


def _s3_list(store):
    client = _s3_client(store)
    bucket = store.bucket
    now = time.time()
    pages = client.get_paginator('list_objects_v2').paginate(
        Bucket=bucket, Prefix=PREFIX)
    for page in pages:
        for obj in page.get('Contents', ()):
            if not NAME.fullmatch(obj['Key']):
                continue
            yield Item(obj['Key'], obj['Size'],
                       now - obj['LastModified'].timestamp(),
                       lambda key=obj['Key']: client.delete_object(
                           Bucket=bucket, Key=key))
    for upload in _s3_multipart_uploads(client, bucket, PREFIX):
        if not NAME.fullmatch(upload['Key']):
            continue
        # Its age is that of its newest part: an upload that still sends
        # parts is young, however long ago it began.
        try:
            parts = [p for page in client.get_paginator('list_parts')
                     .paginate(Bucket=bucket, Key=upload['Key'],
                               UploadId=upload['UploadId'])
                     for p in page.get('Parts', ())]
        except boto_exceptions.ClientError as e:
            if not _s3_gone(e):
                raise
            continue    # it completed or was aborted since it was listed
        newest = max([upload['Initiated']] +
                     [p['LastModified'] for p in parts])
        yield Item(upload['Key'], sum(p['Size'] for p in parts),
                   now - newest.timestamp(),
                   lambda u=upload: _s3_abort(client, bucket, u))
