"""The Command Center's pages in a Google Cloud Storage bucket (the production profile).

Each page is one object (`index.html`, `brands/<brand>.html`) sent in one request: pages are
far below the client's 8 MiB multipart limit, so `upload_from_string` makes a single multipart
upload, and GCS creates the object only once the whole body has arrived. A reader sees the old
page or the new one, never half of one. Re-sending a whole page is idempotent, so transient
errors are retried (the client retries uploads only when told they are safe).
"""

from __future__ import annotations

from google.api_core import exceptions as gexc
from google.api_core.retry import Retry
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage
from google.cloud.storage.retry import DEFAULT_RETRY

HTML = "text/html; charset=utf-8"
# Pages change every hour; a minute of caching spares the bucket without hiding a new incident.
CACHE_CONTROL = "private, max-age=60"


class BucketError(RuntimeError):
    """The bucket cannot be reached or written; names the bucket, never a credential."""


class BucketPages:
    """Pages as objects of one bucket, through `client` (on Google Cloud: dagster-gcp's, with the
    runtime's service account) or an emulator's `api_endpoint` (no credentials)."""

    def __init__(
        self,
        bucket: str,
        *,
        project: str | None = None,
        client: storage.Client | None = None,
        api_endpoint: str | None = None,
        retry: Retry = DEFAULT_RETRY,
    ) -> None:
        self.bucket = bucket
        self.retry = retry
        self.project = project
        self._client = client
        self._api_endpoint = api_endpoint

    @property
    def location(self) -> str:
        return f"gs://{self.bucket}"

    @property
    def client(self) -> storage.Client:
        if self._client is None:
            if not self._api_endpoint:
                raise BucketError(f"gs://{self.bucket} needs a storage client or an emulator")
            self._client = storage.Client(
                project=self.project,
                credentials=AnonymousCredentials(),
                client_options={"api_endpoint": self._api_endpoint},
            )
        return self._client

    def write(self, name: str, html: str) -> str:
        blob = self.client.bucket(self.bucket).blob(name)
        blob.cache_control = CACHE_CONTROL
        try:
            blob.upload_from_string(html.encode("utf-8"), content_type=HTML, retry=self.retry)
        except gexc.GoogleAPIError as exc:
            raise BucketError(
                f"could not write {name} to gs://{self.bucket}: {type(exc).__name__}"
            ) from exc
        return f"{self.location}/{name}"

    def ping(self) -> None:
        """List one object (what `warroom doctor` checks: the runtime's objectUser grant
        allows listing, not reading the bucket's own settings)."""
        try:
            list(self.client.list_blobs(self.bucket, max_results=1, timeout=15))
        except gexc.GoogleAPIError as exc:
            raise BucketError(
                f"bucket gs://{self.bucket} is not reachable: {type(exc).__name__}"
            ) from exc
