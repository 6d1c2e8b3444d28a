"""Blob data: uploads that are all or nothing, and downloads.

An upload is recorded (so a second one of the same blob is a 409), streams
the request body to the store through a reader that enforces the size
limit and keeps the record alive, checks the digests the client sent, and
only then makes the new data the blob's, in one transaction. Anything that
fails on the way forgets the upload and deletes what was written; the
blob keeps its previous state. A replaced blob's old data is deleted once
the new data is recorded. Between the store and the record, the field's
inspector (inspection.py) reads the stored data: content it refuses is
an error like any other, and the fields it fills are written in the
transaction that makes the data the blob's.

A blob's data may be in several stores (Glance's multiple backends): the
store it was uploaded to, and copies that ``copy`` writes to more stores
in the background (the copy-blob import method, as images' copy-image).
A copy is recorded as an upload of the blob (so that another upload or
copy of the blob is a 409 while it runs, and a copier that dies is
cleaned up as a dead uploader), verified against the blob's size and
digests, and becomes one of the blob's stores when it is whole. A
download reads the stores in [artifacts] read_order and, when one fails
before or during the download, goes on from the next one at the same
byte; deleting the artifact or replacing the data deletes every copy;
``drop`` deletes one, never the last.
"""

import functools
import http.client
import io
import queue
import re
import threading
import time
import urllib.error
import urllib.request
import uuid

from glance.common import exception as glance_exception
from glance.common.scripts import utils as glance_scripts
from glance.common import utils as glance_utils
from oslo_config import cfg
from oslo_log import log as logging

from glance.artifacts import catalog
from glance.artifacts import exception
from glance.artifacts import fields as f
from glance.artifacts import inspection
from glance.artifacts import notifier
from glance.artifacts import policy
from glance.artifacts import quota
from glance.artifacts import store

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

KEY = re.compile(r'[A-Za-z0-9_][A-Za-z0-9._-]{0,254}')
MEDIA_TYPE = re.compile(r'[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/'
                        r'[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}')
HEX = re.compile(r'[0-9a-fA-F]+')
MD5_HEX_LENGTH = 32


def _blob_field(type_cls, name, key):
    field = type_cls.fields.get(name)
    if not isinstance(field, f.Blob):
        raise exception.NotFound(
            "%s has no blob field '%s'; its blob fields are: %s"
            % (type_cls.name, name[:64], ', '.join(sorted(
                n for n, fd in type_cls.fields.items()
                if isinstance(fd, f.Blob))) or 'none'))
    if isinstance(field, f.BlobDict):
        if key is None:
            raise exception.Invalid(
                "'%s' is a blob dict: name the entry, as %s/{key}"
                % (name, name))
        if not KEY.fullmatch(key) or key in ('.', '..'):
            raise exception.Invalid(
                "Invalid key '%s' in blob dict '%s': keys are 1-255 "
                "characters of A-Z, a-z, 0-9, '.', '_' and '-', not "
                "starting with '.' or '-' (no '/')" % (key[:64], name))
    elif key is not None:
        raise exception.NotFound("'%s' is a single blob; it has no entry "
                                 "'%s'" % (name, key[:64]))
    return field


def _backend(context, type_cls, requested):
    if requested is not None:
        policy.authorize(context, 'artifacts:select_backend', {})
        if requested not in store.backends():
            raise exception.Invalid(
                "Unknown store backend '%s'; the backends are: %s"
                % (requested[:64], ', '.join(str(b)
                                             for b in store.backends())))
        return requested
    return (CONF.artifacts.type_backends.get(type_cls.name) or
            CONF.artifacts.default_backend or store.default_backend())


def _check_declared(content_type, md5, os_hash_value):
    """The digests (lowercase) that the client declared for its data,
    once they and its media type are well formed."""
    if content_type is not None and not MEDIA_TYPE.fullmatch(content_type):
        raise exception.Invalid('Invalid content type %r of the data'
                                % content_type[:200])
    return (_check_digest('Content-MD5', md5, MD5_HEX_LENGTH),
            _check_digest('The expected %s hash' % CONF.hashing_algorithm,
                          os_hash_value))


def _check_digest(name, value, length=None):
    if value is not None and not (HEX.fullmatch(value) and
                                  (length is None or len(value) == length)):
        raise exception.Invalid('%s must be a hexadecimal digest, as '
                                'Glance shows them, not %r'
                                % (name, value[:200]))
    return value.lower() if value else None


CHUNK = 1024 * 1024     # bytes the request thread reads at once


def _receive(body, limit, writer, heartbeat, reserve=None, reserved=0):
    """Read the request body in the request's own thread (some WSGI
    servers let no other thread read it: uWSGI's chunked input) and hand
    it to ``writer``, checking the count against ``limit``, holding what
    the store is about to get against the project's quota (``reserve``),
    and keeping the upload's record alive (``heartbeat``). Returns the
    count; raises what ended the upload, for the client."""
    interval = CONF.artifacts.upload_heartbeat_interval
    next_beat = time.monotonic() + interval
    count = 0
    while True:
        try:
            data = body.read(CHUNK)
        except exception.ERRORS:
            raise       # a reader of the domain's own (a digest check)
        except TimeoutError:
            raise exception.Timeout(
                'No data came for %d seconds; the upload was abandoned '
                'after %d bytes.' % (CONF.artifacts.upload_idle_timeout,
                                     count))
        except Exception as e:  # whatever the WSGI server's reader raises
            raise exception.Invalid(
                'The request body could not be read after %d bytes (%s%s); '
                'nothing was kept.' % (count, type(e).__name__,
                                       ': %s' % e if str(e) else ''))
        count += len(data)
        if count > limit:
            raise exception.TooLarge('The data is larger than the limit of '
                                     '%d bytes.' % limit)
        if reserve is not None and count > reserved:
            # Hold what the store is about to get, and a step more.
            reserved = reserve(count, count + quota.RESERVE_STEP)
            if reserved is None:
                raise exception.Conflict('The upload was cancelled while '
                                         'it ran (the artifact was '
                                         'deleted?).')
            next_beat = time.monotonic() + interval
        if time.monotonic() >= next_beat:
            next_beat = time.monotonic() + interval
            if not heartbeat():
                raise exception.Conflict('The upload was cancelled while '
                                         'it ran (the artifact was '
                                         'deleted?).')
        writer.send(data)
        if not data:
            return count


