"""Persistence of artifacts: models, migrations and the data API.

``get_api()`` returns the data API module chosen by
``[artifacts] data_api``; the rest of glance-artifacts calls only the
functions listed in ``glance.db.artifacts.interface.FUNCTIONS``.
"""

import importlib

from oslo_config import cfg

CONF = cfg.CONF

_IMPLEMENTATIONS = {
    'sqlalchemy': 'glance.db.artifacts.sqlalchemy_api',
    'registry': 'glance.db.artifacts.registry.client',
}


def get_api():
    return importlib.import_module(
        _IMPLEMENTATIONS[CONF.artifacts.data_api])
