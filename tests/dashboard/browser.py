"""Headless Chromium driven over the DevTools protocol: what a page requests, what it logs.

Debian's `chromium` is started with networking features off and a private profile; the page
is opened in a fresh tab whose Network, Runtime and Log events are all recorded, so a request
that leaves the page or an error in its console cannot go unseen.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websocket

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
)
_STARTUP_S = 60.0
_STEP_S = 60.0


@dataclass
class PageReport:
    url: str
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    errors: list[str] = field(default_factory=list)  # console errors, exceptions, CSP reports
    values: dict[str, Any] = field(default_factory=dict)  # results of the probes

    @property
    def outside_requests(self) -> list[str]:
        return [u for u in self.requests if u != self.url]


class Chromium:
    """One browser process for the test session; `open` uses a new tab each time."""

    def __init__(self, profile: Path) -> None:
        if not Path(CHROMIUM).exists():
            raise RuntimeError(
                "Debian's chromium is required for the dashboard tests: "
                "apt-get install -y chromium (it is listed for .ci/run)"
            )
        self.profile = profile
        self.process = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + _STARTUP_S
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        self.ws = websocket.create_connection(
            f"ws://127.0.0.1:{port}{path}", timeout=_STEP_S, suppress_origin=True
        )
        self._ids = itertools.count(1)
        self._events: list[dict[str, Any]] = []

    def close(self) -> None:
        if getattr(self, "ws", None) is not None:
            self.ws.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def _send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        call_id = next(self._ids)
        message: dict[str, Any] = {"id": call_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == call_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))
            self._events.append(reply)

    def _wait_for(self, method: str, session: str) -> None:
        def seen() -> bool:
            return any(
                e.get("method") == method and e.get("sessionId") == session for e in self._events
            )

        while not seen():
            self._events.append(json.loads(self.ws.recv()))

    def open(
        self,
        page: Path,
        *,
        screenshot: Path,
        probes: dict[str, str],
        width: int = 1920,
        height: int = 1080,
    ) -> PageReport:
        """Load a file, run the JavaScript `probes` through DevTools (the page runs no script),
        write a full-page PNG, and report requests and errors."""
        url = page.resolve().as_uri()
        target = self._send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self._send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        self._events.clear()
        for domain in ("Network", "Runtime", "Log", "Page"):
            self._send(f"{domain}.enable", session=session)
        self._send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        self._send("Page.navigate", {"url": url}, session=session)
        self._wait_for("Page.loadEventFired", session)
        report = PageReport(url=url)
        for name, expression in probes.items():
            result = self._send(
                "Runtime.evaluate",
                {"expression": expression, "returnByValue": True},
                session=session,
            )
            report.values[name] = result["result"].get("value")
        size = self._send("Page.getLayoutMetrics", session=session)["cssContentSize"]
        self._send(
            "Emulation.setDeviceMetricsOverride",
            {
                "width": width,
                "height": int(size["height"]),
                "deviceScaleFactor": 1,
                "mobile": False,
            },
            session=session,
        )
        shot = self._send("Page.captureScreenshot", {"format": "png"}, session=session)
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        # Anything still in flight is recorded before the tab is closed.
        self._send("Runtime.evaluate", {"expression": "1"}, session=session)
        for event in self._events:
            if event.get("sessionId") != session:
                continue
            params = event.get("params", {})
            method = event.get("method")
            if method == "Network.requestWillBeSent":
                report.requests.append(params["request"]["url"])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                report.errors.append(json.dumps(params.get("args")))
            elif method == "Runtime.exceptionThrown":
                report.errors.append(json.dumps(params.get("exceptionDetails")))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                report.errors.append(params["entry"].get("text", ""))
        self._send("Target.closeTarget", {"targetId": target})
        return report
