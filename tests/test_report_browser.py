"""The demo's page in a real browser: headless Chromium driven over the DevTools protocol.

Chromium is started with ``--remote-debugging-pipe`` (commands on fd 3, events on fd 4,
JSON messages ended by NUL), so the test needs nothing but the standard library. It records
every request the page makes and every console message and exception, then measures each
figure and reads the colour table's computed colours, and keeps a full-page screenshot
(in pytest's tmp dir and, when ``FASTBIP_SCREENSHOT_DIR`` is set, there too).

Skipped only when Chromium is missing and ``CI`` is not set; in CI it fails instead.
"""

import base64
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("jinja2")
pytest.importorskip("graphviz")

from fastbip.cli import main  # noqa: E402
from fastbip.report.palette import cluster_colour  # noqa: E402

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")


def _chromium() -> str | None:
    for name in ("/usr/bin/chromium", *_CANDIDATES):
        found = shutil.which(name)
        if found:
            return found
    return None


class _Browser:
    """A headless Chromium over the DevTools pipe: ``call`` a method, gather ``events``."""

    def __init__(self, exe: str, profile: Path):
        cmd_r, self._cmd_w = os.pipe()  # we write commands, the browser reads fd 3
        self._evt_r, evt_w = os.pipe()  # the browser writes fd 4, we read

        def wire() -> None:
            os.dup2(cmd_r, 3)
            os.dup2(evt_w, 4)

        self.proc = subprocess.Popen(
            [
                exe,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--no-first-run",
                "--no-default-browser-check",
                "--hide-scrollbars",
                "--remote-debugging-pipe",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            preexec_fn=wire,
            close_fds=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(cmd_r)
        os.close(evt_w)
        self._buf = b""
        self._next = 0
        self.events: list[dict] = []
        self.session: str | None = None

    def _read(self, timeout: float) -> dict:
        import select

        while b"\0" not in self._buf:
            ready, _, _ = select.select([self._evt_r], [], [], timeout)
            if not ready:
                raise TimeoutError("the browser did not answer in time")
            chunk = os.read(self._evt_r, 1 << 20)
            if not chunk:
                raise RuntimeError("the browser closed the DevTools pipe")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method: str, timeout: float = 60.0, session: bool = True, **params):
        self._next += 1
        msg = {"id": self._next, "method": method, "params": params}
        if session and self.session is not None:
            msg["sessionId"] = self.session
        os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(max(0.1, deadline - time.monotonic()))
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 60.0) -> dict:
        for e in self.events:
            if e.get("method") == method:
                return e
        deadline = time.monotonic() + timeout
        while True:
            e = self._read(max(0.1, deadline - time.monotonic()))
            self.events.append(e)
            if e.get("method") == method:
                return e

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=10, session=False)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._cmd_w)
        os.close(self._evt_r)


_PROBE = """JSON.stringify({
  figures: [...document.querySelectorAll('figure[data-figure]')].map(f => {
    const s = f.querySelector('svg');
    const r = s ? s.getBoundingClientRect() : {width: 0, height: 0};
    return {key: f.dataset.figure, width: r.width, height: r.height};
  }),
  cells: [...document.querySelectorAll('table.colours td.c')].map(td => ({
    want: td.dataset.colour, got: getComputedStyle(td).backgroundColor,
    cluster: +td.dataset.cluster})),
  height: document.documentElement.scrollHeight,
  width: document.documentElement.scrollWidth,
  sections: [...document.querySelectorAll('h2')].map(h => h.textContent),
})"""


def _rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


@pytest.fixture(scope="module")
def demo_page(tmp_path_factory):
    d = tmp_path_factory.mktemp("demo")
    page = d / "study.html"
    assert main(["demo", "--report", str(page)]) == 0
    return page


def test_demo_page_in_headless_chromium(demo_page, tmp_path):
    exe = _chromium()
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed; CI must install it (apt-get install chromium)")
        pytest.skip("Chromium is not installed")
    b = _Browser(exe, tmp_path / "profile")
    try:
        target = b.call("Target.createTarget", session=False, url="about:blank")["targetId"]
        b.session = b.call("Target.attachToTarget", session=False, targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Network", "Runtime", "Log"):
            b.call(f"{domain}.enable")
        b.call("Emulation.setDeviceMetricsOverride", width=1100, height=900,
               deviceScaleFactor=1, mobile=False)  # fmt: skip
        b.events.clear()
        b.call("Page.navigate", url=demo_page.as_uri())
        b.wait_for("Page.loadEventFired")
        probe = json.loads(
            b.call("Runtime.evaluate", expression=_PROBE, returnByValue=True)["result"]["value"]
        )
        b.call("Emulation.setDeviceMetricsOverride", width=1100, height=int(probe["height"]),
               deviceScaleFactor=1, mobile=False)  # fmt: skip
        shot = b.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        events = list(b.events)
    finally:
        b.close()

    png = base64.b64decode(shot["data"])
    (tmp_path / "study.png").write_bytes(png)
    if os.environ.get("FASTBIP_SCREENSHOT_DIR"):
        out = Path(os.environ["FASTBIP_SCREENSHOT_DIR"])
        out.mkdir(parents=True, exist_ok=True)
        (out / "study.png").write_bytes(png)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000

    # nothing requested from the network: only the page itself and inline data
    urls = [e["params"]["request"]["url"] for e in events
            if e.get("method") == "Network.requestWillBeSent"]  # fmt: skip
    assert demo_page.as_uri() in urls
    remote = [u for u in urls if not u.startswith(("file:", "data:", "about:"))]
    assert remote == []
    # no console error, no exception, no failed load
    errors = [e for e in events if e.get("method") == "Runtime.exceptionThrown"]
    errors += [e for e in events if e.get("method") == "Runtime.consoleAPICalled"
               and e["params"]["type"] in ("error", "assert")]  # fmt: skip
    errors += [e for e in events if e.get("method") == "Log.entryAdded"
               and e["params"]["entry"]["level"] == "error"]  # fmt: skip
    errors += [e for e in events if e.get("method") == "Network.loadingFailed"]
    assert errors == []
    # every figure renders at a non-zero size, the three sections are there
    keys = {f["key"] for f in probe["figures"]}
    assert {"icl", "blocks", "lift", "cluster-graph", "member-graph", "contingency"} <= keys
    assert all(f["width"] > 100 and f["height"] > 50 for f in probe["figures"]), probe["figures"]
    assert [s[:2] for s in probe["sections"]] == ["1.", "2.", "3."]
    assert probe["width"] <= 1100  # nothing wider than the window
    # the colour table's cells have their clusters' colours
    cells = probe["cells"]
    assert len(cells) > 100
    assert all(c["got"] == _rgb(c["want"]) == _rgb(cluster_colour(c["cluster"])) for c in cells)
    assert len({c["got"] for c in cells}) >= 4
