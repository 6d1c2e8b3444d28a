"""Quotas of artifacts through Keystone unified limits, as Glance 33 does
for images (glance/quota/keystone.py), with ``[artifacts]
use_keystone_limits`` and Glance's ``[oslo_limit]`` options.

Resources (registered limits of the image service in Keystone, which a
project limit may override):

- ``artifact_count_total``: artifacts a project owns;
- ``artifact_size_total``: MiB of blob data of a project's artifacts,
  counted exactly (in bytes, not floored to MiB), uploads in progress
  included for what they reserve;
- ``artifact_count_uploading``: uploads in progress to a project's
  artifacts (stages, staged data and imports included);
- ``artifact_stage_total``: MiB of data staged for an import (as Glance's
  ``image_stage_total``), counted exactly, while it waits and while it is
  imported.

A resource without a limit in Keystone counts as a limit of 0, as
oslo.limit has it. oslo.limit reads the limits and reserves nothing: the
data API checks a write against them and makes it in one transaction
under the project's quota lock (see glance.db.artifacts.interface), so
that concurrent writers, on one host or several, cannot together pass a
limit. An upload reserves its declared size when it starts; one of
unknown size reserves what it has streamed and RESERVE_STEP more, step
by step, while it streams. Quotas are charged to the artifact's owner.

Reading the limits is retried (ATTEMPTS in all, RETRY_DELAY apart, then
twice that) when Keystone cannot be reached or fails to answer, as
keystonemiddleware retries a token's validation: a connection that
Keystone's server closes as it is reused, or a worker of it restarting,
should not refuse a user's write. Only then is the write 503.
"""

import time

from keystoneauth1 import exceptions as ks_exceptions
from openstack import exceptions as sdk_exceptions
from oslo_config import cfg
from oslo_limit import exception as limit_exceptions
from oslo_limit import limit
from oslo_log import log as logging

from glance.artifacts import exception
from glance.db import artifacts as artifacts_db
from glance.db.artifacts import interface
# Glance registers the [oslo_limit] options there, for images.
from glance.quota import keystone as _glance_quota  # noqa: F401

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

COUNT_TOTAL, SIZE_TOTAL, COUNT_UPLOADING, STAGE_TOTAL = \
    interface.QUOTA_RESOURCES
# Resources counted in MiB in Keystone, in bytes by the data API.
SIZES = (SIZE_TOTAL, STAGE_TOTAL)
MiB = 1024 * 1024
RESERVE_STEP = 8 * MiB
#: Tries at reading a project's limits, and the wait after the first.
ATTEMPTS = 3
RETRY_DELAY = 0.2
_FAILURES = (limit_exceptions.SessionInitError, ks_exceptions.ClientException,
             sdk_exceptions.SDKException)


def _no_usage(project_id, resource_names):
    # oslo.limit wants a usage callback; the data API counts usage itself,
    # in the transaction that checks it.
    raise AssertionError('usage is counted by the data API')


def limits(project, resources=interface.QUOTA_RESOURCES):
    """{resource: limit} of ``project`` for the data API (bytes for
    artifact_size_total), or None when quotas are off or there is no
    project to charge. 503 when Keystone cannot be asked."""
    if not CONF.artifacts.use_keystone_limits or not project:
        return None
    for attempt in range(1, ATTEMPTS + 1):
        try:
            found = limit.Enforcer(_no_usage).get_project_limits(
                project, list(resources))
            break
        except _FAILURES as e:
            if attempt == ATTEMPTS:
                LOG.error('Could not read the limits of project %s from '
                          'Keystone (%d tries): %s: %s', project, attempt,
                          type(e).__name__, e)
                raise exception.Unavailable(
                    'The quota limits cannot be read from Keystone now; '
                    'try again later.')
            LOG.warning('Reading the limits of project %s from Keystone '
                        'failed (try %d of %d; trying again): %s: %s',
                        project, attempt, ATTEMPTS, type(e).__name__, e)
            time.sleep(RETRY_DELAY * 2 ** (attempt - 1))
    return {name: value * MiB if name in SIZES else value
            for name, value in found}


def usage(context):
    """The caller's project's usage and limits per resource, as Glance's
    GET /v2/info/usage shows them: {resource: {'usage', 'limit'}}, sizes
    in MiB (the usage exactly, so possibly fractional; and in bytes as
    'usage_bytes'); limits are None when quotas are off."""
    used = artifacts_db.get_api().project_usage(context)
    found = limits(context.owner) or {}
    shown = {}
    for name in interface.QUOTA_RESOURCES:
        limit_value = found.get(name)
        if name in SIZES:
            shown[name] = {
                'usage': _exact_mib(used[name]),
                'usage_bytes': used[name],
                'limit': None if limit_value is None else limit_value // MiB}
        else:
            shown[name] = {'usage': used[name], 'limit': limit_value}
    return shown


def _exact_mib(size):
    # A power of two divides exactly in binary floating point.
    return size // MiB if size % MiB == 0 else size / MiB
