"""Artifact types: the declaration base and the built-in types."""
