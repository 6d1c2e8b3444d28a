#!/usr/bin/env python3
"""Write doc/api/openapi.json: the OpenAPI document of /v2/artifacts for
the default types, as GET /v2/artifacts/openapi.json serves it.

    .venv/bin/python tools/openapi.py          # rewrite the file
    .venv/bin/python tools/openapi.py --check  # fail if it is stale

The document is made from the route table and the type declarations
(glance/api/v2/artifacts/openapi.py); never edit the file by hand.
"""

import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATH = os.path.join(ROOT, 'doc', 'api', 'openapi.json')


def render():
    """The document for the default of [artifacts] enabled_types."""
    from glance.api.v2.artifacts import openapi
    from glance.api.v2.artifacts import router
    from glance.artifacts import config
    from glance.artifacts import loader
    document = openapi.document(router.ROUTES,
                                loader.load_types(config.DEFAULT_TYPES))
    return json.dumps(document, indent=1, sort_keys=True) + '\n'


def main():
    text = render()
    if sys.argv[1:] == ['--check']:
        with open(PATH) as f:
            if f.read() != text:
                sys.exit('%s is stale: run tools/openapi.py' % PATH)
        return
    with open(PATH, 'w') as f:
        f.write(text)
    print('wrote %s' % PATH)


if __name__ == '__main__':
    main()
