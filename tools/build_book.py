"""Build the course as a book: a static website made from the notebooks' stored outputs, readable offline.

    python tools/build_book.py               # -> build/book/index.html
    python tools/build_book.py --test        # then the browser test on every page (tests/test_book.py)
    python tools/build_book.py --out DIR     # somewhere else

Needs the ``book`` extra (``pip install -c constraints.txt -e ".[book]"``) and, once, npm (MathJax comes from
the npm registry). Nothing is re-executed: each page shows the outputs stored in ``notebooks/``. The steps,
all under ``build/`` (ignored by git):

1. ``build/book-src/``: the Sphinx sources. ``book/`` (configuration, landing page, notation page), three
   sections of the README (its introduction, the table of notebooks, the notation table: one text for both),
   and a reading copy of each notebook of ``notebooks/`` (the notebooks themselves are not changed), in which
   - solution cells (tag ``solution``) are tagged ``hide-cell``: the book shows them behind a "Show the
     solution" toggle (the old convention, ``solution`` + ``hide-input``, is converted the same way);
   - ``# NBVAL_...`` comments (and the ``# why:`` comment under them) are removed: they are for nbval;
   - a stored error (an exercise's stub raises ``NotImplementedError``) is shortened to its last line;
   - an output that is a live widget (the demos of notebook 10; they store no state) becomes a still
     picture of the demo's initial view, drawn now by the demo class of lnnlib, with a line saying to
     run the notebook in JupyterLab to move it;
   - a download link to the original notebook is put under the title.
2. MathJax 4 and its font (npm packages, exact versions and sha512 checked below, cached in
   ``build/.cache/``) are copied into the site's ``_static/``: the pages typeset math with no network.
3. ``sphinx-build`` (myst-nb with execution off, sphinx-book-theme) writes the site to ``build/book/``.
"""

from __future__ import annotations

import argparse
import ast
import base64
import hashlib
import html
import io
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
NOTEBOOKS = ROOT / "notebooks"
BUILD = ROOT / "build"

# MathJax from the npm registry: exact versions, and the sha512 of each tarball as the registry lists it
# (``npm view mathjax@4.1.3 dist.integrity``): a changed file stops the build.
MATHJAX = {
    "mathjax@4.1.3": "sha512-BN/8Pkgn7G1pIDYJqd9md+JHsE/jydSYbyOZnSdSA0WziuVO8mRxdYiWFumkVVly/8U+hm9DpIIoWuvySverzw==",
    "@mathjax/mathjax-newcm-font@4.1.3": (
        "sha512-gzAB3dFHilHX1l5x2xUqRL+1jDQt3Fyza1DkEMVXWC4E8SvsGdlgEza47HYi2WhVcgfkvf4zgUGzuhbq3Pjlew=="
    ),
}
WIDGET = "application/vnd.jupyter.widget-view+json"
NBVAL = re.compile(r"^\s*#\s*NBVAL_[A-Z_]+\b.*$")


class BookError(RuntimeError):
    """Something in the sources that the book cannot show faithfully."""


# ----------------------------------------------------------------------------------------------------
# 1. Sources


def readme_section(readme: str, heading: str | None) -> str:
    """The README's text under ``## heading`` up to the next ``## `` (``None``: the introduction, between
    the title and the first ``## ``)."""
    lines = readme.splitlines()
    if heading is None:
        start = next(i for i, line in enumerate(lines) if line.startswith("# ")) + 1
    else:
        try:
            start = lines.index(f"## {heading}") + 1
        except ValueError:
            raise BookError(f"README.md has no section '## {heading}', which the book shows") from None
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("## ")), len(lines))
    text = "\n".join(lines[start:end]).strip()
    if not text:
        raise BookError(f"README.md's section {heading or 'introduction'!r} is empty")
    return text + "\n"


def strip_nbval(source: str) -> str:
    """``source`` without ``# NBVAL_...`` lines and the ``# why:`` comment block right under one."""
    out, skipping = [], False
    for line in source.splitlines():
        if NBVAL.match(line):
            skipping = "start"
            continue
        if skipping == "start" and line.lstrip().startswith("# why"):
            skipping = True
            continue
        if skipping is True and line.lstrip().startswith("#"):
            continue
        skipping = False
        out.append(line)
    return "\n".join(out).strip("\n")


def _exercise_of(nb, index: int) -> str | None:
    """The exercise number ("3.2") a solution cell belongs to, from its first line or the nearest heading."""
    for cell in reversed(nb.cells[: index + 1]):
        match = re.search(r"(?:Solution to )?Exercise\s+(\d+(?:\.\d+)?)", cell.source)
        if match:
            return match.group(1)
    return None


def _control_text(control) -> str:
    label = getattr(control, "label", None)  # menus show a label, which may differ from the value
    value = label if isinstance(label, str) else control.value
    return f"{control.description} = {value:g}" if isinstance(value, float) else f"{control.description} = {value}"