class _Writer(threading.Thread):
    """glance_store's write of an upload's data, in a thread of its own:
    it reads, as a file, what the request thread receives (``send``), up
    to AHEAD chunks behind, so that receiving overlaps the hashing and
    writing that glance_store does.

    Neither thread waits for the other without a bound: ``send`` and
    ``finish`` raise the store's error once the write has failed, and
    ``abort`` ends the write with an error inside glance_store, which
    deletes what it wrote (for S3, boto3 aborts the multipart upload).
    """

    AHEAD = 4
    POLL = 0.5      # seconds between checks that the writer still runs

    def __init__(self, backend, upload_id, size, staging=False):
        super(_Writer, self).__init__(daemon=True)
        if staging:
            self._add = functools.partial(store.stage_add, upload_id, self,
                                          size)
        else:
            self._add = functools.partial(store.add, backend, upload_id,
                                          self, size)
        self._queue = queue.Queue(self.AHEAD)
        self._chunk, self._pos, self._eof = b'', 0, False
        self._result = self._error = None
        self.start()

    def run(self):
        try:
            self._result = self._add()
        except BaseException as e:
            self._error = e

    def read(self, size=-1):
        """glance_store's reads: served from the chunks received. A read
        of several chunks (S3 parts) is gathered in one buffer that
        grows in place, so that it is not held twice while joined."""
        first, gathered = b'', None
        while size != 0 and not self._eof:
            if self._pos >= len(self._chunk):
                item = self._queue.get()
                if item is None:
                    raise ConnectionAbortedError('The upload ended before '
                                                 'its data did.')
                self._chunk, self._pos = item, 0
                self._eof = not item
                continue
            end = len(self._chunk) if size < 0 else self._pos + size
            part = self._chunk[self._pos:end]
            self._pos += len(part)
            if size > 0:
                size -= len(part)
            if gathered is not None:
                gathered.write(part)
            elif not first:
                first = part
            else:
                gathered = io.BytesIO()
                gathered.write(first)
                gathered.write(part)
                first = None
        return first if gathered is None else gathered.getvalue()

    def send(self, data):
        """Hand ``data`` to the store (b'' at the end of the data)."""
        while True:
            if not self.is_alive():
                self.finish()
                raise exception.StoreUnavailable(
                    'The store stopped reading the data before its end.')
            try:
                return self._queue.put(data, timeout=self.POLL)
            except queue.Full:
                pass

    def finish(self):
        """(location, bytes written, md5, multihash) once the store has
        written everything sent; raises the store's error."""
        self.join()
        if self._error is not None:
            raise self._error
        return self._result

    def abort(self):
        """End the write, which deletes what it wrote, and wait for it."""
        while self.is_alive():
            try:
                self._queue.put(None, timeout=self.POLL)
                break
            except queue.Full:
                pass
        self.join()


def check_upload(context, type_cls, view, name, key, size):
    """Whether the caller may upload ``size`` bytes (None: unknown) to
    blob ``name`` (entry ``key``) of the artifact ``view``; returns the
    size limit of the upload."""
    catalog.check_owner(context, view)
    policy.authorize(context, 'artifacts:upload_blob',
                     {'project_id': view['owner'] or ''})
    field = _blob_field(type_cls, name, key)
    key = key or ''
    if view['status'] != 'drafted':
        raise exception.Conflict(
            'The artifact is %s: its blobs are frozen.' % view['status'])
    if isinstance(field, f.BlobDict) and key not in view[name] and \
            len(view[name]) >= field.max_count:
        raise exception.Invalid("Blob dict '%s' has its maximum of %d "
                                "entries." % (name, field.max_count))
    limit = min(field.max_size, CONF.image_size_cap)
    if size is not None and size > limit:
        raise exception.TooLarge(
            'The data (%d bytes) is larger than the limit of %d bytes for '
            '%s.' % (size, limit, name))
    return limit


@catalog.retry_on_change
def _begin(context, type_cls, artifact_id, name, key, size, backend,
           staging=False):
    """Check an upload (a stage, with ``staging``) against the artifact
    as it is and record it: (size limit, backend, upload id, quota
    limits, the artifact's API view)."""
    record = catalog.get_record(context, type_cls, artifact_id)
    view = catalog.present(type_cls, record)
    limit = check_upload(context, type_cls, view, name, key, size)
    key = key or ''
    upload = {'upload_id': str(uuid.uuid4()),
              'process': catalog.this_process()}
    if staging:
        # Staged data counts against artifact_stage_total once it is
        # whole, not against artifact_size_total.
        backend = store.staging_backend()
        upload.update(method='stage', reserved=0, backend=backend)
        limits = quota.limits(view['owner'], [quota.COUNT_UPLOADING,
                                              quota.STAGE_TOTAL])
    else:
        backend = _backend(context, type_cls, backend)
        upload.update(reserved=size or 0, backend=backend or '')
        limits = quota.limits(view['owner'], [quota.SIZE_TOTAL,
                                              quota.COUNT_UPLOADING])
    upload_id = upload['upload_id']
    api = catalog.data_api()
    try:
        api.blob_upload_begin(context, artifact_id, type_cls.name, name,
                              key, upload,
                              expect={'revision': record['revision']},
                              limits=limits)
    except exception.Changed:
        raise
    except exception.Conflict:
        # The running upload may be a dead one: clean up and try again.
        if not catalog.clean_stale_uploads(api.blob_upload_list(
                context, artifact_id)):
            raise
        raise exception.Changed('A dead upload of the blob was cleaned '
                                'up.')
    return limit, backend, upload_id, limits, view


