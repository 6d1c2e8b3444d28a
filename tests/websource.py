"""A web server on 127.0.0.1 that serves the sources of web-download
imports to the tests, and records what it was asked for."""

import http.server
import threading


class Source(object):
    """An HTTP server on 127.0.0.1 with the sources of web-download:
    /data/NAME (what ``serve`` put there), /redirect/N?to=URL, /stall
    (a body that stops coming), /unbounded (more than any limit, with no
    Content-Length), and 404 for anything else. ``requests`` lists the
    paths asked for."""

    def __init__(self):
        self.files = {}
        self.requests = []
        self.release = threading.Event()
        source = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.0'

            def log_message(self, *args):
                pass

            def do_GET(self):
                source.requests.append(self.path)
                if self.path.startswith('/data/') and \
                        self.path[6:] in source.files:
                    body, media_type = source.files[self.path[6:]]
                    self.send_response(200)
                    self.send_header('Content-Type', media_type)
                    self.send_header('Content-Length', str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                elif self.path.startswith('/redirect?to='):
                    self.send_response(302)
                    self.send_header('Location', self.path[13:])
                    self.end_headers()
                elif self.path == '/stall':
                    self.send_response(200)
                    self.send_header('Content-Length', '1000')
                    self.end_headers()
                    self.wfile.write(b'x' * 10)
                    self.wfile.flush()
                    source.release.wait(60)
                elif self.path == '/unbounded':
                    self.send_response(200)
                    self.end_headers()
                    try:
                        for _ in range(64):
                            self.wfile.write(b'u' * 65536)
                    except (BrokenPipeError, ConnectionResetError):
                        pass    # the import gave up at its limit
                else:
                    self.send_error(404)

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                      Handler)
        self.server.daemon_threads = True
        # A client that goes away (an import that gave up) is no error.
        self.server.handle_error = lambda request, address: None
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever,
                         daemon=True).start()

    def url(self, path, host='127.0.0.1'):
        return 'http://%s:%d%s' % (host, self.port, path)

    def serve(self, name, body, media_type='application/x-yaml'):
        self.files[name] = (body, media_type)
        return self.url('/data/' + name)

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
