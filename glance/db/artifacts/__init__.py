"""Persistence of artifacts: models, migrations and the data API.

``get_api()`` returns the data API module chosen by
``[artifacts] data_api``; the rest of glance-artifacts calls only the
functions listed in ``glance.db.artifacts.interface.FUNCTIONS``. When the
``images`` type is enabled, that data API also reads Glance's images
(``glance.db.artifacts.images``).
"""

import importlib

from oslo_config import cfg

CONF = cfg.CONF

_IMPLEMENTATIONS = {
    'sqlalchemy': 'glance.db.artifacts.sqlalchemy_api',
    'registry': 'glance.db.artifacts.registry.client',
}
_with_images = {}


def get_api():
    api = importlib.import_module(
        _IMPLEMENTATIONS[CONF.artifacts.data_api])
    from glance.db.artifacts import images
    if images.TYPE_NAME not in CONF.artifacts.enabled_types:
        return api
    if api not in _with_images:
        _with_images[api] = images.WithImages(api)
    return _with_images[api]
