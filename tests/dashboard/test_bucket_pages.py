"""The Command Center's pages in a GCS bucket, through the real google-cloud-storage client
talking to a GCS JSON API server the test starts (tests/gcs_api.py)."""

from __future__ import annotations

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage
from google.cloud.storage.retry import DEFAULT_RETRY
from pytest_httpserver import HTTPServer

from tests.dashboard.conftest import NOW
from tests.dashboard.test_brand_pages import leaks_of
from tests.gcs_api import GCSAPI
from warroom_pipelines.dashboard import publish
from warroom_pipelines.dashboard.bucket import BucketError, BucketPages
from warroom_pipelines.resources.dashboard import CommandCenterResource
from warroom_pipelines.warehouse import DuckDBWarehouse

BUCKET = "warroom-pages-test"


@pytest.fixture
def gcs(httpserver: HTTPServer) -> GCSAPI:
    server = GCSAPI(BUCKET)
    server.install(httpserver)
    return server


@pytest.fixture
def client(httpserver: HTTPServer) -> storage.Client:
    return storage.Client(
        project="warroom-test",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": httpserver.url_for("").rstrip("/")},
    )


def test_every_page_is_one_html_object_and_a_brand_object_holds_only_that_brand(
    gcs: GCSAPI, client: storage.Client, two_brand_warehouse: DuckDBWarehouse
) -> None:
    published = publish(two_brand_warehouse, BucketPages(BUCKET, client=client), now=NOW)

    assert published.location == f"gs://{BUCKET}"
    assert published.overview == f"gs://{BUCKET}/index.html"
    assert published.brand_pages == {
        "acme": f"gs://{BUCKET}/brands/acme.html",
        "globex": f"gs://{BUCKET}/brands/globex.html",
    }
    assert sorted(gcs.objects) == ["brands/acme.html", "brands/globex.html", "index.html"]
    assert set(gcs.uploads) == {"multipart"}  # one request per page: whole or not at all
    for stored in gcs.objects.values():
        assert stored.content_type == "text/html; charset=utf-8"
        assert stored.cache_control == "private, max-age=60"

    # Read back through the client, as a viewer of the bucket would.
    bucket = client.bucket(BUCKET)
    acme = bucket.blob("brands/acme.html").download_as_text()
    globex = bucket.blob("brands/globex.html").download_as_text()
    index = bucket.blob("index.html").download_as_text()
    assert acme.startswith("<!DOCTYPE html>") and 'data-tile="spend"' in acme
    assert leaks_of(acme, two_brand_warehouse, "globex") == []
    assert leaks_of(globex, two_brand_warehouse, "acme") == []
    assert 'href="brands/acme.html"' in index and 'href="brands/globex.html"' in index


def test_a_transient_error_is_retried_and_a_lasting_one_leaves_the_old_page(
    gcs: GCSAPI, client: storage.Client
) -> None:
    pages = BucketPages(
        BUCKET, client=client, retry=DEFAULT_RETRY.with_delay(initial=0.01).with_timeout(2.0)
    )
    gcs.fail_uploads = 1
    assert pages.write("index.html", "<p>first</p>") == f"gs://{BUCKET}/index.html"
    assert gcs.uploads == ["multipart", "multipart"]
    assert gcs.objects["index.html"].data == b"<p>first</p>"

    gcs.fail_uploads = 1_000
    with pytest.raises(BucketError, match=f"index.html to gs://{BUCKET}"):
        pages.write("index.html", "<p>second</p>")
    assert client.bucket(BUCKET).blob("index.html").download_as_text() == "<p>first</p>"


def test_ping_lists_the_bucket_or_says_it_cannot(gcs: GCSAPI, client: storage.Client) -> None:
    BucketPages(BUCKET, client=client).ping()
    with pytest.raises(BucketError, match="gs://missing-bucket is not reachable"):
        BucketPages("missing-bucket", client=client).ping()


def test_without_an_emulator_the_pages_go_through_the_cloud_client(
    gcs: GCSAPI, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No emulator in the resource's config, as on Google Cloud: GCSResource makes the client.
    # The storage library's own STORAGE_EMULATOR_HOST points it at the stand-in instead of Google.
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", httpserver.url_for("").rstrip("/"))
    pages = CommandCenterResource(bucket=BUCKET, gcp_project="warroom-test").pages()
    assert pages.write("index.html", "<p>hello</p>") == f"gs://{BUCKET}/index.html"
    assert gcs.objects["index.html"].data == b"<p>hello</p>"
