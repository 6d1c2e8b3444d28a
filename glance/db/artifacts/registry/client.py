"""The data API over the registry (``[artifacts] data_api = registry``).

Each function sends the call to ``[artifacts] registry_url`` with the
caller's context; the registry decides visibility exactly as the direct
implementation does, and its errors are raised here as the same
exceptions. An unreachable or slow registry is Unavailable (503 for the
client); reads are retried, writes are not (the registry may have done
them).
"""

import time

from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import service_token
from keystoneauth1 import token_endpoint
from oslo_config import cfg
from oslo_log import log as logging

from glance.db.artifacts import errors
from glance.db.artifacts.registry import rpc

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
AUTH_GROUP = 'artifacts_registry_auth'     # see glance.artifacts.config
_sessions = {}


def _get_session(idempotent):
    """A keystoneauth session whose auth is glance-api's service
    credentials when [artifacts_registry_auth] configures an auth_type
    (for the registry's keystone flavor): one for reads, one for writes,
    with one token.

    Reads reuse pooled connections and are retried. Writes, which are
    never retried, go out on connections of their own, closed after each
    answer: a pooled connection may be the one the registry is closing at
    that moment (gunicorn closes keep-alive connections idle for 2 s),
    and a write that failed so could not be told from one that was done.
    """
    if not _sessions:
        auth = ks_loading.load_auth_from_conf_options(CONF, AUTH_GROUP)
        for kind in (True, False):
            _sessions[kind] = ks_loading.load_session_from_conf_options(
                CONF, AUTH_GROUP, auth=auth)
    return _sessions[idempotent]


def _auth(session, context):
    """What identifies a call: the user's own token (X-Auth-Token) with
    glance-api's service token (X-Service-Token), keystoneauth's service
    token support; for glance-api's own work (no user token: clean-up,
    garbage collection), its service token as both. None without
    service credentials (the registry's no-auth flavor)."""
    service = session.auth
    if service is None:
        return None
    token = getattr(context, 'auth_token', None)
    user = (token_endpoint.Token(CONF.artifacts.registry_url, token)
            if token else service)
    return service_token.ServiceTokenAuthWrapper(user_auth=user,
                                                 service_auth=service)


IDEMPOTENT = {'artifact_get', 'artifact_list', 'artifact_referrers',
              'artifact_reaches',
              'member_list', 'blob_upload_list', 'blob_data_used',
              'pending_delete_list', 'pending_delete_remove',
              'project_usage'}


def _call(command, context, **kwargs):
    url = CONF.artifacts.registry_url.rstrip('/') + '/rpc'
    body = rpc.dumps({'context': rpc.context_to_wire(context),
                      'calls': [{'command': command, 'kwargs': kwargs}]})
    idempotent = command in IDEMPOTENT
    tries = 1 + (CONF.artifacts.registry_retries if idempotent else 0)
    headers = {'Content-Type': 'application/json'}
    if not idempotent:
        headers['Connection'] = 'close'
    session = _get_session(idempotent)
    auth = _auth(session, context)
    for attempt in range(tries):
        try:
            resp = session.post(
                url, data=body, timeout=CONF.artifacts.registry_timeout,
                headers=headers, raise_exc=False, auth=auth,
                authenticated=auth is not None)
            break
        except ks_exceptions.ConnectionError as e:
            if attempt + 1 == tries:
                raise errors.Unavailable(
                    'The artifacts registry at %s is unavailable (%s); try '
                    'again later.' % (CONF.artifacts.registry_url,
                                      type(e).__name__))
            time.sleep(0.2 * (attempt + 1))
        except ks_exceptions.ClientException as e:
            raise errors.Unavailable('Cannot authenticate to the artifacts '
                                     'registry: %s' % e)
    if resp.status_code in (401, 403):
        LOG.error('The artifacts registry refused a call of %s: %d %s',
                  command, resp.status_code, resp.text[:500])
    if resp.status_code != 200:
        raise errors.Unavailable('The artifacts registry answered %d.'
                                 % resp.status_code)
    (answer,) = rpc.loads(resp.content)
    if 'error' in answer:
        cls = rpc.ERRORS.get(answer['error']['class'], errors.DataError)
        raise cls(answer['error']['message'])
    return answer['result']


def artifact_create(context, values, limits=None):
    return _call('artifact_create', context, values=values, limits=limits)


def artifact_get(context, artifact_id, type_name=None):
    return _call('artifact_get', context, artifact_id=artifact_id,
                 type_name=type_name)


def artifact_list(context, type_name, filters=(), sorts=(), limit=25,
                  marker=None, latest=False, member_status='accepted',
                  marker_values=None):
    return _call('artifact_list', context, type_name=type_name,
                 filters=list(filters), sorts=list(sorts), limit=limit,
                 marker=marker, latest=latest, member_status=member_status,
                 marker_values=marker_values)


def artifact_update(context, artifact_id, type_name, values, expect=None):
    return _call('artifact_update', context, artifact_id=artifact_id,
                 type_name=type_name, values=values, expect=expect)


