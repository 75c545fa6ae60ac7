"""A recording stand-in for the BigQuery REST API, served by pytest-httpserver.

No BigQuery emulator runs offline here (see test_bigquery_warehouse.py), so the real
`google-cloud-bigquery` client talks to this server instead: it keeps the tables it is asked
to create, answers jobs as done, and records every request so that the tests can check what
War Room sends (table definitions, load job configurations and rows, transaction scripts and
their parameters). It does not execute SQL: a query's rows are `result_rows`, or what the
test's `answer` function gives for the query job.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.support import multipart_parts
from warroom_pipelines.warehouse.bigquery import BigQueryWarehouse

_TABLE = re.compile(r"^/bigquery/v2/projects/([^/]+)/datasets/([^/]+)/tables(?:/([^/]+))?$")
_DATASET = re.compile(r"^/bigquery/v2/projects/([^/]+)/datasets/([^/]+)$")
_JOB = re.compile(r"^/bigquery/v2/projects/([^/]+)/jobs(?:/([^/]+))?$")
_RESULTS = re.compile(r"^/bigquery/v2/projects/([^/]+)/queries/([^/]+)$")
_UPLOAD = re.compile(r"^/upload/bigquery/v2/projects/([^/]+)/jobs$")

PROJECT, DATASET = "warroom-test", "warroom"

# A query job's answer: BigQuery schema fields and rows of REST cell values.
Answer = tuple[list[dict[str, str]], list[list[str | None]]]


def client_for(server: HTTPServer) -> bigquery.Client:
    """The real BigQuery client, pointed at the stand-in on `server`."""
    return bigquery.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": server.url_for("").rstrip("/")},
    )


def _json(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _not_found(what: str) -> Response:
    error = {"code": 404, "message": f"Not found: {what}", "status": "NOT_FOUND"}
    return _json({"error": error}, 404)


@dataclass
class BigQueryAPI:
    """State and records of the stand-in; `failing_query` makes query jobs end in error."""

    project: str
    dataset: str
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    loads: list[tuple[dict[str, Any], pd.DataFrame]] = field(default_factory=list)
    queries: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)  # every request body, as sent
    failing_query: str | None = None
    # What getQueryResults answers: BigQuery schema fields and rows of REST cell values.
    result_fields: list[dict[str, str]] = field(default_factory=list)
    result_rows: list[list[str | None]] = field(default_factory=list)
    # Or, per query job, what this gives for the job's query configuration.
    answer: Callable[[dict[str, Any]], Answer] | None = None
    # numDmlAffectedRows of DML jobs (MERGE, UPDATE, INSERT, DELETE)
    dml_affected_rows: int = 0
    _answers: dict[str, Answer] = field(default_factory=dict)

    def add_table(self, name: str) -> None:
        """A table that exists already (its definition does not matter to the reader)."""
        ref = {"projectId": self.project, "datasetId": self.dataset, "tableId": name}
        self.tables[f"{self.project}.{self.dataset}.{name}"] = {"tableReference": ref}

    def install(self, server: HTTPServer) -> None:
        server.expect_request(re.compile(r"^/.*")).respond_with_handler(self.handle)

    def handle(self, request: Request) -> Response:
        path, method = request.path, request.method
        self.requests.append(f"{method} {path}")
        self.bodies.append(request.get_data())
        if m := _UPLOAD.match(path):
            return self._load(request)
        if m := _DATASET.match(path):
            if m.group(2) != self.dataset:
                return _not_found(f"Dataset {m.group(1)}:{m.group(2)}")
            return _json(
                {
                    "datasetReference": {"projectId": m.group(1), "datasetId": m.group(2)},
                    "location": "EU",
                }
            )
        if m := _TABLE.match(path):
            return self._table(method, m.group(1), m.group(2), m.group(3), request)
        if m := _JOB.match(path):
            if method == "POST":
                return self._query(request)
            return _json(self.jobs[m.group(2)]) if m.group(2) in self.jobs else _not_found("Job")
        if m := _RESULTS.match(path):
            job = self.jobs[m.group(2)]
            fields, values = self._answers.get(m.group(2), (self.result_fields, self.result_rows))
            rows = [{"f": [{"v": v} for v in row]} for row in values]
            return _json(
                {
                    "kind": "bigquery#getQueryResultsResponse",
                    "jobReference": job["jobReference"],
                    "jobComplete": True,
                    "totalRows": str(len(rows)),
                    "schema": {"fields": fields},
                    "rows": rows,
                }
            )
        return _not_found(path)

    def _table(
        self, method: str, project: str, dataset: str, name: str | None, request: Request
    ) -> Response:
        if method == "POST":
            resource = json.loads(request.data)
            ref = resource["tableReference"]
            table_id = f"{ref['projectId']}.{ref['datasetId']}.{ref['tableId']}"
            if table_id in self.tables:
                return _json(
                    {
                        "error": {
                            "code": 409,
                            "message": "Already Exists",
                            "status": "ALREADY_EXISTS",
                        }
                    },
                    409,
                )
            self.tables[table_id] = resource
            return _json(resource)
        table_id = f"{project}.{dataset}.{name}"
        if table_id not in self.tables:
            return _not_found(f"Table {table_id}")
        if method == "DELETE":
            self.deleted.append(table_id)
            del self.tables[table_id]
            return Response(status=204)
        if method == "PATCH":
            self.tables[table_id].update(json.loads(request.data))
        return _json(self.tables[table_id])

    def _done(self, resource: dict[str, Any], error: str | None = None) -> dict[str, Any]:
        ref = resource.setdefault("jobReference", {})
        ref.setdefault("projectId", self.project)
        ref.setdefault("location", "EU")
        resource["status"] = {"state": "DONE"}
        if error:
            resource["status"]["errorResult"] = {"reason": "invalidQuery", "message": error}
        self.jobs[ref["jobId"]] = resource
        return resource

    def _load(self, request: Request) -> Response:
        (_, meta), (_, data) = multipart_parts(request.headers["Content-Type"], request.get_data())
        metadata = json.loads(meta)
        rows = pq.read_table(io.BytesIO(data)).to_pandas()
        self.loads.append((metadata["configuration"]["load"], rows))
        return _json(self._done(metadata))

    def _query(self, request: Request) -> Response:
        resource = json.loads(request.data)
        self.queries.append(resource["configuration"]["query"])
        sql = resource["configuration"]["query"]["query"]
        error = self.failing_query if self.failing_query and self.failing_query in sql else None
        answer: Answer | None = None
        if self.answer is not None and error is None:
            try:
                answer = self.answer(resource["configuration"]["query"])
            except Exception as exc:  # the job fails, as a bad query would (no client retries)
                error = f"{type(exc).__name__}: {exc}"
        done = self._done(resource, error)
        if answer is not None:
            self._answers[done["jobReference"]["jobId"]] = answer
        if sql.lstrip().split(None, 1)[0].upper() in ("MERGE", "UPDATE", "INSERT", "DELETE"):
            statistics = done.setdefault("statistics", {}).setdefault("query", {})
            statistics["numDmlAffectedRows"] = str(self.dml_affected_rows)
        return _json(done)


@pytest.fixture
def api(httpserver: HTTPServer) -> BigQueryAPI:
    """The recording stand-in of BigQuery's REST API, installed on the test's HTTP server."""
    stand_in = BigQueryAPI(project=PROJECT, dataset=DATASET)
    stand_in.install(httpserver)
    return stand_in


@pytest.fixture
def bigquery_warehouse(httpserver: HTTPServer) -> BigQueryWarehouse:
    """The production warehouse, its real client pointed at the stand-in."""
    return BigQueryWarehouse(project=PROJECT, dataset=DATASET, client=client_for(httpserver))
