"""The blob service: the only code that calls glance_store.

It uses the stores glance-api configured (``enabled_backends``, or the
single store of older configurations) and knows nothing of artifacts but
backend names, data ids and locations.
"""

import os

import glance_store
from glance_store import location as store_location
from oslo_config import cfg
from oslo_log import log as logging

from glance.artifacts import exception

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


def _multi():
    return bool(CONF.enabled_backends)


def backends():
    """Names of the backends artifacts may use."""
    if _multi():
        return sorted(CONF.enabled_backends)
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


def add(backend, data_id, reader, size):
    """Write ``reader`` to ``backend`` under ``data_id``.

    Returns (location, size, md5 hex, multihash hex); glance_store deletes
    what it wrote when it fails. ``size`` is 0 when unknown.
    """
    store = _store(backend)
    try:
        location, written, checksum, multihash, _meta = store.add(
            data_id, reader, size, CONF.hashing_algorithm)
    except glance_store.StorageFull as e:
        raise exception.StorageFull('The store is full: %s' % e)
    except glance_store.StorageWriteDenied as e:
        raise exception.StoreUnavailable('The store refused the write: %s'
                                         % e)
    except glance_store.Invalid as e:
        raise exception.Invalid(str(e))
    return location, written, checksum, multihash


def get(backend, location, offset=0, length=None):
    """(iterator over the data, its size) from ``offset``, ``length``
    bytes (all when None)."""
    store = _store(backend)
    try:
        return store.get(_location(location, backend), offset=offset,
                         chunk_size=length)
    except glance_store.NotFound:
        raise exception.NotFound('The blob data is missing from its store.')
    except glance_store.RemoteServiceUnavailable as e:
        raise exception.StoreUnavailable(str(e))


def delete(backend, location):
    """Delete stored data; missing data is not an error."""
    try:
        _store(backend).delete(_location(location, backend))
    except glance_store.NotFound:
        pass
    except Exception as e:
        LOG.error('Could not delete blob data %s from backend %s: %s',
                  location, backend, e)


def delete_partial(backend, data_id):
    """Delete what a dead uploader may have written under ``data_id``.

    glance_store names the data after the id it is given; for the
    filesystem store that is a file ``data_id`` in one of its data
    directories. Other stores clean their partial writes themselves when
    a write fails in-process; a killed process leaves them to the
    operator, and this says so in the log."""
    store = _store(backend)
    dirs = []
    if getattr(store, 'multiple_datadirs', False):
        for paths in store.priority_data_map.values():
            dirs.extend(paths)
    elif getattr(store, 'datadir', None):
        dirs.append(store.datadir)
    if not dirs:
        LOG.warning('Partial data of upload %s in backend %s may remain; '
                    'this store cannot be searched for it.', data_id,
                    backend)
        return
    for directory in dirs:
        path = os.path.join(directory, data_id)
        if os.path.exists(path):
            delete(backend, 'file://%s' % path)
            LOG.info('Deleted partial blob data %s', path)
