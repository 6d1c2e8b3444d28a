"""Notifications of artifact events, sent through oslo.messaging as
Glance sends its image.* events.

Events (all with priority INFO): artifact.create, artifact.update,
artifact.delete, artifact.activate, artifact.deactivate,
artifact.reactivate, artifact.upload (blob data stored), artifact.send
(a download served to its end), artifact.member.create,
artifact.member.update and artifact.member.delete. Each is sent once its
change is committed, never for a request that failed.

The payload is ``{"artifact": <the API view>, "user_id", "project_id",
"request_id"}`` of the request; artifact.upload adds ``"blob"`` (what was
stored), artifact.send adds ``"blob"``, ``"bytes_sent"``, ``"range"``
([start, end) or null for the whole data) and ``"destination_ip"``, the
member events add ``"member"`` (the member's API view); artifact.delete
and artifact.member.delete show what was deleted as it was. API views
never show store locations; ``blob_info`` picks the fields of a blob row
that may go out. The request context goes as oslo.messaging's context,
redacted by oslo.messaging (no token).

Glance's options apply: ``[oslo_messaging_notifications]`` driver,
topics and transport_url (no driver, or only ``noop``, sends nothing),
and ``[DEFAULT] disabled_notifications``, where an entry disables the
event of that name and every event below it at a dot: ``artifact``
disables all of these, ``artifact.member`` the three member events,
``artifact.upload`` that one. The publisher id is ``artifacts.<host>``,
with the host that Glance's ``default_publisher_id`` names after its
first dot (``image.localhost`` by default, so ``artifacts.localhost``).

A message broker that is down or does not answer never fails a request
and delays it by at most WAIT seconds: one thread per process sends the
messages from a bounded queue, without retries. A request waits for its
message to be sent for at most WAIT seconds (so that normally the message
is on the broker before the response goes out); once a request gave up
waiting, the next ones do not wait until the thread is done with the
message it was stuck on. A message that finds the queue full is dropped.
oslo.messaging logs each message it could not send ("Could not send
notification to ..."); this module logs the ones it dropped or did not
wait for.
"""

import os
import queue
import threading

from oslo_config import cfg
from oslo_context import context as oslo_context
from oslo_log import log as logging
import oslo_messaging

from glance import notifier as glance_notifier

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

WAIT = 1.0          # seconds a request waits for its message to be sent
QUEUE_SIZE = 1000   # messages waiting for the broker, at most
PUBLISHER = 'artifacts'
BLOB_FIELDS = ('size', 'checksum', 'os_hash_algo', 'os_hash_value',
               'content_type')


def enabled(event_type):
    """Whether ``[DEFAULT] disabled_notifications`` lets ``event_type``
    through: an entry disables that event and the events below it."""
    return not any(event_type == d or event_type.startswith(d + '.')
                   for d in CONF.disabled_notifications)


def blob_info(row):
    """What a notification tells of a blob data API row (never where its
    data is stored)."""
    info = {'field': row['field'], 'key': row['key'] or None}
    info.update((name, row[name]) for name in BLOB_FIELDS)
    return info


def notify(context, event_type, artifact, **extra):
    """Send ``event_type`` about ``artifact`` (its API view) with the
    request ``context``; ``extra`` are more payload items."""
    if not enabled(event_type):
        return
    sender = _sender()
    if sender is None:
        return
    payload = {'artifact': artifact, 'user_id': context.user_id,
               'project_id': context.project_id,
               'request_id': context.request_id}
    payload.update(extra)
    # A plain oslo.context context: oslo.messaging sends a redacted copy
    # of it, which for Glance's own context would build a policy
    # enforcer each time.
    ctxt = oslo_context.RequestContext.from_dict(context.to_dict())
    sender.send(ctxt, event_type, payload)


_lock = threading.Lock()
_current = None     # (process id, _Sender or None when nothing is sent)


def _sender():
    """This process's sender (made at the first event, and again in a
    forked child), or None when no notification driver is configured."""
    global _current
    pid = os.getpid()
    with _lock:
        if _current is None or _current[0] != pid:
            _current = (pid, _make_sender())
        return _current[1]


def _publisher_id():
    glance_id = CONF.default_publisher_id
    return '%s.%s' % (PUBLISHER, glance_id.split('.', 1)[-1])


def _make_sender():
    # The exchange glance-api sends to (its control_exchange, "glance").
    glance_notifier.set_defaults()
    transport = glance_notifier.get_transport()
    drivers = [d for d in CONF.oslo_messaging_notifications.driver
               if d != 'noop']
    if not drivers:
        return None
    return _Sender(oslo_messaging.Notifier(
        transport, publisher_id=_publisher_id(), retry=0))


class _Sender(object):
    """A thread that sends messages from a bounded queue."""

    def __init__(self, notifier):
        self._notifier = notifier
        self._queue = queue.Queue(QUEUE_SIZE)
        # Set when a request gave up waiting, until a send ends.
        self._stuck = False
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name='artifact-notifications')
        self._thread.start()

    def send(self, ctxt, event_type, payload):
        sent = threading.Event()
        try:
            self._queue.put_nowait((ctxt, event_type, payload, sent))
        except queue.Full:
            LOG.error('Notification %s of artifact %s was dropped: %d '
                      'notifications wait for the message broker already.',
                      event_type, payload['artifact']['id'], QUEUE_SIZE)
            return
        if self._stuck:
            LOG.warning('Notification %s of artifact %s waits in a queue: '
                        'the message broker has not taken an earlier one '
                        'yet.', event_type, payload['artifact']['id'])
        elif not sent.wait(WAIT):
            self._stuck = True
            LOG.warning('Notification %s of artifact %s was not sent '
                        'within %.1f seconds; it waits in a queue while the '
                        'request goes on.', event_type,
                        payload['artifact']['id'], WAIT)

    def _run(self):
        while True:
            ctxt, event_type, payload, sent = self._queue.get()
            try:
                # oslo.messaging logs what it could not send.
                self._notifier.info(ctxt, event_type, payload)
            except Exception:
                LOG.exception('Notification %s of artifact %s was not sent',
                              event_type, payload['artifact']['id'])
            finally:
                self._stuck = False
                sent.set()
