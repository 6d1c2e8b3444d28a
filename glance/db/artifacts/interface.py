"""The artifacts data API: the functions every implementation provides.

Callers get an implementation with ``glance.db.artifacts.get_api()`` and
call only these functions. Each takes the request context first (only
``context.is_admin`` and ``context.owner`` are used), takes and returns
plain dicts, lists, strings, numbers and datetimes, and raises only the
errors of ``glance.db.artifacts.errors``.

The data API does not trust its callers: only an artifact's owner or an
admin writes it, its tags, members and uploads (a member sets its own
membership); an artifact is created in the caller's project; a read the
caller may not make raises (NotFound, Forbidden) and is never answered
empty; a finished upload's location is named after that upload, in the
backend it recorded. The registry checks each call further, as glance-api
checks a request (glance.artifacts.guard).

Writes to one artifact are serialized, and each is all or nothing. A
caller that decided on what it read passes ``expect`` (column values,
usually {'revision': N} of the record it read): the write happens only
if they still hold, else Changed, and the caller reads again and
decides again. Deadlocks and lock timeouts are retried inside every
write function.

artifact_create(context, values, limits=None) -> record
    Insert; Duplicate when (type_name, name, version, owner) exists.
artifact_get(context, artifact_id, type_name=None) -> record
    NotFound unless the artifact exists, is visible and is of type_name.
artifact_list(context, type_name, filters, sorts, limit, marker, latest,
              member_status, marker_values=None) -> [record]
    InvalidMarker for a marker outside the list. marker_values: the sort
    key values (id last) of a row that is not an artifact, to list after
    (the images of the list of every type, glance.db.artifacts.images).
artifact_update(context, artifact_id, type_name, values, expect=None)
    -> record. Change columns, and replace the given properties, tags and
    metadata.
artifact_tag_add(context, artifact_id, type_name, tag, expect=None)
    -> tag count
artifact_tag_delete(context, artifact_id, type_name, tag)
    NotFound when the artifact has no such tag.
artifact_referrers(context, artifact_id, fields) -> [referrer]
    Artifacts whose reference fields [(type_name, field)] hold the id;
    those the caller cannot see only as {'visible': False}.
artifact_reaches(context, start, goal, fields) -> bool
    Whether ``goal`` is reachable from ``start`` along the reference
    fields [(type_name, field)], whoever owns the artifacts on the way,
    at any depth, in one statement (admin only: Forbidden for others).
member_create(context, artifact_id, type_name, member, expect=None)
    -> member row
member_list(context, artifact_id, type_name, member=None) -> [member row]
member_update(context, artifact_id, type_name, member, status) -> row
member_delete(context, artifact_id, type_name, member)
artifact_delete(context, artifact_id, type_name, expect=None,
                keep_for=None) -> record
    Remove the artifact and all it owns. With keep_for (seconds), its
    blobs' data becomes pending deletes due that much later.
blob_upload_begin(context, artifact_id, type_name, field, key, upload,
                  expect=None, limits=None)
    Record an upload in progress; Conflict while another one runs, or
    when the artifact is no longer drafted (blobs are frozen then; so
    does blob_upload_finish).
blob_upload_reserve(context, artifact_id, field, key, upload_id, need,
                    want, limits) -> bytes held, or None
    Let a running upload hold more bytes against its project's
    artifact_size_total; OverLimit when not even ``need`` fits.
blob_upload_heartbeat(context, artifact_id, field, key, upload_id) -> bool
    Mark it alive; False once it is no longer recorded.
blob_upload_finish(context, artifact_id, type_name, field, key, upload_id,
                   values, keep_for=None, changes=None, copies=None,
                   failed_stores=None)
    -> (record, replaced blob row or None)
    Make the uploaded data the blob's; Conflict if the upload was dropped,
    Invalid unless ``values['location']`` names the upload's own data in
    the backend it recorded.
    With keep_for, the replaced data becomes a pending delete (and None is
    returned for it). ``changes`` are artifact values as artifact_update
    takes them (the fields an inspection of the data filled), written in
    the same transaction: the blob becomes active with them or not at
    all. An import passes the ``copies`` it wrote to its other backends
    (each {backend, location}) and the backends that failed.
blob_upload_abort(context, artifact_id, field, key, upload_id,
                  failed_stores=None, restage=False) -> bool
    Forget an upload (a stage, staged data, an import). ``failed_stores``
    become the blob's failed stores; with ``restage``, an import of
    staged data goes back to being staged data (its importer died).
blob_stage_finish(context, artifact_id, type_name, field, key, upload_id,
                  values, limits=None) -> record
    A stage's data is whole in the staging store: ``values`` (location,
    size, checksum, os_hash_value, content_type; named after the stage)
    wait there for an import. OverLimit past artifact_stage_total.
blob_import_begin(context, artifact_id, type_name, field, key, imp,
                  limits=None) -> record
    Record an import (``imp``: upload_id, method, backends, process) of
    the staged data (glance-direct; Conflict when nothing is staged) or
    of data from a URL (web-download), writing to each backend in turn;
    it holds its size (when known) per backend against
    artifact_size_total. blob_upload_finish ends it with the data and
    its ``copies`` in the other backends, blob_upload_abort when it
    fails.
blob_copy_begin(context, artifact_id, type_name, field, key, copy,
                limits=None) -> record
    Record a copy of the blob's active data to other stores (``copy``:
    upload_id, process, backends), as an upload in progress that holds
    the blob's size per backend against artifact_size_total; Conflict
    while another upload or copy of the blob runs, when it has no active
    data or a backend already holds it. Clears the blob's failed stores.
blob_copy_step(context, artifact_id, type_name, field, key, upload_id,
               values=None, stop=False) -> (record, next backend or None)
    The copy's write to its current backend ended: with ``values``
    (location, backend; named after the copy, in that backend) it is a
    copy of the blob's data, without it that backend failed (the blob's
    ``failed_stores``). Then on to the next backend, or the end; with
    ``stop`` (all stores had to succeed) the copies it made go with it.
    Conflict when the copy was dropped or the blob's data changed.
blob_copy_drop(context, artifact_id, type_name, field, key, backend,
               keep_for=None) -> (record, dropped data or None)
    Remove the blob's data from one backend, never the last one; the
    oldest copy takes the place of the blob row's own. With keep_for,
    the dropped data becomes a pending delete (and None is returned).
    Conflict while an upload or copy of the blob runs.
blob_upload_list(context, artifact_id=None) -> [upload row]
    Uploads in progress, for cleaning up after dead uploaders; each row's
    ``idle`` is the seconds since its last heartbeat, by the database
    server's clock (heartbeats are stamped with it too), so that hosts
    whose clocks differ agree on which uploads are dead.
blob_data_used(context, names) -> [name]
    Which of the store data names (artifact-<upload id>, at most
    models.DATA_NAMES_MAX) are the data of an upload or copy in progress,
    a blob, a copy of a blob's data or a pending delete, for the garbage
    collector, which asks batch by batch of what it lists (admin only:
    Forbidden for others).
pending_delete_list(context, limit=1000) -> [pending delete row]
    Pending deletes that are due (admin only).
pending_delete_remove(context, ids) -> count
    Forget pending deletes that were carried out (admin only).
project_usage(context) -> {resource: usage}
    The caller's project's usage of each of QUOTA_RESOURCES (bytes for
    artifact_size_total, with what uploads in progress reserve, and for
    artifact_stage_total: the staged data, as Glance's image_stage_total
    counts the images being uploaded or imported).

Quotas: ``limits`` is {resource: limit} for some of QUOTA_RESOURCES, with
artifact_size_total and artifact_stage_total in bytes, or None for no
check. A write with limits takes its project's quota lock, reads the
project's usage, raises
OverLimit (naming the limit, the usage and the value) when it would pass
a limit, and writes, in one transaction: writers of one project on any
host check one after another, so that together they cannot pass a limit.

A record holds the artifact's columns (``revision`` among them) plus
``tags`` (sorted list),
``metadata`` (dict), ``properties`` (rows of type-field values),
``blobs`` (rows of blob state, with the store location, which is never
shown to clients, and ``copies``: [{backend, location, data_name,
created_at}] of the data in other stores, oldest first) and ``uploads``
(uploads and copies in progress; a copy has ``copy_of``, the data name
of the data it copies, and ``pending_stores``).
"""

FUNCTIONS = ('artifact_create', 'artifact_get', 'artifact_list',
             'artifact_update', 'artifact_delete', 'artifact_tag_add',
             'artifact_tag_delete', 'artifact_referrers', 'artifact_reaches',
             'member_create',
             'member_list', 'member_update', 'member_delete',
             'blob_upload_begin',
             'blob_upload_heartbeat', 'blob_upload_finish',
             'blob_upload_abort', 'blob_stage_finish',
             'blob_import_begin', 'blob_copy_begin', 'blob_copy_step',
             'blob_copy_drop', 'blob_upload_list', 'blob_data_used',
             'pending_delete_list', 'pending_delete_remove',
             'blob_upload_reserve', 'project_usage')

# The resources of Keystone unified limits that artifacts count, in the
# order they are checked and shown.
QUOTA_RESOURCES = ('artifact_count_total', 'artifact_size_total',
                   'artifact_count_uploading', 'artifact_stage_total')
