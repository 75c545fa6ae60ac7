"""Dagster sensors: alert dispatch and pipeline-failure notices."""
