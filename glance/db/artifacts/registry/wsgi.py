"""WSGI entry point of the artifacts registry service.

    OS_GLANCE_CONFIG_DIR=/etc/glance gunicorn \
        glance.db.artifacts.registry.wsgi:application

reads glance-artifacts-registry.conf (with its [database]) and
glance-artifacts-registry-paste.ini from that directory; [paste_deploy]
flavor = keystone selects Keystone auth.
"""

import os

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import config as glance_config

CONF = cfg.CONF


def init_app():
    confdir = os.environ.get('OS_GLANCE_CONFIG_DIR', '/etc/glance').strip()
    logging.register_options(CONF)
    CONF([], project='glance', prog='glance-artifacts-registry',
         default_config_files=[os.path.join(
             confdir, 'glance-artifacts-registry.conf')])
    logging.setup(CONF, 'glance-artifacts-registry')
    return glance_config.load_paste_app('glance-artifacts-registry')


application = init_app()
