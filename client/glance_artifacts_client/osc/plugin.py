"""OpenStackClient plugin for Glance artifacts (``openstack artifact``).

OSC loads this module through the ``openstack.cli.extension`` entry
point; its commands are the ``openstack.artifact.v2`` entry points. The
client finds the API as ``openstack image`` finds Glance: the endpoint of
service type ``image`` in the catalog, for ``--os-region-name`` and
``--os-interface`` (clouds.yaml and OS_* variables alike), or the
endpoint of ``--os-auth-type none --os-endpoint URL``, or the cloud's
``image_endpoint_override``.
"""

import logging

from osc_lib import utils

LOG = logging.getLogger(__name__)

API_NAME = 'artifact'
API_VERSION_OPTION = 'os_artifact_api_version'
DEFAULT_API_VERSION = '2'
API_VERSIONS = ('2',)
SERVICE_TYPE = 'image'


def make_client(instance):
    """The artifacts Client of OSC's ClientManager ``instance``."""
    from glance_artifacts_client import client

    instance.setup_auth()
    endpoint = instance.get_endpoint_for_service_type(
        SERVICE_TYPE, region_name=instance.region_name,
        interface=instance.interface)
    LOG.debug('Artifacts client for the image endpoint %s', endpoint)
    return client.Client(session=instance.session, endpoint=endpoint,
                         interface=instance.interface,
                         region_name=instance.region_name)


def build_option_parser(parser):
    """The global option of the plugin's API version."""
    parser.add_argument(
        '--os-artifact-api-version',
        metavar='<artifact-api-version>',
        default=utils.env('OS_ARTIFACT_API_VERSION'),
        help='Artifacts API version, default=%s (Env: '
             'OS_ARTIFACT_API_VERSION)' % DEFAULT_API_VERSION)
    return parser
