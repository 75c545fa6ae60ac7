"""The alert tests' world (real receivers, vault, warehouse, Dagster instance), shared here."""

from tests.alerts.conftest import local_home as local_home
from tests.alerts.conftest import world as world