def upload(context, type_cls, artifact_id, name, key, body, size,
           content_type=None, md5=None, os_hash_value=None,
           backend=None, types=None):
    """Store ``body`` (a file-like object) as the data of blob ``name``
    (entry ``key`` of a blob dict); ``size`` is None when not declared.
    ``types`` are the enabled types, for the references an inspector
    fills."""
    md5, os_hash_value = _check_declared(content_type, md5, os_hash_value)
    limit, backend, upload_id, limits, artifact = _begin(
        context, type_cls, artifact_id, name, key, size, backend)
    key = key or ''
    api = catalog.data_api()
    location = None
    reserve = None
    if limits and quota.SIZE_TOTAL in limits:
        reserve = functools.partial(api.blob_upload_reserve, context,
                                    artifact_id, name, key, upload_id,
                                    limits=limits)
    writer = _Writer(backend, upload_id, size or 0)
    try:
        try:
            _receive(body, limit, writer, lambda: api.blob_upload_heartbeat(
                context, artifact_id, name, key, upload_id), reserve,
                size or 0)
        except BaseException:
            writer.abort()
            raise
        location, written, checksum, multihash = writer.finish()
        _check_received(size, written, md5, checksum, os_hash_value,
                        multihash)
        changes = inspection.at_upload(
            context, type_cls, name, key,
            {'size': written, 'backend': backend, 'location': location},
            artifact, types)
        record, previous = api.blob_upload_finish(
            context, artifact_id, type_cls.name, name, key, upload_id,
            {'status': 'active', 'size': written, 'checksum': checksum,
             'os_hash_algo': CONF.hashing_algorithm,
             'os_hash_value': multihash,
             'content_type': content_type or 'application/octet-stream',
             'location': location, 'backend': backend or ''},
            keep_for=catalog.kept_for(), changes=changes)
    except BaseException:
        try:
            api.blob_upload_abort(context, artifact_id, name, key,
                                  upload_id)
        except Exception:
            # The client hears of what ended the upload; the record goes
            # once it has left no heartbeat for upload_stale_after.
            LOG.exception('Could not forget upload %s of %s/%s', upload_id,
                          artifact_id, name)
        # A store deletes what it wrote when its write fails (for S3, boto3
        # aborts the multipart upload); what a failing store cannot delete
        # is left to the garbage collector. Data that blob_upload_finish
        # recorded although it failed (an answer lost) stays the blob's.
        if location is not None and not _recorded(
                type_cls, artifact_id, name, key, backend, upload_id):
            store.delete(backend, location)
        raise
    if previous is not None:
        delete_every_copy(previous)
    view = catalog.present(type_cls, record)
    row = next(r for r in record['blobs']
               if r['field'] == name and r['key'] == key)
    notifier.notify(context, 'artifact.upload', view,
                    blob=notifier.blob_info(row))
    return view


def download(context, type_cls, artifact_id, name, key):
    """(the API view of a visible artifact, the recorded row of its
    blob); NoData when the blob has no data yet."""
    record = catalog.get_record(context, type_cls, artifact_id)
    policy.authorize(context, 'artifacts:download_blob',
                     {'project_id': record['owner'] or ''})
    _blob_field(type_cls, name, key)
    if record['status'] == 'deactivated' and not context.is_admin:
        raise exception.Forbidden('The artifact is deactivated: only '
                                  'administrators may download its data.')
    for row in record['blobs']:
        if row['field'] == name and row['key'] == (key or ''):
            return catalog.present(type_cls, record), row
    raise exception.NoData('%s has no data yet.'
                           % (name + ('/' + key if key else '')))


def data_elsewhere(context, type_cls, artifact_id, name, key):
    """The path that serves the data of a read-only type's blob (an
    image's: /v2/images/{id}/file, under images' own policies); NoData
    when it has none."""
    record = catalog.get_record(context, type_cls, artifact_id)
    _blob_field(type_cls, name, key)
    if not any(row['field'] == name for row in record['blobs']):
        raise exception.NoData('%s has no data yet.' % name)
    return '/v2/%s/%s/file' % (type_cls.name, artifact_id)


def read(context, artifact, row, part, destination_ip, send_file=None):
    """Response body of the data of a blob row of ``artifact`` (its API
    view): all of it, or the bytes [start, end) of ``part``, exactly as
    many as the response promises in Content-Length. The store is asked
    now, so that its errors come before the response starts. Once the
    last byte is out, artifact.send is notified.

    ``send_file`` (edge.file_sender), when the WSGI server can send a
    file itself: used when the first store in read order is a
    filesystem store whose file holds exactly the blob's size (the other
    copies are not needed then: a file that is there and whole is read
    by the kernel, not by glance_store)."""
    start, end = part or (0, row['size'])
    sent = functools.partial(
        notifier.notify, context, 'artifact.send', artifact,
        blob=notifier.blob_info(row), bytes_sent=end - start,
        range=list(part) if part else None, destination_ip=destination_ip)
    if end == start:
        return _exactly(iter(()), 0, row, sent)
    if send_file is not None:
        backend, location = _in_read_order(row)[0]
        try:
            file = store.open_file(backend, location, row['size'])
        except exception.LocationRefused:
            file = None     # refused and logged; _from_any_store says so
        if file is not None:
            return send_file(file, start, end - start, sent)
    return _exactly(_from_any_store(row, start, end - start), end - start,
                    row, sent)


def data(row):
    """The whole data of a blob row, from the first store that has it,
    for the domain's own reads (no artifact.send: nothing leaves)."""
    if not row['size']:
        return iter(())
    return _exactly(_from_any_store(row, 0, row['size']), row['size'], row,
                    lambda: None)


def delete_every_copy(row):
    """Delete the data of a blob row (as the data API returns them, with
    its copies) from every store that holds it."""
    for copy in [row] + list(row.get('copies', ())):
        store.delete(copy['backend'] or None, copy['location'])


def _in_read_order(row):
    """The stores holding a blob row's data, as (backend, location), in
    the order downloads read them (see [artifacts] read_order)."""
    copies = [(row['backend'] or None, row['location'])] + [
        (c['backend'], c['location']) for c in row.get('copies', ())]
    order = CONF.artifacts.read_order

    def rank(pair):
        backend = pair[0] or ''
        return order.index(backend) if backend in order else len(order)
    return sorted(copies, key=rank)     # stable: copies in their order


