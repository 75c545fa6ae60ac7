"""Alerts: incidents from anomalies, rendered per destination, delivered once via a durable log."""
