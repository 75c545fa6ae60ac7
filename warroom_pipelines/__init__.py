"""War Room: paid-media performance monitoring for many brands, on Dagster."""
