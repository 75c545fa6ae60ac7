"""Where the Command Center's pages are written."""

from pathlib import Path

import dagster as dg

from warroom_pipelines.dashboard.bucket import BucketPages
from warroom_pipelines.dashboard.publish import FolderPages, PageSink


class CommandCenterResource(dg.ConfigurableResource):
    """A GCS bucket (`bucket`, production) or a folder (`folder`, local): the pages go to
    `$DAGSTER_HOME/command_center` in the local profile, or any folder a web server serves
    (WARROOM_COMMAND_CENTER_DIR)."""

    folder: str | None = None
    bucket: str | None = None
    gcp_project: str | None = None
    storage_api_endpoint: str | None = None  # a test server; unset on Google Cloud

    def pages(self) -> PageSink:
        if self.bucket:
            return BucketPages(
                self.bucket, project=self.gcp_project, api_endpoint=self.storage_api_endpoint
            )
        if not self.folder:
            raise ValueError("the Command Center needs a folder or a bucket for its pages")
        return FolderPages(Path(self.folder))