def _from_any_store(row, offset, length):
    """(iterator of ``length`` bytes of a blob's data from ``offset``):
    the first store that answers is asked now (so that an error comes
    before the response starts); when one fails, or ends early, before
    or during the read, the next one goes on at the same byte. The
    copies hold the same bytes: each was checked against the blob's size
    and digests when it was made."""
    stores = _in_read_order(row)
    first, data = _open_any(row, stores, offset, length)
    return _continued(row, stores[first + 1:], data, offset, length)


def _open_any(row, stores, offset, length):
    """(index of the store that answered, its data iterator); the error
    of the last store when none does."""
    for number, (backend, location) in enumerate(stores):
        try:
            data, _size = store.get(backend, location, offset, length)
            return number, data
        except (exception.NotFound, exception.StoreUnavailable,
                exception.LocationRefused) as e:
            if number + 1 == len(stores):
                raise
            LOG.warning('Reading the data of blob %s from store %s failed '
                        '(%s: %s); reading the next copy', _shown_blob(row),
                        store.shown(backend or 'default'),
                        type(e).__name__, e)


def _continued(row, rest, data, offset, length):
    done = 0
    while True:
        try:
            for chunk in data:
                chunk = chunk[:length - done]
                done += len(chunk)
                if chunk:
                    yield chunk
                if done == length:
                    break
            if done == length or not rest:
                return      # _exactly tells data that ended early
            LOG.warning('The data of blob %s ended %d bytes early in a '
                        'store; reading the next copy', _shown_blob(row),
                        length - done)
        except GeneratorExit:
            raise
        except Exception as e:
            if not rest:
                raise
            LOG.warning('Reading the data of blob %s failed after %d bytes '
                        '(%s: %s); reading the next copy', _shown_blob(row),
                        done, type(e).__name__, e)
        finally:
            close = getattr(data, 'close', None)
            if close is not None:
                close()
        number, data = _open_any(row, rest, offset + done, length - done)
        rest = rest[number + 1:]


def _shown_blob(row):
    return row['field'] + ('/' + row['key'] if row['key'] else '')


def _exactly(data, length, row, sent):
    """``length`` bytes of ``data``, then ``sent()`` once the last of
    them is out (the WSGI server asks for more only after writing what it
    has; a download broken off ends before). Data that ends early, or
    whose reading fails, breaks off the response (the client sees it
    short of Content-Length); glance-api's log says which and why."""
    total = length
    try:
        for chunk in data:
            chunk = chunk[:length]
            length -= len(chunk)
            if chunk:
                yield chunk
            if length == 0:
                break
    except GeneratorExit:
        raise
    except Exception as e:
        LOG.error('Reading the data of blob %s at %s from its store failed '
                  'after %d of %d bytes; the download is broken off: %s: %s',
                  _shown_blob(row), store.shown(row['location']),
                  total - length, total,
                  type(e).__name__, e)
        raise
    finally:
        close = getattr(data, 'close', None)
        if close is not None:
            close()
    if length == 0:
        sent()
        return
    LOG.error('The data of blob %s at %s ended %d bytes early in its '
              'store', _shown_blob(row), store.shown(row['location']), length)
    raise exception.StoreUnavailable('The blob data ended early.')


# -- copies in more stores ---------------------------------------------------

def _data_row(record, name, key):
    return next((r for r in record['blobs']
                 if r['field'] == name and r['key'] == (key or '')), None)


def check_copy(context, type_cls, view, name, key):
    """Whether the caller may copy the data of blob ``name`` (entry
    ``key``) of the artifact ``view`` to other stores."""
    policy.authorize(context, 'artifacts:copy_blob',
                     {'project_id': view['owner'] or ''})
    catalog.check_owner(context, view)
    field = _blob_field(type_cls, name, key)
    blob = view[name].get(key) if isinstance(field, f.BlobDict) \
        else view[name]
    if not blob or blob['status'] != 'active':
        raise exception.Conflict('%s has no data to copy.'
                                 % (name + ('/' + key if key else '')))


def _check_targets(backends):
    """The stores of a copy are stores of this glance-api."""
    known = [b for b in store.backends() if b is not None]
    if not known:
        raise exception.Invalid('This deployment has a single store '
                                '(enabled_backends is not set): there is '
                                'no other store to copy data to.')
    if not (isinstance(backends, list) and backends and
            all(isinstance(b, str) for b in backends)):
        raise exception.Invalid('"stores" names the stores to copy the '
                                'data to: a non-empty list of names.')
    unknown = [b for b in backends if b not in known]
    if unknown:
        raise exception.Invalid("Unknown store '%s'; the stores are: %s"
                                % (unknown[0][:64], ', '.join(known)))
    if len(set(backends)) != len(backends):
        raise exception.Invalid('"stores" names a store twice.')


def check_drop(context, type_cls, view, name, key):
    """Whether the caller may delete the copy of the data of blob
    ``name`` (entry ``key``) in a store."""
    policy.authorize(context, 'artifacts:delete_blob_location',
                     {'project_id': view['owner'] or ''})
    catalog.check_owner(context, view)
    _blob_field(type_cls, name, key)


def _check_store(backend):
    if backend not in store.backends() or backend is None:
        # As Glance's DELETE /v2/stores/{store}/{id}.
        raise exception.Conflict('The store %s is not available on this '
                                 'node.' % str(backend)[:64])


