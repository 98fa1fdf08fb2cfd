"""Notebook 10 in a real JupyterLab, driven by Debian's Chromium through Playwright.

Starts JupyterLab on 127.0.0.1 (random free port, random token, temporary settings so that notebook
windowing is off and every cell is rendered), opens a copy of notebooks/10_lecture_demos.ipynb, runs all
cells, checks that no cell shows an error, then moves every slider of every demo with the keyboard and
checks that the demo's figure changed. It measures the time from the key press to the new figure in the
page, and saves screenshots under build/screenshots/ (look at them: a test cannot judge a picture).

Skipped, with the reason, where /usr/bin/chromium or Playwright is missing. Never runs
``playwright install``: Debian's Chromium is used as is.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "10_lecture_demos.ipynb"
SCREENSHOTS = ROOT / "build" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
SERVER_START_TIMEOUT = 60  # s: JupyterLab answers /api/status
RUN_ALL_TIMEOUT = 150  # s: the notebook computes for ~20-50 s depending on the machine's load
REDRAW_TIMEOUT = 30  # s: one slider move, including a training run not yet in the cache

# every slider of every demo, as (demo kind, control name); dropdowns are moved too
CONTROLS = [
    ("completion", "depth"),
    ("completion", "init_scale"),
    ("completion", "observations"),
    ("completion", "step"),
    ("balancedness", "init"),
    ("balancedness", "scale"),
    ("balancedness", "lr"),
    ("balancedness", "depth"),
    ("preconditioner", "norm"),
    ("preconditioner", "angle"),
    ("preconditioner", "depth"),
    ("preconditioner", "gradient_angle"),
    ("acceleration", "depth"),
    ("acceleration", "lr"),
    ("acceleration", "p"),
]

if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} is missing (install Debian's chromium: apt-get install -y chromium)", allow_module_level=True
    )
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Python Playwright is not installed (pip install playwright)"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server with windowing off, serving a temporary copy of notebook 10."""
    tmp = tmp_path_factory.mktemp("lab")
    work = tmp / "work"
    work.mkdir()
    shutil.copy(NOTEBOOK, work / NOTEBOOK.name)
    settings = tmp / "settings"
    tracker = settings / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    # JupyterLab 4 renders only the cells in view unless windowing is off; the test needs all of them
    (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    # no news or update checks (no network in CI, no toast over the notebook)
    notification = settings / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    port, token = free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        "JUPYTER_CONFIG_DIR": str(tmp / "config"),
    }
    env.pop("MPLBACKEND", None)  # the demos do not depend on it; the kernel gets its default
    log = (tmp / "jupyterlab.log").open("w")
    cmd = [
        str(Path(sys.executable).with_name("jupyter")),
        "lab",
        "--no-browser",
        "--allow-root",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={work}",
        "--LabApp.expose_app_in_browser=True",
        "--LabServerApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=work)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"JupyterLab did not start:\n{(tmp / 'jupyterlab.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield {"url": f"{base}/lab/tree/{NOTEBOOK.name}?token={token}&reset", "log": tmp / "jupyterlab.log"}
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture(scope="module")
def page(lab):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.set_default_timeout(REDRAW_TIMEOUT * 1000)
            page.goto(lab["url"])
            page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=SERVER_START_TIMEOUT * 1000)
            # the kernel is up when the app's session context reports a kernel
            page.wait_for_function(
                """() => {
                    const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                    return w && w.sessionContext && w.sessionContext.session
                        && w.sessionContext.session.kernel && !w.sessionContext.isRestarting;
                }""",
                timeout=SERVER_START_TIMEOUT * 1000,
            )
            yield page
        finally:
            browser.close()


def run_all(page) -> float:
    start = time.monotonic()
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    # done when every code cell has an execution count and the kernel is idle
    page.wait_for_function(
        """() => {
            const w = window.jupyterapp.shell.currentWidget;
            const cells = w.content.widgets.filter(c => c.model.type === 'code');
            const kernel = w.sessionContext.session && w.sessionContext.session.kernel;
            return cells.length > 0 && cells.every(c => c.model.executionCount !== null)
                && kernel && kernel.status === 'idle';
        }""",
        timeout=RUN_ALL_TIMEOUT * 1000,
        polling=500,
    )
    return time.monotonic() - start


def demo(page, kind):
    return page.locator(f".lnnlib-demo-{kind}")


def frame(page, kind) -> int:
    """The demo's count of figures sent (``data-frame`` in its status line)."""
    return int(demo(page, kind).locator(".lnnlib-status [data-frame]").get_attribute("data-frame"))


def figure_pixels(page, kind) -> bytes:
    return demo(page, kind).locator("img.lnnlib-figure").screenshot()


def settle(page) -> None:
    """Wait until the kernel has handled every message (a move may queue a second update)."""
    page.wait_for_function(
        """() => {
            const w = window.jupyterapp.shell.currentWidget;
            const kernel = w.sessionContext.session && w.sessionContext.session.kernel;
            return kernel && kernel.status === 'idle';
        }""",
        timeout=REDRAW_TIMEOUT * 1000,
        polling=100,
    )


def keys(page, kind, name) -> tuple[str, str]:
    """How to move the control one notch (away from the end it sits at), and back.

    Sliders: arrow keys on the focused handle. Menus: the next entry chosen in the ``<select>`` (a
    closed ``<select>`` ignores arrow keys in headless Chromium), written ``"+1"`` / ``"-1"``.
    """
    control = demo(page, kind).locator(f".lnnlib-control-{name}")
    handle = control.locator(".noUi-handle")
    if handle.count():
        at_end = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
        return ("ArrowLeft", "ArrowRight") if at_end else ("ArrowRight", "ArrowLeft")
    at_end = control.locator("select").evaluate("(s) => s.selectedIndex === s.options.length - 1")
    return ("-1", "+1") if at_end else ("+1", "-1")


def press(page, kind, name, key) -> float:
    """Move a control (see :func:`keys`), wait for the new figure; return the ms from the key press (or
    menu choice) to the new figure in the page."""
    control = demo(page, kind).locator(f".lnnlib-control-{name}")
    handle = control.locator(".noUi-handle")
    target = handle if handle.count() else control.locator("select")
    target.focus()
    settle(page)
    before, pixels = frame(page, kind), figure_pixels(page, kind)
    page.evaluate(
        """(kind) => {
            const status = document.querySelector(`.lnnlib-demo-${kind} .lnnlib-status`);
            window.__redraw = {start: null, end: null};
            for (const event of ['keydown', 'change']) {
                document.addEventListener(event, () => {
                    if (window.__redraw.start === null) { window.__redraw.start = performance.now(); }
                }, {capture: true, once: true});
            }
            const observer = new MutationObserver(() => {
                if (window.__redraw.end === null) { window.__redraw.end = performance.now(); }
                observer.disconnect();
            });
            observer.observe(status, {subtree: true, childList: true, attributes: true, characterData: true});
        }""",
        kind,
    )
    if key in ("+1", "-1"):
        select = control.locator("select")
        index = select.evaluate("(s) => s.selectedIndex") + int(key)
        select.select_option(index=index)
    else:
        page.keyboard.press(key)
    page.wait_for_function(
        "(args) => Number(document.querySelector(`.lnnlib-demo-${args[0]} .lnnlib-status [data-frame]`)"
        ".getAttribute('data-frame')) > args[1]",
        arg=[kind, before],
        timeout=REDRAW_TIMEOUT * 1000,
        polling="raf",
    )
    timing = page.evaluate("() => window.__redraw")
    settle(page)
    assert figure_pixels(page, kind) != pixels, f"{kind}.{name}: the figure did not change"
    return timing["end"] - timing["start"]


def test_notebook_10_demos_in_jupyterlab(page, lab):
    seconds = run_all(page)
    page.screenshot(path=str(SCREENSHOTS / "00_after_run_all.png"))
    errors = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
    assert errors.count() == 0, "error output in the notebook:\n" + "\n".join(errors.all_inner_texts())[:3000]
    assert page.locator(".jp-OutputArea-output:has-text('Traceback')").count() == 0
    statuses = page.locator(".lnnlib-status")
    assert statuses.count() == 4, "the four demos did not all render"
    for kind in ("completion", "balancedness", "preconditioner", "acceleration"):
        demo(page, kind).scroll_into_view_if_needed()
        demo(page, kind).screenshot(path=str(SCREENSHOTS / f"{kind}_0_start.png"))

    timings = {}
    for kind, name in CONTROLS:
        forward, backward = keys(page, kind, name)
        first = press(page, kind, name, forward)  # may train: a new parameter set
        demo(page, kind).screenshot(path=str(SCREENSHOTS / f"{kind}_{name}_moved.png"))
        back = press(page, kind, name, backward)  # back to a value already computed: from the cache
        timings[f"{kind}.{name}"] = (round(first), round(back))
        status = demo(page, kind).locator(".lnnlib-status").inner_text()
        assert "refused" not in status and "diverged" not in status, f"{kind}.{name}: {status}"
    page.screenshot(path=str(SCREENSHOTS / "99_after_moves.png"), full_page=True)
    report = {"run_all_seconds": round(seconds, 1), "redraw_ms_first_move_and_move_back": timings}
    (SCREENSHOTS / "timings.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))
    assert page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').count() == 0
