"""The transport limit: a WSGI app that only writes the request body to
disk, 1 MiB at a time, and deletes it. Run under the same server as
glance-api by benchmarks/run.py."""

import os
import tempfile

CHUNK = 1024 * 1024
DIR = os.environ.get('SINK_DIR', tempfile.gettempdir())


def application(environ, start_response):
    body = environ['wsgi.input']
    fd, path = tempfile.mkstemp(dir=DIR)
    try:
        with os.fdopen(fd, 'wb') as f:
            while True:
                data = body.read(CHUNK)
                if not data:
                    break
                f.write(data)
    finally:
        os.unlink(path)
    start_response('204 No Content', [])
    return [b'']
