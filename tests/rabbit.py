"""The notifications a glance-api sends, read from the RabbitMQ of the
test machine (tests/services: 127.0.0.1:5672, guest/guest).

A Notifications fixture makes a vhost of its own (with rabbitmqctl, when
the tests may run it; otherwise it uses the default vhost), a topic of its
own (ga-test-<uuid>), and the queue for that topic's INFO notifications
on the exchange oslo.messaging's rabbit driver sends them to: glance-api's
control_exchange, "glance". Each message is read with kombu and its
oslo.messaging envelope unpacked. close() deletes the queue and the
vhost.
"""

import json
import shutil
import socket
import subprocess
import time
import uuid

import kombu

HOST = '127.0.0.1'
PORT = 5672
USER = PASSWORD = 'guest'
EXCHANGE = 'glance'


class Unavailable(Exception):
    pass


def _rabbitmqctl(*args):
    """True when rabbitmqctl ran ``args``; False when there is no
    rabbitmqctl or it may not speak to the server."""
    command = shutil.which('rabbitmqctl')
    if command is None:
        return False
    done = subprocess.run([command, '-q'] + list(args), capture_output=True,
                          timeout=60)
    return done.returncode == 0


class Notifications(object):
    """Raises Unavailable when RabbitMQ cannot be reached."""

    def __init__(self):
        try:
            socket.create_connection((HOST, PORT), timeout=5).close()
        except OSError as e:
            raise Unavailable('RabbitMQ at %s:%d cannot be reached (%s); '
                              'start it with "rabbitmq-server -detached".'
                              % (HOST, PORT, e))
        name = 'ga-test-%s' % uuid.uuid4().hex
        self.vhost = '/'
        if _rabbitmqctl('add_vhost', name):
            self.vhost = name
            _rabbitmqctl('set_permissions', '-p', name, USER,
                         '.*', '.*', '.*')
        self.topic = name
        self.connection = kombu.Connection(self.url(scheme='amqp'),
                                           connect_timeout=5)
        # As oslo.messaging declares them with its default options.
        exchange = kombu.Exchange(EXCHANGE, type='topic', durable=False,
                                  auto_delete=False)
        self.queue = kombu.Queue('%s.info' % self.topic, exchange,
                                 routing_key='%s.info' % self.topic,
                                 durable=False, auto_delete=False)
        try:
            self.queue = self.queue.bind(self.connection.default_channel)
            self.queue.declare()
        except BaseException:
            self._release()
            raise

    def url(self, port=PORT, scheme='rabbit'):
        vhost = '' if self.vhost == '/' else self.vhost
        return '%s://%s:%s@%s:%d/%s' % (scheme, USER, PASSWORD, HOST, port,
                                        vhost)

    def options(self, port=PORT):
        """glance-api.conf text that sends notifications to this topic
        (through a broker on ``port``)."""
        return ('\n[oslo_messaging_notifications]\n'
                'driver = messagingv2\n'
                'topics = %s\n'
                'transport_url = %s\n' % (self.topic, self.url(port)))

    def _get(self):
        message = self.queue.get(no_ack=True)
        if message is None:
            return None
        envelope = message.payload
        if isinstance(envelope, (bytes, str)):
            envelope = json.loads(envelope)
        body = json.loads(envelope['oslo.message'])
        body['context'] = {k[len('_context_'):]: body.pop(k)
                           for k in list(body) if k.startswith('_context_')}
        return body

    def wait(self, count, timeout=10):
        """The next ``count`` messages; AssertionError naming what came
        when fewer come within ``timeout`` seconds."""
        messages = []
        deadline = time.monotonic() + timeout
        while len(messages) < count:
            message = self._get()
            if message is not None:
                messages.append(message)
            elif time.monotonic() > deadline:
                raise AssertionError(
                    '%d of %d notifications came in %ss: %s'
                    % (len(messages), count, timeout,
                       [m['event_type'] for m in messages]))
            else:
                time.sleep(0.02)
        return messages

    def drain(self, quiet=0.5):
        """Every message that comes until none has come for ``quiet``
        seconds."""
        messages = []
        last = time.monotonic()
        while time.monotonic() - last < quiet:
            message = self._get()
            if message is None:
                time.sleep(0.02)
            else:
                messages.append(message)
                last = time.monotonic()
        return messages

    def close(self):
        try:
            self.queue.delete()
        finally:
            self._release()

    def _release(self):
        self.connection.release()
        if self.vhost != '/':
            _rabbitmqctl('delete_vhost', self.vhost)
