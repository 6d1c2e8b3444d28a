"""glance-artifacts: the artifact domain (types, rules, services)."""
