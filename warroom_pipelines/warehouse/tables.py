"""War Room's own tables, named once: the assets write them, the alerts, the dashboard's views
and the commands read them."""

from warroom_pipelines.warehouse.base import TableRef

UNIFIED = TableRef("main", "unified_performance")
ANOMALIES = TableRef("main", "performance_anomalies")
DELIVERIES = TableRef("main", "alert_deliveries")
BUDGETS = TableRef("main", "campaign_budgets")
