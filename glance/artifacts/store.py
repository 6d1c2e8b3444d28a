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
"""

import os
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
# Backend names that Glance reserves for itself (its staging and tasks
# stores), which glance_store adds to enabled_backends once a store is
# looked up; Glance's own store listings leave them out the same way.
RESERVED_PREFIX = 'os_glance_'
MiB = 1024 * 1024
S3_MAX_PARTS = 10000
# Parts of an S3 upload held in memory at once (each of the backend's
# s3_store_large_object_chunk_size, 10 MiB by default).
S3_PARTS_IN_MEMORY = 2
# Bytes read at a time from an S3 response (glance_store reads 64 KiB).
S3_READ_CHUNK = 1024 * 1024


def data_id(upload_id):
    """The name of an upload's data in its store."""
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


def add(backend, upload_id, reader, size):
    """Write ``reader`` to ``backend`` as the data of ``upload_id``.

    Returns (location, size, md5 hex, multihash hex); what was written
    is deleted when it fails. ``size`` is 0 when unknown.
    """
    store = _store(backend)
    try:
        if _is_s3(store):
            return _s3_add(store, data_id(upload_id), reader, size)
        location, written, checksum, multihash, _meta = store.add(
            data_id(upload_id), reader, size, CONF.hashing_algorithm)
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
    return location, written, checksum, multihash


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


def _s3_add(store, name, reader, size):
    """Stream ``reader`` to S3 under ``name``: one PUT when it is small,
    else a multipart upload with at most S3_PARTS_IN_MEMORY parts in
    memory, aborted by boto3 when anything fails."""
    client = store._create_s3_client()
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
    uri = s3_driver.StoreLocation(
        store_specs={'scheme': store.scheme, 'bucket': store.bucket,
                     'key': name, 's3serviceurl': store.full_s3_host},
        conf=CONF, backend_group=store.backend_group).get_uri()
    return (uri, hashing.count, hashing.md5.hexdigest(),
            hashing.multihash.hexdigest())


def get(backend, location, offset=0, length=None):
    """(iterator over the data, its size) from ``offset``, ``length``
    bytes (all when None)."""
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


def _s3_range(store, loc, offset, length):
    end = '' if length is None else offset + length - 1
    client = store._create_s3_client()
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
    could not be deleted (which is logged)."""
    try:
        _store(backend).delete(_location(location, backend))
    except glance_store.NotFound:
        pass
    except Exception as e:
        LOG.error('Could not delete blob data %s from backend %s: %s',
                  location, backend, e)
        return False
    return True


def delete_partial(backend, upload_id):
    """Delete what a dead uploader may have written for ``upload_id``:
    the file of that name in a filesystem store's directories; in S3, the
    object and any incomplete multipart upload of that key. Other stores
    clean their partial writes themselves when a write fails in-process;
    what a killed process left there is logged. Errors are logged, not
    raised: what stays behind is the garbage collector's."""
    try:
        _delete_partial(_store(backend), backend, data_id(upload_id))
    except Exception as e:
        LOG.error('Could not look for partial data of upload %s in backend '
                  '%s: %s', upload_id, backend, e)


def _delete_partial(store, backend, name):
    if _is_s3(store):
        client = store._create_s3_client()
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
        if os.path.exists(path):
            delete(backend, 'file://%s' % path)
            LOG.info('Deleted partial blob data %s', path)


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
    """Whether the data of ``backend`` can be listed (file and S3)."""
    store = _store(backend)
    return _is_s3(store) or bool(_datadirs(store))


def list_data(backend):
    """Iterator over the artifact data in ``backend`` (an Item each),
    incomplete S3 uploads included; nothing for a store that cannot be
    listed."""
    store = _store(backend)
    if _is_s3(store):
        return _s3_list(store)
    return _file_list(backend, store)


def _file_list(backend, store):
    now = time.time()
    for directory in _datadirs(store):
        try:
            entries = os.scandir(directory)
        except FileNotFoundError:
            continue
        with entries:
            for entry in entries:
                if not entry.name.startswith(PREFIX):
                    continue
                try:
                    stat = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                location = 'file://%s' % entry.path
                yield Item(entry.name, stat.st_size, now - stat.st_mtime,
                           lambda loc=location: delete(backend, loc))


def _s3_list(store):
    client = store._create_s3_client()
    bucket = store.bucket
    now = time.time()
    pages = client.get_paginator('list_objects_v2').paginate(
        Bucket=bucket, Prefix=PREFIX)
    for page in pages:
        for obj in page.get('Contents', ()):
            yield Item(obj['Key'], obj['Size'],
                       now - obj['LastModified'].timestamp(),
                       lambda key=obj['Key']: client.delete_object(
                           Bucket=bucket, Key=key))
    for upload in _s3_multipart_uploads(client, bucket, PREFIX):
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
