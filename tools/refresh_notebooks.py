"""Re-execute course notebooks top to bottom in a fresh kernel and store their outputs.

    python tools/refresh_notebooks.py                      # every notebook
    python tools/refresh_notebooks.py notebooks/03_*.ipynb # some

Widget state (`metadata.widgets`, the demos' PNG frames: about 0.5 MB per run) and the cells' execution
timestamps are dropped: the demos are rebuilt when the notebook runs, and nbval compares neither.
"""

from __future__ import annotations

import pathlib
import sys
import time

import nbformat
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parents[1]


def refresh(path: pathlib.Path) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - start
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:  # execution timestamps only make every refresh a diff
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)
    return seconds


def main(argv: list[str]) -> int:
    paths = [pathlib.Path(p) for p in argv] or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for path in paths:
        print(f"{path.name}: {refresh(path):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
