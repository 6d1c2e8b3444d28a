"""Keystone's WSGI application for the tests' Keystone (tests/keystone.py)
under gunicorn, with the configuration file named by
OS_KEYSTONE_CONFIG_FILES.

Keystone parses sys.argv with oslo.config when it builds the application;
under gunicorn, sys.argv holds gunicorn's own arguments, which Keystone
refuses ("unrecognized arguments"), so they are dropped first.
"""

import sys

sys.argv = sys.argv[:1]

from keystone.server import wsgi  # noqa: E402

application = wsgi.initialize_public_application()
