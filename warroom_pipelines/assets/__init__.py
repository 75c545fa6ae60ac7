"""Dagster assets: thin glue that calls the domain packages for one brand-day."""
