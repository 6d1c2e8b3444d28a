"""The artifacts registry: the data API over HTTP, for deployments where
only a registry service holds the artifacts database credentials.

server.py is the service (POST /rpc), client.py the data API
implementation glance-api uses with ``[artifacts] data_api = registry``,
wsgi.py the WSGI entry point, and rpc.py the wire format they share.
"""