def copy(context, type_cls, artifact_id, name, key, backends,
         all_stores_must_succeed=True):
    """Start copying the data of blob ``name`` (entry ``key``) to the
    stores ``backends`` ('all': every store that does not hold it), one
    after the other, in a thread of this process; returns the artifact's
    API view at once, which shows the copy in
    ``os_glance_importing_to_stores``. With
    ``all_stores_must_succeed``, a store that fails ends the copy and
    the copies it made are deleted again; else the copy goes on to the
    next store. Stores that failed show in ``os_glance_failed_import``."""
    record = catalog.get_record(context, type_cls, artifact_id)
    view = catalog.present(type_cls, record)
    if backends == 'all':
        # Glance's all_stores: every store that does not hold it yet.
        row = _data_row(record, name, key) or {}
        held = [row.get('backend')] + [c['backend']
                                       for c in row.get('copies', ())]
        backends = [b for b in store.backends() if b not in held]
        if not backends and row:
            raise exception.Conflict(
                '%s already has its data in every store (%s).'
                % (name + ('/' + key if key else ''), ', '.join(
                    b for b in held if b)))
    check_copy(context, type_cls, view, name, key)
    _check_targets(backends)
    upload_id = str(uuid.uuid4())
    record = catalog.data_api().blob_copy_begin(
        context, artifact_id, type_cls.name, name, key or '',
        {'upload_id': upload_id, 'backends': list(backends),
         'process': catalog.this_process()},
        limits=quota.limits(view['owner'], [quota.SIZE_TOTAL,
                                            quota.COUNT_UPLOADING]))
    row = _data_row(record, name, key)
    threading.Thread(
        target=_copy_all, name='artifacts-copy-%s' % upload_id, daemon=True,
        args=(context, type_cls, artifact_id, name, key or '', upload_id,
              row, backends[0], all_stores_must_succeed)).start()
    return catalog.present(type_cls, record)


class _Source(object):
    """A blob's data as a file for store.add, read from its stores,
    beating the copy's heartbeat as it goes."""

    def __init__(self, chunks, beat):
        self._chunks = iter(chunks)
        self._buffer = b''
        self._beat = beat
        self._next_beat = (time.monotonic() +
                           CONF.artifacts.upload_heartbeat_interval)

    def read(self, size=-1):
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
            if time.monotonic() >= self._next_beat:
                self._next_beat = (time.monotonic() +
                                   CONF.artifacts.upload_heartbeat_interval)
                if not self._beat():
                    raise exception.Conflict('The copy was cancelled while '
                                             'it ran.')
        if size < 0:
            size = len(self._buffer)
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


def _write_copy(row, backend, upload_id, beat):
    """Write a copy of a blob row's data to ``backend``; its location,
    once it has the blob's size and digests (else it is deleted)."""
    location, written, checksum, multihash = store.add(
        backend, upload_id, _Source(data(row), beat), row['size'])
    if (written, checksum, multihash) != (row['size'], row['checksum'],
                                          row['os_hash_value']):
        store.delete(backend, location)
        raise exception.StoreUnavailable(
            'The copy written to store %s differs from the data (%d bytes, '
            'MD5 %s); it was deleted.' % (backend, written, checksum))
    return location


def _copy_all(context, type_cls, artifact_id, name, key, upload_id, row,
              backend, all_must_succeed):
    """The copy's thread: each backend in turn, recorded as it is made,
    as glance-api's own work (the request's user was authorized when it
    began; a token may expire before a long copy ends). Once it ends
    with a copy made, artifact.upload is notified in the request's
    context."""
    admin = catalog.admin_context()
    api = catalog.data_api()
    made = []
    what = '%s of artifact %s' % (name + ('/' + key if key else ''),
                                  artifact_id)

    def beat():
        return api.blob_upload_heartbeat(admin, artifact_id, name, key,
                                         upload_id)

    while backend is not None:
        values = None
        stop = False
        try:
            values = {'location': _write_copy(row, backend, upload_id, beat),
                      'backend': backend}
        except Exception as e:
            LOG.error('Copying the data of %s to store %s failed: %s: %s',
                      what, store.shown(backend), type(e).__name__, e)
            stop = all_must_succeed
        try:
            # Stopped, the copy ends with the copies it made.
            record, following = api.blob_copy_step(
                admin, artifact_id, type_cls.name, name, key, upload_id,
                values, stop=stop)
        except Exception as e:
            LOG.error('The copy of %s to store %s ended: %s: %s', what,
                      store.shown(backend), type(e).__name__, e)
            if values is not None and not _recorded(
                    type_cls, artifact_id, name, key, backend, upload_id):
                store.delete(backend, values['location'])
            try:
                api.blob_upload_abort(admin, artifact_id, name, key,
                                      upload_id)
            except Exception:
                LOG.exception('Could not forget copy %s of %s', upload_id,
                              what)
            return
        if values is not None:
            made.append(values)
            LOG.info('Copied the data of %s to store %s', what,
                     store.shown(backend))
        elif stop:
            for done in made:
                store.delete(done['backend'], done['location'])
            LOG.info('Deleted the copies of %s again: all stores had to '
                     'succeed', what)
            return
        backend = following
    if made:
        notifier.notify(context, 'artifact.upload',
                        catalog.present(type_cls, record),
                        blob=notifier.blob_info(_data_row(record, name,
                                                          key)))


def _recorded(type_cls, artifact_id, name, key, backend, upload_id):
    """Whether the data that upload (or copy) ``upload_id`` wrote to
    ``backend`` is recorded as the blob's, although the call that was to
    record it failed (it committed and its answer was lost). True when
    that cannot be told, so that the data is kept: once nothing records
    it, the clean-up of dead uploads or garbage collection deletes it."""
    try:
        record = catalog.data_api().artifact_get(
            catalog.admin_context(), artifact_id, type_cls.name)
    except exception.NotFound:
        return False        # the artifact is gone, and its data
    except Exception as e:
        LOG.warning('Could not tell whether the data of upload %s of %s in '
                    'store %s was recorded (%s: %s); it is kept', upload_id,
                    name, store.shown(backend or 'default'),
                    type(e).__name__, e)
        return True
    row = _data_row(record, name, key)
    return row is not None and any(
        (held['backend'] or '') == (backend or '') and
        held['data_name'] == store.data_id(upload_id)
        for held in [row] + list(row.get('copies', ())))


