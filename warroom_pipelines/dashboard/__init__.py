"""The Command Center: each brand's funnel health at a glance, and the analyst's SQL views.

Plain Python over the warehouse; the Dagster asset in `assets/dashboard.py` only calls
`create_views` and `publish`.
"""

from warroom_pipelines.dashboard.publish import Published, publish
from warroom_pipelines.dashboard.views import VIEW_NAMES, create_views

__all__ = ["VIEW_NAMES", "Published", "create_views", "publish"]
