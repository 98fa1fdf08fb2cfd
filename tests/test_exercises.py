"""The exercise convention (CONTRIBUTING.md, "Exercises"), the feedback tools, and the student edition."""

import importlib
import json
import pathlib
import re
import sys

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from lnnlib import exercises as E

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
HEADING = re.compile(r"^### Exercise (\d+)\.(\d+)\b")


def _tags(cell):
    return set(cell.get("metadata", {}).get("tags", []))


def _text(cell):
    out = []
    for o in cell.get("outputs", []):
        t = o.get("text", "")
        out.append("".join(t) if isinstance(t, list) else t)
    return "".join(out)


def _exercises(nb):
    """Yield (label, [question, stub, check, solution heading, solution]) for every exercise of a notebook."""
    cells = nb["cells"]
    for i, cell in enumerate(cells):
        src = "".join(cell["source"])
        m = HEADING.match(src)
        if cell["cell_type"] == "markdown" and m:
            yield f"{int(m.group(1))}.{int(m.group(2))}", cells[i : i + 5]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_exercise_follows_the_convention(path):
    nb = json.loads(path.read_text())
    number = int(path.name[:2])
    found = list(_exercises(nb))
    if number <= 9:
        assert len(found) >= 2, f"{path.name}: notebooks 00-09 have at least two exercises; found {len(found)}"
    labels = [label for label, _ in found]
    assert labels == [f"{number}.{k}" for k in range(1, len(found) + 1)], f"numbered in order: {labels}"
    for label, block in found:
        assert len(block) == 5, f"Exercise {label}: question, stub, check, solution heading, solution"
        question, stub, check, heading, solution = block
        stub_src, check_src = "".join(stub["source"]), "".join(check["source"])
        # the student's cell: placeholders, then a NotImplementedError that says what to fill in
        assert stub["cell_type"] == "code" and "raises-exception" in _tags(stub), f"Exercise {label}: stub tag"
        assert "..." in stub_src, f"Exercise {label}: the stub has ... placeholders"
        assert stub_src.rstrip().splitlines()[-1].lstrip().startswith("raise NotImplementedError("), label
        errors = [o for o in stub.get("outputs", []) if o.get("output_type") == "error"]
        assert [o["ename"] for o in errors] == ["NotImplementedError"], f"Exercise {label}: stored stub output"
        # the check: feedback from lnnlib, which says "not attempted yet" on the untouched stub
        assert check["cell_type"] == "code" and "check_" in check_src and "solution" not in _tags(check), label
        assert f"Exercise {label}: not attempted yet" in _text(check), f"Exercise {label}: check cell output"
        # the solution: a collapsed heading and a hidden cell, both tagged, executed, and checked "correct"
        assert heading["cell_type"] == "markdown" and "solution" in _tags(heading), f"Exercise {label}: heading"
        assert "".join(heading["source"]).startswith(f"#### Solution to Exercise {label}"), label
        assert heading["metadata"].get("jp-MarkdownHeadingCollapsed") is True, f"Exercise {label}: collapsed"
        assert solution["cell_type"] == "code" and {"solution", "hide-cell"} <= _tags(solution), label
        assert solution["metadata"].get("jupyter") == {"source_hidden": True, "outputs_hidden": True}, label
        assert "".join(solution["source"]).startswith(f"# Solution to Exercise {label}"), label
        assert f"Exercise {label}: correct." in _text(solution), f"Exercise {label}: the solution passes its check"
    # a collapsed heading hides everything up to the next heading: what follows a solution must be one
    cells = nb["cells"]
    for i, cell in enumerate(cells[:-1]):
        if "solution" in _tags(cell) and cell["cell_type"] == "code":
            nxt = cells[i + 1]
            assert nxt["cell_type"] == "markdown" and re.match(r"#{1,4} ", "".join(nxt["source"])), (
                f"{path.name} cell {i + 1} follows a solution: it must start with a heading of level 1-4"
            )
    # no worked answer outside the hidden cells
    for i, cell in enumerate(cells):
        if "solution" not in _tags(cell):
            assert not re.search(r"(?i)\*\*solution|^#+ solution", "".join(cell["source"]), re.M), (
                f"{path.name} cell {i}: a solution outside the hidden solution cells"
            )


def test_every_notebook_has_its_checker_module():
    for path in NOTEBOOKS:
        if list(_exercises(json.loads(path.read_text()))):
            module = importlib.import_module(f"lnnlib.exercises.nb{path.name[:2]}")
            assert module.__doc__, module.__name__


