"""Dagster resources: thin wrappers that hand the domain packages their configuration."""