def drop(context, type_cls, artifact_id, name, key, backend):
    """Delete the copy of the data of blob ``name`` (entry ``key``) in
    store ``backend`` (Forbidden for the only one); returns the
    artifact's API view."""
    record = catalog.get_record(context, type_cls, artifact_id)
    check_drop(context, type_cls, catalog.present(type_cls, record),
               name, key)
    _check_store(backend)
    record, dropped = catalog.data_api().blob_copy_drop(
        context, artifact_id, type_cls.name, name, key or '', backend,
        keep_for=catalog.kept_for())
    if dropped is not None:
        store.delete(dropped['backend'] or None, dropped['location'])
    return catalog.present(type_cls, record)


# -- staging and import ------------------------------------------------------
# As Glance's interoperable import of images: data is staged (PUT
# .../stage, to Glance's staging store) and imported with glance-direct,
# or imported from a URL with web-download, in a thread of this process,
# to one store or several. The import is recorded as an upload of the
# blob (one at a time; a dead importer is cleaned up as a dead uploader:
# what it wrote is deleted and staged data is kept, to import again). It
# writes the data to each of its stores, the first from the source and
# the others from the first, each checked against the first's size and
# digests; the data becomes the blob's, with its copies, in one
# transaction once every store has it (all_stores_must_succeed) or at
# least one (else). An import that fails leaves the blob as it was, the
# failed stores in its os_glance_failed_import, and nothing staged.

def check_method(name):
    """An import method enabled by Glance's [DEFAULT]
    enabled_import_methods (which accepts only Glance's own names:
    copy-blob follows copy-image); NotFound otherwise, as Glance's
    stage answers when glance-direct is off."""
    if IMPORT_METHODS.get(name) not in CONF.enabled_import_methods:
        raise exception.NotFound(
            "The import method %r is not available here; the enabled "
            "ones are: %s" % (str(name)[:64], ', '.join(
                m for m, enabled_by in sorted(IMPORT_METHODS.items())
                if enabled_by in CONF.enabled_import_methods) or 'none'))


# Import methods, and the Glance method that enables each.
IMPORT_METHODS = {'copy-blob': 'copy-image',
                  'glance-direct': 'glance-direct',
                  'web-download': 'web-download'}
WEB_SCHEMES = ('http', 'https')
URI_MAX = 2048


def stage(context, type_cls, artifact_id, name, key, body, size,
          content_type=None, md5=None, os_hash_value=None):
    """Stream ``body`` to the staging store as the data that a
    glance-direct import of blob ``name`` (entry ``key``) will make the
    blob's, checked as an upload is; returns the artifact's API view."""
    check_method('glance-direct')
    md5, os_hash_value = _check_declared(content_type, md5, os_hash_value)
    limit, _backend_name, upload_id, _limits, artifact = _begin(
        context, type_cls, artifact_id, name, key, size, None, staging=True)
    key = key or ''
    api = catalog.data_api()
    location = None
    writer = _Writer(None, upload_id, size or 0, staging=True)
    try:
        try:
            _receive(body, limit, writer, lambda: api.blob_upload_heartbeat(
                context, artifact_id, name, key, upload_id))
        except BaseException:
            writer.abort()
            raise
        location, written, checksum, multihash = writer.finish()
        _check_received(size, written, md5, checksum, os_hash_value,
                        multihash)
        record = api.blob_stage_finish(
            context, artifact_id, type_cls.name, name, key, upload_id,
            {'location': location, 'size': written, 'checksum': checksum,
             'os_hash_value': multihash,
             'content_type': content_type or 'application/octet-stream'},
            limits=quota.limits(artifact['owner'], [quota.STAGE_TOTAL]))
    except BaseException:
        try:
            api.blob_upload_abort(context, artifact_id, name, key,
                                  upload_id)
        except Exception:
            LOG.exception('Could not forget stage %s of %s/%s', upload_id,
                          artifact_id, name)
        if location is not None and not _staged(type_cls, artifact_id,
                                                name, key, upload_id):
            store.stage_delete(location)
        raise
    return catalog.present(type_cls, record)


def _check_received(size, written, md5, checksum, os_hash_value, multihash):
    """The data written is the data the client declared."""
    if size is not None and written != size:
        raise exception.Invalid('The request declared %d bytes but sent %d.'
                                % (size, written))
    if md5 is not None and md5 != checksum:
        raise exception.Invalid(
            'Content-MD5 %s does not match the data received (%s); nothing '
            'was kept.' % (md5, checksum))
    if os_hash_value is not None and os_hash_value != multihash:
        raise exception.Invalid(
            'The expected %s hash does not match the data received; '
            'nothing was kept.' % CONF.hashing_algorithm)


def _staged(type_cls, artifact_id, name, key, upload_id):
    """Whether stage ``upload_id`` is recorded as staged data although the
    call that was to record it failed; True when that cannot be told
    (the data is kept; the staged row, if any, names it)."""
    try:
        record = catalog.data_api().artifact_get(
            catalog.admin_context(), artifact_id, type_cls.name)
    except exception.NotFound:
        return False
    except Exception as e:
        LOG.warning('Could not tell whether stage %s of %s was recorded '
                    '(%s: %s); its data is kept', upload_id, name,
                    type(e).__name__, e)
        return True
    return any(u['upload_id'] == upload_id and u['method'] == 'staged'
               for u in record['uploads'])


