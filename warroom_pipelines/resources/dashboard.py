"""Where the Command Center's pages are written."""

from pathlib import Path

import dagster as dg


class CommandCenterResource(dg.ConfigurableResource):
    """A folder for the pages: `$DAGSTER_HOME/command_center` in the local profile, or any
    folder a web server or a synced bucket serves (WARROOM_COMMAND_CENTER_DIR)."""

    folder: str

    def path(self) -> Path:
        return Path(self.folder)