def test_student_edition_runs_clean(tmp_path):
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import student_edition
    finally:
        sys.path.pop(0)
    for path in student_edition.build(tmp_path, NOTEBOOKS):
        nb = nbformat.read(path, as_version=4)
        assert not [c for c in nb.cells if "solution" in c.metadata.get("tags", [])], path.name
        assert not re.search(r"^#+ Solution to Exercise", "\n".join(c.source for c in nb.cells), re.M), path.name
        # run top to bottom in a fresh kernel: only the stubs may raise (nbclient honours raises-exception)
        NotebookClient(
            nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "notebooks")}}
        ).execute()
        for cell in nb.cells:
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            if errors:
                assert "raises-exception" in cell.metadata.get("tags", []), f"{path.name}: {cell.source[:80]}"
                assert [o["ename"] for o in errors] == ["NotImplementedError"], f"{path.name}: {cell.source[:80]}"
        for label, block in _exercises(nb):
            assert f"Exercise {label}: not attempted yet" in _text(block[2]), f"{path.name} Exercise {label}"


# ---- the feedback tools ----------------------------------------------------------------------------------------


def test_check_array_recognizes_right_wrong_and_junk():
    expected = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert E.check_array("1.1", expected.copy(), expected) == "Exercise 1.1: correct."
    assert "not attempted yet" in E.check_array("1.1", ..., expected)
    assert "not attempted yet" in E.check_array("1.1", [..., 1.0], expected)
    wrong_exponent = expected**2
    hint = "did you use 2(N-j)/N?"
    assert E.check_array("1.1", wrong_exponent, expected, mistakes={hint: wrong_exponent}).endswith(hint)
    assert "transpose" in E.check_array("1.1", expected.T, expected)
    assert "shape (3,)" in E.check_array("1.1", [1.0, 2.0, 3.0], expected)
    assert "NaN" in E.check_array("1.1", [[np.nan, 2.0], [3.0, 4.0]], expected)
    assert "wrong sign" in E.check_array("1.1", -expected, expected)
    assert "constant factor" in E.check_array("1.1", 2 * expected, expected)
    assert "different values" in E.check_array("1.1", expected + [[0.0, 1.0], [0.0, 0.0]], expected)
    for junk in ("abc", {"a": 1}, [[1, 2], [3]], 1j * expected, object()):
        message = E.check_array("1.1", junk, expected)
        assert message.startswith("Exercise 1.1: ") and "correct." not in message, junk
    assert "None" in E.check_array("1.1", None, expected)
    # never the answer itself
    assert "4.0" not in E.check_array("1.1", expected + 1, expected)


def test_sympy_answers_are_numbers():
    sp = pytest.importorskip("sympy")
    assert E.check_number("4.1", sp.Rational(1, 2), 0.5) == "Exercise 4.1: correct."
    assert E.check_array("4.1", sp.Matrix([[1, 2], [3, 4]]), [[1.0, 2.0], [3.0, 4.0]]) == "Exercise 4.1: correct."
    assert "not an array of numbers" in E.check_number("4.1", sp.Symbol("x"), 0.5)


def test_check_array_unordered_compares_as_sets():
    assert E.check_array("2.1", [3.0, 1.0, 2.0], [1.0, 2.0, 3.0], ordered=False) == "Exercise 2.1: correct."
    assert E.check_array("2.1", [3.0, 1.0, 2.0], [1.0, 2.0, 3.0]) != "Exercise 2.1: correct."


def test_check_number_and_choice():
    assert E.check_number("3.1", 0.5, 0.5) == "Exercise 3.1: correct."
    assert E.check_number("3.1", 0.25, 0.5, mistakes={"squared?": 0.25}).endswith("squared?")
    assert "one number" in E.check_number("3.1", [0.5, 0.5], 0.5)
    assert "not attempted" in E.check_number("3.1", ..., 0.5)
    wrong = {"b": "b holds only at depth 2"}
    assert E.check_choice("3.2", "a", "a", wrong) == "Exercise 3.2: correct."
    assert E.check_choice("3.2", " A ", "a", wrong) == "Exercise 3.2: correct."
    assert E.check_choice("3.2", "b", "a", wrong).endswith("b holds only at depth 2")
    assert "not one of the options 'a', 'b'" in E.check_choice("3.2", "z", "a", wrong)
    assert "not attempted" in E.check_choice("3.2", ..., "a", wrong)
    for junk in (["a"], np.array(["a"]), 1, None):
        assert "as a string" in E.check_choice("3.2", junk, "a", wrong)
    assert E.check_number("3.1", 0.7, 0.5).endswith("nor one of the mistakes this check knows")  # no "factor"
    assert E.check_number("3.1", 0.7, 0.5, otherwise="solve for t").endswith("not right yet: solve for t")
    assert E.check_number("3.1", "0.5", 0.5).startswith("Exercise 3.1: your answer should be one number")
    with pytest.raises(ValueError, match="exercise label"):
        E.check_number("", 1.0, 1.0)