def _check_web_source(method):
    """(uri, expected {checksum, os_hash_value}) of a web-download method
    object, once the URI passes Glance's [import_filtering_opts] (its
    scheme, host and port, and every address its host resolves to: no
    loopback or link-local address unless the host is allowed); nothing
    is requested for it here."""
    if set(method) - {'name', 'uri', 'validation_data'}:
        raise exception.Invalid('web-download takes "uri" and, optionally, '
                                '"validation_data".')
    uri = method.get('uri')
    if not isinstance(uri, str) or not uri or len(uri) > URI_MAX:
        raise exception.Invalid('web-download needs "uri": the URL of the '
                                'data, at most %d characters.' % URI_MAX)
    if uri.partition(':')[0].lower() not in WEB_SCHEMES:
        raise exception.Invalid('web-download reads http and https URLs '
                                'only, not %r.' % uri[:200])
    if not glance_utils.validate_uri(uri):
        raise exception.Invalid(
            'The URL %s is refused by this cloud\'s import filtering '
            '([import_filtering_opts]: its scheme, host, port or address '
            'is not allowed); nothing was requested.' % store.shown(uri))
    expected = {}
    data = method.get('validation_data')
    if data is not None:
        if not isinstance(data, dict) or set(data) - {
                'os_hash_algo', 'os_hash_value', 'checksum'}:
            raise exception.Invalid(
                'validation_data is {"os_hash_algo", "os_hash_value"} and '
                'optionally "checksum" (MD5).')
        if 'os_hash_value' in data or 'os_hash_algo' in data:
            if data.get('os_hash_algo') != CONF.hashing_algorithm:
                raise exception.Invalid(
                    'validation_data: os_hash_algo must be %r, the '
                    'algorithm of this cloud (hashing_algorithm), with '
                    'os_hash_value.' % CONF.hashing_algorithm)
            expected['os_hash_value'] = _check_digest(
                'validation_data os_hash_value', _text(data.get(
                    'os_hash_value'), 'os_hash_value'))
        if 'checksum' in data:
            expected['checksum'] = _check_digest(
                'validation_data checksum', _text(data['checksum'],
                                                  'checksum'),
                MD5_HEX_LENGTH)
    return uri, expected


def _text(value, what):
    if not isinstance(value, str) or not value:
        raise exception.Invalid('validation_data: %s is a hexadecimal '
                                'string.' % what)
    return value


def _import_targets(context, type_cls, backends):
    """The stores an import writes to: the blob's default store (None),
    every store ('all'), or those named (policy permitting, as an
    upload's choice of its store)."""
    if backends is None:
        return [_backend(context, type_cls, None) or '']
    if backends != 'all':
        _check_targets(backends)
        policy.authorize(context, 'artifacts:select_backend', {})
        return list(backends)
    return [b or '' for b in store.backends()]


def import_data(context, type_cls, artifact_id, name, key, method,
                backends=None, all_stores_must_succeed=True, types=None):
    """Start the import ``method`` (a method object: glance-direct or
    web-download) into blob ``name`` (entry ``key``), to ``backends``
    (None: the blob's default store; 'all': every store), in a thread of
    this process; returns the artifact's API view at once."""
    check_method(method['name'])
    source = None
    if method['name'] == 'web-download':
        source = _check_web_source(method)
    elif set(method) != {'name'}:
        raise exception.Invalid('glance-direct takes no arguments but its '
                                'name.')
    record = catalog.get_record(context, type_cls, artifact_id)
    view = catalog.present(type_cls, record)
    limit = check_upload(context, type_cls, view, name, key, None)
    targets = _import_targets(context, type_cls, backends)
    staged = next((u for u in record['uploads'] if u['field'] == name and
                   u['key'] == (key or '') and u['method'] == 'staged'),
                  None)
    if method['name'] == 'glance-direct' and staged is not None and \
            not store.staged_here(staged['location']):
        raise exception.Conflict(
            'The data of %s was staged on host %s, whose staging store '
            'this host does not share: request the import there.'
            % (name + ('/' + key if key else ''),
               staged['process'].split(':')[0]))
    upload_id = staged['upload_id'] if staged else str(uuid.uuid4())
    record = catalog.data_api().blob_import_begin(
        context, artifact_id, type_cls.name, name, key or '',
        {'upload_id': upload_id, 'method': method['name'],
         'backends': targets, 'process': catalog.this_process()},
        limits=quota.limits(view['owner'], [quota.SIZE_TOTAL,
                                            quota.COUNT_UPLOADING]))
    row = next(u for u in record['uploads'] if u['upload_id'] == upload_id)
    job = _Import(context, type_cls, artifact_id, name, key or '', row,
                  source, all_stores_must_succeed, types, view, limit)
    threading.Thread(target=job.run, name='artifacts-import-%s' % upload_id,
                     daemon=True).start()
    return catalog.present(type_cls, record)


def _open_web(uri):
    """The response to a GET of ``uri`` through Glance's own opener for
    web-download: [import_filtering_opts] checked again for the address
    it connects to (pinned: DNS cannot rebind) and for every redirect.
    Each wait for the server is bounded by [artifacts]
    upload_idle_timeout."""
    opener = urllib.request.build_opener(
        glance_scripts.SafeRedirectHandler,
        glance_scripts._ValidatedExternalHTTPHandler,
        glance_scripts._ValidatedExternalHTTPSHandler)
    try:
        return opener.open(uri, timeout=CONF.artifacts.upload_idle_timeout)
    except urllib.error.HTTPError as e:
        e.close()
        raise exception.Invalid('%s answered %d %s.'
                                % (store.shown(uri), e.code, e.reason))
    except (glance_exception.InvalidRedirect, glance_exception.Invalid,
            glance_exception.ImportTaskError) as e:
        raise exception.Invalid('%s was refused by the import filtering: '
                                '%s' % (store.shown(uri), e))
    except TimeoutError:
        raise exception.Timeout('%s did not answer within %d seconds.'
                                % (store.shown(uri),
                                   CONF.artifacts.upload_idle_timeout))
    except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
        raise exception.Invalid('%s could not be read: %s'
                                % (store.shown(uri), e))


def _web_chunks(response, uri):
    try:
        while True:
            try:
                chunk = response.read(CHUNK)
            except TimeoutError:
                raise exception.Timeout(
                    '%s sent nothing for %d seconds.'
                    % (store.shown(uri), CONF.artifacts.upload_idle_timeout))
            except (OSError, http.client.HTTPException) as e:
                raise exception.Invalid('%s could not be read: %s'
                                        % (store.shown(uri), e))
            if not chunk:
                return
            yield chunk
    finally:
        response.close()


