"""The version of python-glance-artifacts-client."""

__version__ = '0.1.0'
