"""Dagster sensors: thin glue around the domain packages."""