class _Import(object):
    """An import's thread: the data from its source to its first store,
    then from there to each of the others, recorded at the end."""

    def __init__(self, context, type_cls, artifact_id, name, key, row,
                 source, all_must_succeed, types, view, limit):
        self.context, self.type_cls, self.types = context, type_cls, types
        self.artifact_id, self.name, self.key = artifact_id, name, key
        self.view, self.limit = view, limit
        self.upload_id = row['upload_id']
        self.targets = [row['backend']] + [
            b for b in (row['pending_stores'] or '').split(',') if b]
        self.staged = row if row['method'] == 'glance-direct' else None
        self.uri, self.expected = source or (None, {})
        self.all_must_succeed = all_must_succeed
        self.api = catalog.data_api()
        self.admin = catalog.admin_context()
        self.what = '%s of artifact %s' % (name + ('/' + key if key else ''),
                                           artifact_id)
        self.size_limits = quota.limits(view['owner'], [quota.SIZE_TOTAL])
        self.content_type = (row['content_type'] if self.staged
                             else 'application/octet-stream')

    def beat(self):
        return self.api.blob_upload_heartbeat(self.admin, self.artifact_id,
                                              self.name, self.key,
                                              self.upload_id)

    def run(self):
        written, failed = [], []
        try:
            first = None
            for backend in self.targets:
                try:
                    if first is None:
                        first = self._from_source(backend)
                        location = first['location']
                    else:
                        location = _write_copy(first, backend,
                                               self.upload_id, self.beat)
                except (exception.StoreUnavailable,
                        exception.StorageFull) as e:
                    LOG.error('Importing %s into store %s failed: %s',
                              self.what, store.shown(backend), e)
                    failed.append(backend)
                    if self.all_must_succeed:
                        raise
                    continue
                written.append({'backend': backend, 'location': location})
            if not written:
                raise exception.StoreUnavailable('No store took the data.')
            self._finish(first, written, failed)
        except Exception as e:
            LOG.error('The import of %s failed: %s: %s', self.what,
                      type(e).__name__, e)
            self._undo(written)

    def _from_source(self, backend):
        """The data from the source, written to ``backend``: the blob row
        it would make."""
        if self.staged:
            chunks = store.stage_get(self.staged['location'])
            size = self.staged['size']
        else:
            response = _open_web(self.uri)
            size = response.headers.get('Content-Length')
            size = int(size) if size and size.isdigit() else None
            if size is not None and size > self.limit:
                response.close()
                raise exception.TooLarge(
                    '%s has %d bytes, more than the limit of %d bytes.'
                    % (store.shown(self.uri), size, self.limit))
            media_type = response.headers.get_content_type()
            if response.headers.get('Content-Type') and \
                    MEDIA_TYPE.fullmatch(media_type):
                self.content_type = media_type
            chunks = _web_chunks(response, self.uri)
        location, written, checksum, multihash = store.add(
            backend, self.upload_id, _Source(self._counted(chunks),
                                             self.beat), size or 0)
        row = {'backend': backend, 'location': location, 'size': written,
               'checksum': checksum, 'os_hash_value': multihash,
               'copies': []}
        expected = dict(self.expected)
        if self.staged:
            expected = {k: self.staged[k]
                        for k in ('size', 'checksum', 'os_hash_value')}
        wrong = sorted(k for k, v in expected.items() if row[k] != v)
        if wrong:
            store.delete(backend, location)
            raise exception.Invalid(
                'The data read has another %s than %s; it was deleted.'
                % (' and '.join(wrong), 'the staged data' if self.staged
                   else 'validation_data says'))
        return row

    def _counted(self, chunks):
        """``chunks`` up to the size limit, held against the project's
        artifact_size_total for every store as they come (staged data
        held its size when the import began)."""
        count, held = 0, 0
        stores = len(self.targets)
        for chunk in chunks:
            count += len(chunk)
            if count > self.limit:
                raise exception.TooLarge('The data is larger than the limit '
                                         'of %d bytes.' % self.limit)
            if not self.staged and self.size_limits and count > held:
                held = self.api.blob_upload_reserve(
                    self.context, self.artifact_id, self.name, self.key,
                    self.upload_id, count * stores,
                    (count + quota.RESERVE_STEP) * stores,
                    limits=self.size_limits)
                if held is None:
                    raise exception.Conflict('The import was cancelled.')
                held //= stores
            yield chunk

    def _finish(self, first, written, failed):
        primary = written[0]
        values = {'status': 'active', 'size': first['size'],
                  'checksum': first['checksum'],
                  'os_hash_algo': CONF.hashing_algorithm,
                  'os_hash_value': first['os_hash_value'],
                  'content_type': self.content_type,
                  'location': primary['location'],
                  'backend': primary['backend']}
        changes = inspection.at_upload(
            self.context, self.type_cls, self.name, self.key,
            {'size': first['size'], 'backend': primary['backend'] or None,
             'location': primary['location']}, self.view, self.types)
        try:
            record, previous = self.api.blob_upload_finish(
                self.context, self.artifact_id, self.type_cls.name,
                self.name, self.key, self.upload_id, values,
                keep_for=catalog.kept_for(), changes=changes,
                copies=written[1:], failed_stores=failed)
        except Exception:
            if _recorded(self.type_cls, self.artifact_id, self.name,
                         self.key, primary['backend'], self.upload_id):
                return      # the answer was lost, not the import
            raise
        LOG.info('Imported %s into %s', self.what,
                 ', '.join(store.shown(w['backend']) for w in written))
        if self.staged:
            store.stage_delete(self.staged['location'])
        if previous is not None:
            delete_every_copy(previous)
        notifier.notify(self.context, 'artifact.upload',
                        catalog.present(self.type_cls, record),
                        blob=notifier.blob_info(_data_row(
                            record, self.name, self.key)))

    def _undo(self, written):
        """The import failed: forget it (its stores failed), delete what
        it wrote, and the staged data it read."""
        forgotten = False
        try:
            forgotten = self.api.blob_upload_abort(
                self.admin, self.artifact_id, self.name, self.key,
                self.upload_id, failed_stores=self.targets)
        except Exception:
            LOG.exception('Could not forget import %s of %s',
                          self.upload_id, self.what)
        for held in written:
            store.delete(held['backend'] or None, held['location'])
        if self.staged and forgotten:
            store.stage_delete(self.staged['location'])
