"""Loading the enabled artifact types from their entry points."""

from oslo_config import cfg
from oslo_log import log as logging
import stevedore

from glance.artifacts import config  # noqa: F401  (registers options)
from glance.artifacts import fields
from glance.artifacts.types import base

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
NAMESPACE = 'glance.artifacts.types'


class TypeLoadError(RuntimeError):
    """An enabled type cannot be served; the message names it."""


def _reraise(manager, entry_point, error):
    raise error


def load_types(names=None):
    """Return {name: type class} for the enabled types.

    Raises TypeLoadError naming the first type that is not installed,
    fails to import, or is declared wrongly.
    """
    if names is None:
        names = CONF.artifacts.enabled_types
    types = {}
    for name in names:
        try:
            manager = stevedore.DriverManager(
                NAMESPACE, name, invoke_on_load=False,
                on_load_failure_callback=_reraise)
        except stevedore.exception.NoMatches:
            raise TypeLoadError(
                'artifact type %r from [artifacts] enabled_types is not '
                'installed: no entry point %r in the %r group'
                % (name, name, NAMESPACE))
        except Exception as e:
            raise TypeLoadError('artifact type %r failed to load: %s: %s'
                                % (name, type(e).__name__, e))
        type_cls = manager.driver
        if not (isinstance(type_cls, type) and
                issubclass(type_cls, base.ArtifactType)):
            raise TypeLoadError(
                'artifact type %r: its entry point gives %r, not a '
                'subclass of glance.artifacts.types.base.ArtifactType'
                % (name, type_cls))
        try:
            type_cls.check_declaration(name)
        except fields.DeclarationError as e:
            raise TypeLoadError('artifact type %r is declared wrongly: %s'
                                % (name, e))
        types[name] = type_cls
        LOG.info('Serving artifact type %s', name)
    return types
