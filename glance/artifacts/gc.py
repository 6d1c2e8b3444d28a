"""Garbage collection of blob data, safe while uploads run, and failing
closed.

One pass:
1. cleans up uploads whose uploader died (as any request would);
2. carries out the pending deletes that are due (delayed_delete);
3. with the OCI types enabled, cancels OCI upload sessions and deletes
   OCI blobs that no manifest names, when unchanged for the grace period
   (oci.collect; their data becomes pending deletes or garbage for the
   next step);
4. lists the artifact data (``artifact-<uuid>``) of every backend that
   can be listed (file and S3, incomplete S3 multipart uploads included,
   and the staging store of this host: staged data for imports),
   as a stream, BATCH names at a time: for each batch it then asks the
   database which of those names are in use (an index lookup per name),
   and deletes what nothing uses and is older than the grace period.
   Its memory holds a batch and the unused data found, never the whole
   listing or everything in use.

Listing before reading what is in use is what makes it safe: data is
written only after its upload is recorded, and moves from the upload to a
blob to a pending delete in single transactions, read in that order, so
data that exists when it is listed is seen in use unless it is garbage.
That holds for each batch as for a whole listing.
Glance's images in the same store are never touched: their names do not
start with ``artifact-``.

When in doubt it keeps the data. Deleting is decided only on an answer
that is the truth: a read of what is in use that fails or is refused (the
data API raises rather than answering empty to a caller that may not read
it) deletes nothing in that backend, and the report names the error. And
a pass that would delete more than ``[artifacts] gc_max_delete_fraction``
of what it listed in a backend deletes nothing there unless forced: a
whole store of garbage is more likely a wrong answer than a fact.
Whatever a pass deletes goes through the store layer's location check
(store.check_location): pending deletes of locations it refuses stay,
logged, and are never carried out.
"""

import random
import threading
import time

from oslo_config import cfg
from oslo_log import log as logging

from glance.artifacts import catalog
from glance.artifacts import loader
from glance.artifacts import oci
from glance.artifacts import store

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
#: Data names listed and then looked up at a time.
BATCH = 1000


def _error(e):
    return '%s: %s' % (type(e).__name__, e)


def collect(older_than, dry_run=False, force=False):
    """One pass; returns a report: {'dead_uploads': n, 'pending_deleted':
    n, 'errors': [...], 'backends': {name: {'listed', 'orphans', 'bytes',
    'deleted', 'young'}, with 'refused' when the safety belt held, 'error'
    when the backend could not be collected, and 'orphan_names' in a dry
    run}} ('bytes' of the orphans; 'young' counts unused data left for
    being newer than ``older_than`` seconds). A dry run deletes nothing
    and names what would go; ``force`` deletes past
    gc_max_delete_fraction. ``errors`` lists the steps that failed (the
    clean-up of dead uploads, the pending deletes); ``failed(report)``
    tells whether anything did."""
    api = catalog.data_api()
    admin = catalog.admin_context()
    report = {'dead_uploads': 0, 'pending_deleted': 0, 'errors': [],
              'backends': {}}
    if not dry_run:
        try:
            report['dead_uploads'] = catalog.clean_stale_uploads(
                api.blob_upload_list(admin), report['errors'])
        except Exception as e:
            LOG.error('Garbage collection could not clean up dead uploads: '
                      '%s', _error(e))
            report['errors'].append('dead uploads: %s' % _error(e))
        try:
            report['pending_deleted'] = _pending(api, admin)
        except Exception as e:
            LOG.error('Garbage collection could not carry out the pending '
                      'deletes: %s', _error(e))
            report['errors'].append('pending deletes: %s' % _error(e))
        if set(oci.TYPES) <= set(CONF.artifacts.enabled_types):
            try:
                report['oci'] = oci.collect(loader.load_types(), older_than)
            except Exception as e:
                LOG.error('Garbage collection of OCI content failed: %s',
                          _error(e))
                report['errors'].append('oci content: %s' % _error(e))
    # And this host's staging store: staged data whose stage or import is
    # no longer recorded (its artifact was deleted on another host, say).
    for backend in store.backends() + [store.STAGING]:
        if store.listable(backend):
            try:
                counts = _collect(api, admin, backend, older_than, dry_run,
                                  force)
            except Exception as e:
                LOG.exception('Garbage collection of backend %s failed; '
                              'nothing was deleted there', backend)
                counts = {'error': _error(e)}
            report['backends'][backend or 'default'] = counts
    return report


def failed(report):
    """Whether a pass left something undone: an error, or a backend whose
    deletes the safety belt held."""
    return bool(report['errors']) or any(
        'error' in counts or 'refused' in counts
        for counts in report['backends'].values())


def _batches(items, size):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _collect(api, admin, backend, older_than, dry_run, force):
    counts = {'listed': 0, 'orphans': 0, 'bytes': 0, 'deleted': 0,
              'young': 0}
    orphans = []
    for batch in _batches(store.list_data(backend), BATCH):
        counts['listed'] += len(batch)
        # Raises (and so deletes nothing) when what is in use cannot be
        # read.
        in_use = set(api.blob_data_used(admin, [i.name for i in batch]))
        for item in batch:
            if item.name in in_use:
                continue
            if item.age < older_than:
                counts['young'] += 1
                continue
            orphans.append(item)
    counts['orphans'] = len(orphans)
    counts['bytes'] = sum(item.size for item in orphans)
    if dry_run:
        counts['orphan_names'] = sorted(item.name for item in orphans)
        return counts
    limit = CONF.artifacts.gc_max_delete_fraction * counts['listed']
    if orphans and len(orphans) > limit and not force:
        counts['refused'] = (
            '%d of the %d pieces of data listed are unused, more than '
            'gc_max_delete_fraction (%s) allows; nothing was deleted. Check '
            'them with "glance-artifacts-manage store gc --dry-run", then '
            'run it with --force.'
            % (len(orphans), counts['listed'],
               CONF.artifacts.gc_max_delete_fraction))
        LOG.warning('Garbage collection of backend %s: %s', backend,
                    counts['refused'])
        return counts
    for item in orphans:
        try:
            item.delete()
            counts['deleted'] += 1
        except Exception as e:
            LOG.warning('Could not delete unused blob data %s from '
                        'backend %s: %s', item.name, backend, e)
    LOG.info('Garbage collection of backend %s: %s', backend, counts)
    return counts


def _pending(api, admin):
    done = 0
    while True:
        rows = api.pending_delete_list(admin, limit=500)
        if not rows:
            return done
        deleted = [r['id'] for r in rows
                   if store.delete(r['backend'] or None, r['location'])]
        done += api.pending_delete_remove(admin, deleted)
        if len(deleted) < 500:      # the rest failed; they wait their turn
            return done


def start_periodic():
    """Run collect() every gc_interval seconds (with some jitter, so that
    processes started together do not run together) in a daemon thread of
    this process, when gc_interval is set. A pass that left something
    undone is logged as an error."""
    interval = CONF.artifacts.gc_interval
    if not interval:
        return None

    def run():
        while True:
            time.sleep(interval * random.uniform(0.8, 1.2))
            try:
                report = collect(CONF.artifacts.gc_grace)
            except Exception:
                LOG.exception('Garbage collection of blob data failed')
                continue
            if failed(report):
                LOG.error('Garbage collection left work undone: %s', report)

    thread = threading.Thread(target=run, name='artifacts-gc', daemon=True)
    thread.start()
    return thread
