"""Where the Command Center's pages are written."""

from pathlib import Path

import dagster as dg
from dagster_gcp import GCSResource
from google.cloud import storage

from warroom_pipelines.dashboard.bucket import BucketPages
from warroom_pipelines.dashboard.publish import FolderPages, PageSink


def storage_client(project: str | None, api_endpoint: str | None) -> storage.Client | None:
    """On Google Cloud, dagster-gcp's GCSResource makes the client (the runtime's service
    account, no key file). An emulator or test server (`api_endpoint`) needs client options
    and no credentials, which that resource does not take: `BucketPages` makes that one."""
    return None if api_endpoint else GCSResource(project=project).get_client()


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
                self.bucket,
                project=self.gcp_project,
                client=storage_client(self.gcp_project, self.storage_api_endpoint),
                api_endpoint=self.storage_api_endpoint,
            )
        if not self.folder:
            raise ValueError("the Command Center needs a folder or a bucket for its pages")
        return FolderPages(Path(self.folder))
