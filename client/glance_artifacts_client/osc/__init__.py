"""The OpenStackClient plugin: ``openstack artifact ...``."""