def demo_stills(nb, name: str) -> dict[int, tuple[bytes, str]]:
    """A still picture and a caption for each cell whose output is a live demo widget.

    The cell must end with the demo's name (``completion``); the demo is built as the notebook builds it:
    the notebook's first code cell (its constants and imports), then the statement that assigned that name.
    The picture is the demo's initial view, as the demo class draws it when it is created.
    """
    cells = {
        i: cell
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and any(WIDGET in out.get("data", {}) for out in cell.get("outputs", []))
    }
    if not cells:
        return {}
    os.environ.setdefault("MPLBACKEND", "Agg")
    code = [(i, cell) for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    namespace: dict = {"__name__": f"book_{name}"}
    exec(compile(code[0][1].source, f"{name} cell {code[0][0]}", "exec"), namespace)
    stills = {}
    for index, cell in cells.items():
        body = ast.parse(cell.source).body
        if not body or not isinstance(body[-1], ast.Expr) or not isinstance(body[-1].value, ast.Name):
            raise BookError(f"{name}, cell {index}: a widget output, but the cell does not end with a demo's name")
        shown = body[-1].value.id
        assignment = None
        for i, earlier in code:
            if i >= index:
                break
            for statement in ast.parse(earlier.source).body:
                targets = statement.targets if isinstance(statement, ast.Assign) else []
                if any(isinstance(t, ast.Name) and t.id == shown for t in targets):
                    assignment = (i, statement)
        if assignment is None:
            raise BookError(f"{name}, cell {index}: no earlier cell assigns {shown!r}, the demo it shows")
        module = ast.Module(body=[assignment[1]], type_ignores=[])
        exec(compile(module, f"{name} cell {assignment[0]}", "exec"), namespace)
        demo = namespace[shown]
        if callable(getattr(demo, "wait", None)):
            demo.wait()  # a run training in the background: its final picture
        state = re.search(r'data-state="([^"]*)"', demo.status.value)
        if (state and state.group(1) != "done") or "#b00020" in demo.status.value:  # not final, or refused
            raise BookError(f"{name}, cell {index}: the demo {shown!r} shows no final picture: {demo.status.value}")
        from PIL import Image  # lnnlib's dependency

        picture = io.BytesIO()
        Image.open(io.BytesIO(demo.image.value)).save(picture, format="png", optimize=True)
        status = html.unescape(re.sub(r"<[^>]+>", "", demo.status.value)).strip()
        settings = ", ".join(_control_text(c) for c in demo.controls.values())
        caption = (
            f"A still picture of this demo at its initial settings ({settings}), drawn by lnnlib when this "
            f"book was built. Its status line reads: “{status}”. "
            "To move the sliders, download this notebook and run it in JupyterLab."
        )
        stills[index] = (picture.getvalue(), caption)
    return stills


def reading_copy(path: pathlib.Path):
    """The notebook at ``path`` as the book shows it (see the module's docstring); the file is not changed."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("widgets", None)  # no widget state: nothing for the page to load
    stills = demo_stills(nb, path.stem)
    for index, cell in enumerate(nb.cells):
        tags = list(cell.metadata.get("tags", []))
        if cell.cell_type != "code":
            continue
        cell.source = strip_nbval(cell.source)
        if "solution" in tags:
            tags = [t for t in tags if t not in ("hide-input", "hide-output", "hide-cell")] + ["hide-cell"]
            exercise = _exercise_of(nb, index)
            which = f" to Exercise {exercise}" if exercise else ""
            cell.metadata.setdefault("mystnb", {}).update(
                code_prompt_show=f"Show the solution{which}", code_prompt_hide=f"Hide the solution{which}"
            )
        cell.metadata["tags"] = tags
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        if index in stills:
            png, caption = stills[index]
            cell.outputs = [
                nbformat.v4.new_output(
                    "display_data", data={"image/png": base64.b64encode(png).decode(), "text/plain": caption}
                ),
                nbformat.v4.new_output(
                    "display_data",
                    data={"text/html": f'<p class="lnnlib-still-caption"><em>{html.escape(caption)}</em></p>'},
                ),
            ]
            cell.metadata.setdefault("mystnb", {})["image"] = {"alt": caption, "classes": "lnnlib-still"}
    link = (
        f"[Download this notebook](path:_notebooks/{path.name}) ({path.name}, with its outputs) "
        "to run it in JupyterLab."
    )
    first = next((c for c in nb.cells if c.cell_type == "markdown"), None)
    if first is not None and first.source.startswith("# "):
        title, _, rest = first.source.partition("\n")
        first.source = f"{title}\n\n{link}\n{rest}"
    else:
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(link))
    return nb


def stage(src: pathlib.Path) -> list[pathlib.Path]:
    """Write the Sphinx sources to ``src``; return the notebooks, in course order."""
    import nbformat

    if src.exists():
        shutil.rmtree(src)
    shutil.copytree(BOOK, src, ignore=shutil.ignore_patterns("__pycache__"))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    notebooks = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise BookError(f"no notebooks in {NOTEBOOKS}")
    table = readme_section(readme, "The notebooks")
    names = {p.stem for p in notebooks}
    # the README names each notebook as `00_introduction`: in the book, a link to its page
    table = re.sub(r"`(\d\d_[a-z0-9_]+)`", lambda m: f"[{m[1]}]({m[1]}.ipynb)" if m[1] in names else m[0], table)
    (src / "_readme_introduction.md").write_text(readme_section(readme, None), encoding="utf-8")
    (src / "_readme_notebooks.md").write_text(table, encoding="utf-8")
    (src / "_readme_notation.md").write_text(readme_section(readme, "Notation"), encoding="utf-8")
    originals = src / "_notebooks"
    originals.mkdir()
    for path in notebooks:
        shutil.copyfile(path, originals / path.name)  # the download: the notebook itself, byte for byte
        nbformat.write(reading_copy(path), src / path.name)
    return notebooks


# ----------------------------------------------------------------------------------------------------
# 2. MathJax


def _integrity(path: pathlib.Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def fetch_mathjax(cache: pathlib.Path) -> dict[str, pathlib.Path]:
    """The MathJax tarballs, from the cache or fetched with ``npm pack``; each checked against MATHJAX."""
    cache.mkdir(parents=True, exist_ok=True)
    tarballs = {}
    for spec, integrity in MATHJAX.items():
        name, version = spec.rsplit("@", 1)
        path = cache / f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"
        if not path.exists():
            npm = shutil.which("npm")
            if npm is None:
                raise BookError(
                    "npm is needed once, to fetch MathJax from the npm registry (install Node.js, e.g. "
                    "apt-get install npm); it is then cached in build/.cache/"
                )
            print(f"fetching {spec} from the npm registry")
            subprocess.run(
                [npm, "pack", spec, "--pack-destination", str(cache), "--silent"], check=True, stdout=subprocess.DEVNULL
            )
        if _integrity(path) != integrity:
            path.unlink()
            raise BookError(f"{path.name}: its sha512 is not the one the registry lists for {spec}; removed")
        tarballs[name] = path
    return tarballs


def _extract(tarball: pathlib.Path, target: pathlib.Path, keep) -> int:
    """Extract the files of an npm tarball (``package/...``) for which ``keep(relative path)`` holds."""
    count = 0
    with tarfile.open(tarball) as archive:
        for member in archive.getmembers():
            relative = member.name.removeprefix("package/")
            if not member.isfile() or relative.startswith("/") or ".." in relative.split("/") or not keep(relative):
                continue
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(archive.extractfile(member).read())
            count += 1
    return count


def install_mathjax(static: pathlib.Path, cache: pathlib.Path) -> None:
    """Copy what the pages load (TeX input, CommonHTML output, its font, the menu and accessibility
    tools) into ``static/mathjax`` and ``static/mathjax-newcm-font``."""
    tarballs = fetch_mathjax(cache)

    def mathjax_file(path: str) -> bool:
        if "/" not in path:  # the combined components: the one the pages use, and the licence
            return path in ("tex-chtml.js", "LICENSE", "package.json")
        return path.split("/")[0] in ("input", "output", "ui", "a11y", "sre") and "svg" not in path

    def font_file(path: str) -> bool:
        return path in ("chtml.js", "LICENSE", "package.json") or path.startswith(("chtml/woff2/", "chtml/dynamic/"))

    _extract(tarballs["mathjax"], static / "mathjax", mathjax_file)
    _extract(tarballs["@mathjax/mathjax-newcm-font"], static / "mathjax-newcm-font", font_file)


# ----------------------------------------------------------------------------------------------------
# 3. Sphinx


def build(out: pathlib.Path) -> float:
    start = time.perf_counter()
    src, doctrees = BUILD / "book-src", BUILD / ".book-doctrees"
    if out.exists() and any(out.iterdir()) and not (out / ".buildinfo").exists():
        raise BookError(f"{out} is not empty and holds no book built before: choose another --out")
    notebooks = stage(src)
    staged = time.perf_counter()
    install_mathjax(src / "_static", BUILD / ".cache" / "npm")
    copied = time.perf_counter()
    for stale in (out, doctrees):
        if stale.exists():
            shutil.rmtree(stale)
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q", "-d", str(doctrees)]
    subprocess.run([*command, str(src), str(out)], check=True)
    end = time.perf_counter()
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(
        f"book: {len(notebooks)} notebooks -> {out / 'index.html'} ({size / 2**20:.1f} MiB) in {end - start:.1f} s "
        f"(sources and demo pictures {staged - start:.1f} s, MathJax {copied - staged:.1f} s, Sphinx {end - copied:.1f} s)"
    )
    seconds = end - start
    return seconds


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=pathlib.Path, default=BUILD / "book", help="default: build/book/")
    parser.add_argument("--test", action="store_true", help="then run tests/test_book.py on every page")
    args = parser.parse_args(argv)
    try:
        build(args.out.resolve())
    except BookError as exc:
        print(f"book: {exc}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        print(f"book: {exc}", file=sys.stderr)
        return exc.returncode or 1
    if args.test:
        env = {**os.environ, "LNNLIB_BOOK": str(args.out.resolve()), "LNNLIB_BOOK_PAGES": "all"}
        test = [sys.executable, "-m", "pytest", str(ROOT / "tests" / "test_book.py")]
        return subprocess.run(test, env=env, cwd=ROOT).returncode
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
