"""Channel connectors: one module per ad platform (each ends with its `PLATFORM` record,
collected by `registry.py`), a shared HTTP layer, the demo source."""
