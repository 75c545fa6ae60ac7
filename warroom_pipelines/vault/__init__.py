"""The key vault: each brand's own credentials, encrypted at rest (AES-256-GCM envelopes).

Plain Python: no Dagster here; `warroom_pipelines.resources.vault` is the Dagster glue.
"""
