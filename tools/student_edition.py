"""Write the student edition of the course: every notebook without its worked solutions.

    python tools/student_edition.py              # notebooks/*.ipynb -> student/*.ipynb
    python tools/student_edition.py --out DIR    # somewhere else

Cells tagged ``solution`` (each exercise's collapsed "Solution" heading and its solution cell) are removed
with nbconvert's TagRemovePreprocessor; everything else, stored outputs included, is kept, so the edition
reads like the course and every exercise's check cell says "not attempted yet" until the student answers.
`student/` is ignored by git: build it when you hand the course out.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import nbformat
from nbconvert.preprocessors import TagRemovePreprocessor

ROOT = pathlib.Path(__file__).resolve().parents[1]


def student_notebook(path: pathlib.Path) -> nbformat.NotebookNode:
    """The notebook at ``path`` without its ``solution`` cells."""
    nb = nbformat.read(path, as_version=4)
    remover = TagRemovePreprocessor(remove_cell_tags={"solution"}, enabled=True)
    nb, _ = remover.preprocess(nb, {})
    return nb


def build(out: pathlib.Path, sources: list[pathlib.Path]) -> list[pathlib.Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sources:
        target = out / path.name
        nbformat.write(student_notebook(path), target)
        written.append(target)
    return written


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "student", help="output folder (default: student/)")
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path, help="default: every notebook of the course")
    args = parser.parse_args(argv)
    sources = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for target in build(args.out, sources):
        print(target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
