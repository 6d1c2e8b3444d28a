"""/v2/artifacts: the HTTP API of glance-artifacts."""
