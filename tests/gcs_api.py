"""A small Google Cloud Storage JSON API server for tests, served by pytest-httpserver.

It speaks the endpoints the real `google-cloud-storage` client uses for War Room's pages:
multipart upload (`POST /upload/storage/v1/b/<bucket>/o?uploadType=multipart`), download
(`GET /download/storage/v1/b/<bucket>/o/<name>?alt=media`), object metadata and listing. It
keeps objects in memory, so tests read back what the client stored; `fail_uploads` makes the
next uploads answer 503, as GCS does when it is briefly unavailable.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.support import multipart_parts

_UPLOAD = re.compile(r"^/upload/storage/v1/b/([^/]+)/o$")
_DOWNLOAD = re.compile(r"^/download/storage/v1/b/([^/]+)/o/(.+)$")
_OBJECT = re.compile(r"^/storage/v1/b/([^/]+)/o/(.+)$")
_LIST = re.compile(r"^/storage/v1/b/([^/]+)/o$")


@dataclass
class StoredObject:
    name: str
    data: bytes
    content_type: str
    cache_control: str | None
    generation: int

    def resource(self, bucket: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": "storage#object",
            "bucket": bucket,
            "name": self.name,
            "id": f"{bucket}/{self.name}/{self.generation}",
            "generation": str(self.generation),
            "metageneration": "1",
            "size": str(len(self.data)),
            "contentType": self.content_type,
        }
        if self.cache_control:
            out["cacheControl"] = self.cache_control
        return out


def _error(code: int, message: str) -> Response:
    body = {"error": {"code": code, "message": message, "errors": [{"message": message}]}}
    return Response(json.dumps(body), status=code, content_type="application/json")


@dataclass
class GCSAPI:
    bucket: str
    objects: dict[str, StoredObject] = field(default_factory=dict)
    uploads: list[str] = field(default_factory=list)  # upload types of every upload request
    fail_uploads: int = 0

    def install(self, server: HTTPServer) -> None:
        """Answer Cloud Storage's paths only, so that one server can carry another API too."""
        paths = re.compile(r"^/(upload/|download/)?storage/v1/.*")
        server.expect_request(paths).respond_with_handler(self.handle)

    def handle(self, request: Request) -> Response:
        path = request.path
        for pattern, handler in (
            (_UPLOAD, self._upload),
            (_DOWNLOAD, self._download),
            (_OBJECT, self._metadata),
            (_LIST, self._list),
        ):
            if m := pattern.match(path):
                if m.group(1) != self.bucket:
                    return _error(404, f"The specified bucket does not exist: {m.group(1)}")
                return handler(request, *m.groups()[1:])
        return _error(404, f"no such endpoint: {request.method} {path}")

    def _upload(self, request: Request) -> Response:
        self.uploads.append(request.args.get("uploadType", ""))
        if request.args.get("uploadType") != "multipart":
            return _error(400, "this test server takes single-request (multipart) uploads")
        if self.fail_uploads:
            self.fail_uploads -= 1
            return _error(503, "Service Unavailable")
        (_, meta), (data_type, data) = multipart_parts(
            request.headers["Content-Type"], request.get_data()
        )
        metadata = json.loads(meta)
        name = metadata["name"]
        previous = self.objects.get(name)
        stored = StoredObject(
            name=name,
            data=data,
            content_type=metadata.get("contentType") or data_type,
            cache_control=metadata.get("cacheControl"),
            generation=previous.generation + 1 if previous else 1,
        )
        self.objects[name] = stored
        return Response(json.dumps(stored.resource(self.bucket)), content_type="application/json")

    def _download(self, request: Request, name: str) -> Response:
        if name not in self.objects:
            return _error(404, f"No such object: {self.bucket}/{name}")
        stored = self.objects[name]
        return Response(
            stored.data,
            content_type=stored.content_type,
            headers={"x-goog-generation": str(stored.generation)},
        )

    def _metadata(self, request: Request, name: str) -> Response:
        if name not in self.objects:
            return _error(404, f"No such object: {self.bucket}/{name}")
        body = self.objects[name].resource(self.bucket)
        return Response(json.dumps(body), content_type="application/json")

    def _list(self, request: Request) -> Response:
        items = [o.resource(self.bucket) for _, o in sorted(self.objects.items())]
        limit = int(request.args.get("maxResults", len(items) or 1))
        body = {"kind": "storage#objects", "items": items[:limit]}
        return Response(json.dumps(body), content_type="application/json")