def artifact_delete(context, artifact_id, type_name, expect=None,
                    keep_for=None):
    return _call('artifact_delete', context, artifact_id=artifact_id,
                 type_name=type_name, expect=expect, keep_for=keep_for)


def artifact_tag_add(context, artifact_id, type_name, tag, expect=None):
    return _call('artifact_tag_add', context, artifact_id=artifact_id,
                 type_name=type_name, tag=tag, expect=expect)


def artifact_tag_delete(context, artifact_id, type_name, tag):
    return _call('artifact_tag_delete', context, artifact_id=artifact_id,
                 type_name=type_name, tag=tag)


def artifact_referrers(context, artifact_id, fields):
    return _call('artifact_referrers', context, artifact_id=artifact_id,
                 fields=[list(f) for f in fields])


def artifact_reaches(context, start, goal, fields):
    return _call('artifact_reaches', context, start=start, goal=goal,
                 fields=[list(f) for f in fields])


def member_create(context, artifact_id, type_name, member, expect=None):
    return _call('member_create', context, artifact_id=artifact_id,
                 type_name=type_name, member=member, expect=expect)


def member_list(context, artifact_id, type_name, member=None):
    return _call('member_list', context, artifact_id=artifact_id,
                 type_name=type_name, member=member)


def member_update(context, artifact_id, type_name, member, status):
    return _call('member_update', context, artifact_id=artifact_id,
                 type_name=type_name, member=member, status=status)


def member_delete(context, artifact_id, type_name, member):
    return _call('member_delete', context, artifact_id=artifact_id,
                 type_name=type_name, member=member)


def blob_upload_begin(context, artifact_id, type_name, field, key, upload,
                      expect=None, limits=None):
    return _call('blob_upload_begin', context, artifact_id=artifact_id,
                 type_name=type_name, field=field, key=key, upload=upload,
                 expect=expect, limits=limits)


def blob_upload_reserve(context, artifact_id, field, key, upload_id, need,
                        want, limits):
    return _call('blob_upload_reserve', context, artifact_id=artifact_id,
                 field=field, key=key, upload_id=upload_id, need=need,
                 want=want, limits=limits)


def blob_upload_heartbeat(context, artifact_id, field, key, upload_id):
    return _call('blob_upload_heartbeat', context, artifact_id=artifact_id,
                 field=field, key=key, upload_id=upload_id)


def blob_upload_finish(context, artifact_id, type_name, field, key,
                       upload_id, values, keep_for=None, changes=None,
                       copies=None, failed_stores=None):
    extra = {}
    # Only when there are some, so that a registry that predates them
    # still takes the uploads that fill no fields and are no imports.
    for name, value in (('changes', changes), ('copies', copies),
                        ('failed_stores', failed_stores)):
        if value is not None:
            extra[name] = value
    return _call('blob_upload_finish', context, artifact_id=artifact_id,
                 type_name=type_name, field=field, key=key,
                 upload_id=upload_id, values=values, keep_for=keep_for,
                 **extra)


def blob_upload_abort(context, artifact_id, field, key, upload_id,
                      failed_stores=None, restage=False):
    extra = {}
    if failed_stores is not None:
        extra['failed_stores'] = failed_stores
    if restage:
        extra['restage'] = True
    return _call('blob_upload_abort', context, artifact_id=artifact_id,
                 field=field, key=key, upload_id=upload_id, **extra)


def blob_stage_finish(context, artifact_id, type_name, field, key,
                      upload_id, values, limits=None):
    return _call('blob_stage_finish', context, artifact_id=artifact_id,
                 type_name=type_name, field=field, key=key,
                 upload_id=upload_id, values=values, limits=limits)


def blob_import_begin(context, artifact_id, type_name, field, key, imp,
                      limits=None):
    return _call('blob_import_begin', context, artifact_id=artifact_id,
                 type_name=type_name, field=field, key=key, imp=imp,
                 limits=limits)


def blob_copy_begin(context, artifact_id, type_name, field, key, copy,
                    limits=None):
    return _call('blob_copy_begin', context, artifact_id=artifact_id,
                 type_name=type_name, field=field, key=key, copy=copy,
                 limits=limits)


def blob_copy_step(context, artifact_id, type_name, field, key, upload_id,
                   values=None, stop=False):
    return _call('blob_copy_step', context, artifact_id=artifact_id,
                 type_name=type_name, field=field, key=key,
                 upload_id=upload_id, values=values, stop=stop)


def blob_copy_drop(context, artifact_id, type_name, field, key, backend,
                   keep_for=None):
    return _call('blob_copy_drop', context, artifact_id=artifact_id,
                 type_name=type_name, field=field, key=key, backend=backend,
                 keep_for=keep_for)


def blob_upload_list(context, artifact_id=None):
    return _call('blob_upload_list', context, artifact_id=artifact_id)


def blob_data_used(context, names):
    return _call('blob_data_used', context, names=list(names))


def pending_delete_list(context, limit=1000):
    return _call('pending_delete_list', context, limit=limit)


def pending_delete_remove(context, ids):
    return _call('pending_delete_remove', context, ids=ids)


def project_usage(context):
    return _call('project_usage', context)
