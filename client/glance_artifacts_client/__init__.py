"""A client of the Glance artifacts API (/v2/artifacts): a Python API
(``Client``) and an OpenStackClient plugin (``openstack artifact ...``).

It speaks only HTTP, through keystoneauth; nothing of Glance or of the
server is needed to use it.
"""

from glance_artifacts_client.client import Client  # noqa: F401
from glance_artifacts_client.version import __version__  # noqa: F401
