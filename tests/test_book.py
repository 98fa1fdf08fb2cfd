"""The course as a book (tools/build_book.py): its build steps, and the built site in a real browser.

The browser part serves build/book/ on 127.0.0.1 and opens its pages in Debian's Chromium through
Playwright, with every request to another host aborted and counted (the book must work with no network).
On each page it checks that MathJax typeset every formula (no raw TeX left in the prose, no MathJax
error), that every image loaded, that nothing was logged as an error and no file was missing, that the
previous/next links follow the course's order, and on notebook pages the download link (the notebook
itself), the solutions (folded) and the demos (still pictures). Screenshots of three pages go to
build/screenshots/book/ (look at them: a test cannot judge a picture).

    python tools/build_book.py --test              # build, then every page
    python -m pytest tests/test_book.py            # the pages of PAGES_CI (LNNLIB_BOOK_PAGES=all: every page)

Skipped, with the reason, where /usr/bin/chromium or Playwright is missing, or the book is not built
(unless LNNLIB_BOOK names the site: then a missing site fails). Never runs ``playwright install``.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import sys
import threading
import time
import tomllib
from pathlib import Path
from urllib.parse import urljoin, urlparse

import nbformat
import pytest
from conftest import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import build_book  # noqa: E402

SITE = Path(os.environ.get("LNNLIB_BOOK", ROOT / "build" / "book"))
SCREENSHOTS = ROOT / "build" / "screenshots" / "book"
PAGE_TIMEOUT = 60  # s: loading a page and typesetting its math, on a busy 2-core machine

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ORDER = ["index", *(p.stem for p in NOTEBOOKS), "notation"]  # the book's reading order (book/index.md)
# CI opens these (first and last of the chain, the most formulas, the demos); the tool opens every page
PAGES_CI = ["index", "03_end_to_end_dynamics", "10_lecture_demos", "notation"]
PAGES = ORDER if os.environ.get("LNNLIB_BOOK_PAGES") == "all" else [p for p in PAGES_CI if p in ORDER]
SHOTS = {"index": 0, "03_end_to_end_dynamics": 0, "10_lecture_demos": "img.lnnlib-still"}


def tagged(path: Path, tag: str, cell_type: str = "code") -> int:
    nb = nbformat.read(path, as_version=4)
    return sum(c.cell_type == cell_type and tag in c.metadata.get("tags", []) for c in nb.cells)


# ----------------------------------------------------------------------------------------------------
# The build's steps and files (no browser)


def test_book_extra_is_pinned_and_readme_command_builds_it():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pinned = {
        line.split("==")[0].lower().replace("_", "-")
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line
    }
    for requirement in project["optional-dependencies"]["book"]:
        name = re.split(r"[<>=\[ ]", requirement)[0].lower()
        assert name in pinned, f"{name} (book extra) is not pinned in constraints.txt"
    match = re.search(r"<!-- book-command -->\s*```bash\n(.+?)\n```", (ROOT / "README.md").read_text(), re.S)
    assert match, "README has no block after <!-- book-command -->"
    command = match.group(1).strip()
    assert command.startswith("python3 -m venv .venv") and "--upgrade pip" in command
    assert '-c constraints.txt -e ".[book]"' in command and command.endswith("tools/build_book.py")


def test_strip_nbval_removes_the_marker_and_its_why_comment_only():
    source = (
        "# NBVAL_IGNORE_OUTPUT\n# why: a widget view\n# (nbval cannot compare it)\ndemo\n# a reader's comment\nx = 1"
    )
    assert build_book.strip_nbval(source) == "demo\n# a reader's comment\nx = 1"
    assert build_book.strip_nbval("# NBVAL_SKIP\n# a comment for the reader\ny") == "# a comment for the reader\ny"
    assert build_book.strip_nbval("x = 1  # NBVAL_ in a string stays\n") == "x = 1  # NBVAL_ in a string stays"


def test_readme_sections_are_found_and_a_missing_one_is_an_error():
    readme = "# Title\n\nIntro text.\n\n## The notebooks\n\n| a |\n\n## Notation\n\nsymbols\n"
    assert build_book.readme_section(readme, None) == "Intro text.\n"
    assert build_book.readme_section(readme, "Notation") == "symbols\n"
    with pytest.raises(build_book.BookError, match="no section '## Layout'"):
        build_book.readme_section(readme, "Layout")


def _exercise_notebook(tmp_path: Path, old_convention: bool) -> Path:
    v4 = nbformat.v4
    solution_tags = ["solution", "hide-input"] if old_convention else ["solution", "hide-cell"]
    cells = [
        v4.new_markdown_cell("# 03 · A notebook\n\nText."),
        v4.new_code_cell("x = 1"),
        v4.new_markdown_cell("### Exercise 3.2: a question"),
        v4.new_code_cell('raise NotImplementedError("Exercise 3.2: fill in")', metadata={"tags": ["raises-exception"]}),
        v4.new_markdown_cell("#### Solution to Exercise 3.2", metadata={"tags": ["solution"]}),
        v4.new_code_cell("# Solution to Exercise 3.2\nanswer_3_2 = 2", metadata={"tags": solution_tags}),
        v4.new_code_cell("# NBVAL_IGNORE_OUTPUT\n# why: it varies\nprint(x)"),
    ]
    cells[3].outputs = [
        v4.new_output("error", ename="NotImplementedError", evalue="Exercise 3.2: fill in", traceback=["long", "tb"])
    ]
    path = tmp_path / "03_a_notebook.ipynb"
    nbformat.write(v4.new_notebook(cells=cells), path)
    return path


def test_build_refuses_to_replace_a_folder_that_is_not_a_book(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(build_book.BookError, match="holds no book built before"):
        build_book.build(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("old_convention", [False, True], ids=["solution+hide-cell", "solution+hide-input"])
def test_reading_copy_folds_solutions_strips_nbval_and_links_the_notebook(tmp_path, old_convention):
    path = _exercise_notebook(tmp_path, old_convention)
    before = path.read_bytes()
    nb = build_book.reading_copy(path)
    assert path.read_bytes() == before, "the notebook itself must not change"
    solution = next(c for c in nb.cells if c.source.startswith("# Solution"))
    assert solution.metadata["tags"] == ["solution", "hide-cell"]
    assert solution.metadata["mystnb"]["code_prompt_show"] == "Show the solution to Exercise 3.2"
    assert not any("NBVAL" in c.source or "# why" in c.source for c in nb.cells)
    error = nb.cells[3].outputs[0]
    assert error.traceback == ["NotImplementedError: Exercise 3.2: fill in"]
    title, link = nb.cells[0].source.splitlines()[:3:2]
    assert title == "# 03 · A notebook" and "(path:_notebooks/03_a_notebook.ipynb)" in link


def test_reading_copy_refuses_a_widget_it_cannot_draw(tmp_path):
    cell = nbformat.v4.new_code_cell("print('a widget')")
    cell.outputs = [nbformat.v4.new_output("display_data", data={build_book.WIDGET: {"model_id": "x"}})]
    path = tmp_path / "10_demo.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("A = 1"), cell]), path)
    with pytest.raises(build_book.BookError, match="does not end with a demo's name"):
        build_book.reading_copy(path)


# ----------------------------------------------------------------------------------------------------
# The built site in Chromium


class _Quiet(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".woff2": "font/woff2"}

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def built() -> Path:
    """The built site (skipped if it is not built, unless LNNLIB_BOOK names it: then that fails)."""
    if not (SITE / "index.html").exists():
        reason = f"{SITE} is not built: run python tools/build_book.py"
        if os.environ.get("LNNLIB_BOOK"):
            pytest.fail(reason)
        pytest.skip(reason)
    stale = [
        nb.name
        for nb in NOTEBOOKS
        if not any(d.read_bytes() == nb.read_bytes() for d in SITE.glob(f"_downloads/*/{nb.name}"))
    ]
    if stale:  # a site built before the notebooks last changed: test it only when asked to (CI builds it anew)
        reason = f"{SITE} is older than {', '.join(stale)}: rebuild it (README, book command) to test it"
        if os.environ.get("LNNLIB_BOOK"):
            pytest.fail(reason)
        pytest.skip(reason)
    return SITE


@pytest.fixture(scope="module")
def site(built):
    """build/book/ served on 127.0.0.1 (a free port)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(SITE)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (install Debian's chromium: apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Python Playwright is not installed")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


class Visit:
    """One page opened in a fresh context that lets only 127.0.0.1 through, with what went wrong."""

    def __init__(self, browser, url: str):
        self.outside, self.errors, self.missing = [], [], []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.set_default_timeout(PAGE_TIMEOUT * 1000)
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("response", lambda r: r.status >= 400 and self.missing.append(f"{r.status} {r.url}"))
        self.page.goto(url, wait_until="load")

    def _route(self, route):
        url = urlparse(route.request.url)
        if url.hostname == "127.0.0.1" or url.scheme == "file":
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def close(self):
        self.context.close()


def typeset(page) -> dict:
    """Wait for MathJax (when the page has formulas), then report on the formulas and the prose."""
    return page.evaluate(
        """async (TIMEOUT) => {
            const formulas = document.querySelectorAll('.math');
            let finished = !formulas.length;
            if (formulas.length && window.MathJax) {
                const deadline = Date.now() + TIMEOUT;
                while (!(MathJax.startup && MathJax.startup.promise) && Date.now() < deadline) {
                    await new Promise(r => setTimeout(r, 100));
                }
                const late = new Promise(r => setTimeout(() => r(false), Math.max(0, deadline - Date.now())));
                const done = MathJax.startup.promise.then(() => true, (e) => `failed: ${e && e.message || e}`);
                finished = await Promise.race([done, late]);
            }
            const skip = 'pre, code, script, style, mjx-container, textarea, .highlight';
            const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            const raw = [];
            for (let node; (node = walker.nextNode()); ) {
                const parent = node.parentElement;
                if (!parent || parent.closest(skip)) continue;
                const text = node.textContent;
                if (/\\$|\\\\[A-Za-z]+/.test(text)) raw.push(text.trim().slice(0, 120));
            }
            return {
                finished,
                formulas: formulas.length,
                mathjax: !!window.MathJax,
                untypeset: Array.from(formulas).filter(f => !f.querySelector('mjx-container')).length,
                rendered: document.querySelectorAll('mjx-container').length,
                errors: Array.from(document.querySelectorAll('mjx-merror, [data-mjx-error]'))
                    .map(e => e.getAttribute('data-mjx-error') || e.textContent).slice(0, 5),
                raw: raw.slice(0, 5),
            };
        }""",
        PAGE_TIMEOUT * 1000,
    )


def images(page) -> list[dict]:
    """Every image, scrolled into view first (lazy images load only then) and waited for."""
    return page.evaluate(
        """async () => {
            const out = [];
            for (const img of Array.from(document.images)) {
                img.scrollIntoView();
                if (!img.complete) {
                    await new Promise(r => { img.addEventListener('load', r); img.addEventListener('error', r);
                                             setTimeout(r, 20000); });
                }
                out.push({src: img.currentSrc || img.src, width: img.naturalWidth,
                          still: img.classList.contains('lnnlib-still')});
            }
            window.scrollTo(0, 0);
            return out;
        }"""
    )


@pytest.mark.parametrize("name", PAGES)
def test_page(browser, site, name):
    start = time.monotonic()
    visit = Visit(browser, urljoin(site, f"{name}.html"))
    page = visit.page
    try:
        math = typeset(page)
        pictures = images(page)
        if name in SHOTS:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            if SHOTS[name]:
                page.locator(SHOTS[name]).first.scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
        assert math["finished"] is True, f"{name}: MathJax did not finish typesetting ({PAGE_TIMEOUT} s): {math}"
        if math["formulas"]:
            assert math["mathjax"], f"{name}: formulas but no MathJax"
            assert math["untypeset"] == 0 and math["rendered"] >= math["formulas"], f"{name}: {math}"
        assert not math["errors"], f"{name}: MathJax errors {math['errors']}"
        assert not math["raw"], f"{name}: raw TeX left in the text: {math['raw']}"

        assert all(p["width"] > 0 for p in pictures), f"{name}: images not loaded: {pictures}"
        text = page.locator("main").inner_text()
        assert "NBVAL" not in text, f"{name}: nbval's comments are shown"

        position = ORDER.index(name)
        links = page.evaluate(
            "() => ['left-prev', 'right-next'].map(c => { const a = document.querySelector('a.' + c);"
            " return a ? a.href : null; })"
        )
        expected = [
            urljoin(site, f"{ORDER[position - 1]}.html") if position > 0 else None,
            urljoin(site, f"{ORDER[position + 1]}.html") if position + 1 < len(ORDER) else None,
        ]
        assert links == expected, f"{name}: previous/next links {links}, expected {expected}"

        notebook = ROOT / "notebooks" / f"{name}.ipynb"
        if notebook.exists():
            check_notebook_page(page, name, notebook, pictures)
        if position + 1 < len(ORDER):  # the next link leads to the next page
            page.locator("a.right-next").click()
            page.wait_for_url(expected[1])
            assert page.locator("h1").first.inner_text().strip(), f"{name}: the next page has no title"
    finally:
        visit.close()
    assert not visit.outside, f"{name}: tried to load from outside 127.0.0.1: {visit.outside[:5]}"
    assert not visit.missing, f"{name}: files missing or refused: {visit.missing[:5]}"
    assert not visit.errors, f"{name}: {visit.errors[:5]}"
    print(f"{name}: {math['rendered']} formulas, {len(pictures)} images, {time.monotonic() - start:.1f} s")


def check_notebook_page(page, name: str, notebook: Path, pictures: list[dict]) -> None:
    # the download link gives the notebook itself
    link = page.locator(f'a.download[href$="/{name}.ipynb"]')
    assert link.count() == 1, f"{name}: no download link to {name}.ipynb"
    response = page.request.get(urljoin(page.url, link.get_attribute("href")))
    assert response.ok, f"{name}: the download link answers {response.status}"
    assert response.body() == notebook.read_bytes(), f"{name}: the download differs from {notebook} (rebuild the book?)"

    # every solution cell is folded behind its own toggle
    solutions = tagged(notebook, "solution")
    toggles = page.locator("details.hide:has(summary:has-text('Show the solution'))")
    assert toggles.count() == solutions, f"{name}: {toggles.count()} solution toggles for {solutions} solutions"
    if solutions:
        first = toggles.first
        assert not first.locator(".cell_input").is_visible(), f"{name}: a solution is shown unfolded"
        first.locator("summary").click()
        assert first.locator(".cell_input").is_visible(), f"{name}: the solution toggle does not open"

    # each live demo is a still picture with its caption
    nb = nbformat.read(notebook, as_version=4)
    demos = sum(
        any(build_book.WIDGET in o.get("data", {}) for o in c.get("outputs", []))
        for c in nb.cells
        if c.cell_type == "code"
    )
    assert sum(p["still"] for p in pictures) == demos, f"{name}: {demos} demos, stills {pictures}"
    captions = page.locator("p.lnnlib-still-caption")
    assert captions.count() == demos
    for i in range(demos):
        assert "run it in JupyterLab" in captions.nth(i).inner_text()


def test_a_page_opened_from_disk_typesets_with_no_error(browser, built):
    # README: the site can be opened as files, with no server (MathJax's speech worker is off there)
    visit = Visit(browser, (built / "03_end_to_end_dynamics.html").as_uri())
    try:
        math = typeset(visit.page)
        pictures = images(visit.page)
    finally:
        visit.close()
    assert math["finished"] is True and math["formulas"] and math["untypeset"] == 0 and not math["errors"], math
    assert pictures and all(p["width"] > 0 for p in pictures), pictures
    assert not visit.outside and not visit.errors, (visit.outside[:5], visit.errors[:5])


def test_site_loads_nothing_from_outside_and_serves_the_pinned_mathjax(built):
    # the pages name no outside script, stylesheet or font (links to read elsewhere are fine)
    for page in built.glob("*.html"):
        head = page.read_text(encoding="utf-8")
        outside = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?://[^"]+)"', head)
        assert not outside, f"{page.name} loads {outside}"
    pinned = next(spec for spec in build_book.MATHJAX if spec.startswith("mathjax@")).split("@")[1]
    assert json.loads((built / "_static" / "mathjax" / "package.json").read_text())["version"] == pinned
