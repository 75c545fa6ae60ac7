"""The alert delivery log (`alert_deliveries`), in one place: its contract (`store`), its SQL
written once for both warehouses (`sql`), and the two warehouses it runs on, side by side: the
DuckDB file beside the local lake (`local`) and BigQuery (`bigquery`)."""
