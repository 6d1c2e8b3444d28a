"""Sphinx configuration of the glance-artifacts documentation.

Build it with ``tox -e docs`` or
``.venv/bin/sphinx-build -W -b html doc/source doc/build/html``. The
configuration and policy references are generated from the code (the
project must be installed: the oslo extensions find its options and rules
through its entry points), the API reference from doc/api/openapi.json by
the local extension in _ext/.
"""

from importlib import metadata
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '_ext'))

project = 'glance-artifacts'
author = 'The glance-artifacts contributors'
copyright = '%s, Apache License 2.0' % author
try:
    release = metadata.version('glance-artifacts')
except metadata.PackageNotFoundError:
    release = ''
version = release

extensions = [
    'oslo_config.sphinxext',     # .. show-options::
    'oslo_policy.sphinxext',     # .. show-policy::
    'openapi_reference',         # .. openapi::
]

root_doc = 'index'
exclude_patterns = []
language = 'en'
pygments_style = 'sphinx'
highlight_language = 'none'

html_theme = 'alabaster'
html_title = 'glance-artifacts %s' % release
html_theme_options = {
    'description': 'An artifact repository inside OpenStack Glance',
    'fixed_sidebar': True,
    'page_width': '1100px',
    'sidebar_width': '240px',
}
html_sidebars = {'**': ['about.html', 'navigation.html', 'searchbox.html']}
smartquotes = False
