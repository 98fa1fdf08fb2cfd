"""What nbval cannot see: stored outputs that would differ on another machine, or were not made top to bottom."""

import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# A magnitude of 1e-13 or below is rounding level for the course's O(1) quantities: its digits, and its power of
# ten, change with the CPU's BLAS kernel (CONTRIBUTING.md, "Portable outputs"). Noise floors such as "0 (below 1e-12)"
# and bounds or tolerances such as "< 1e-20" or "<= 1e-12" are fine: they do not move.
# A cell may print tiny numbers that are values, not noise (a product of eight small matrices has full relative
# precision): it says so with this comment and why, and the portability check keeps it honest.
VALUES_NOT_NOISE = "# tiny values here are not rounding noise:"
ROUNDING_LEVEL = re.compile(r"(?<!< )(?<!<= )(?<![\d.])\d(?:\.\d+)?e-(?:1[3-9]|[2-9]\d|\d{3})\b")


def _text(output) -> str:
    text = output.get("text", "")
    text = "".join(text) if isinstance(text, list) else text
    plain = output.get("data", {}).get("text/plain", "")
    return text + ("".join(plain) if isinstance(plain, list) else plain)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_outputs_print_nothing_at_rounding_level(path):
    nb = json.loads(path.read_text())
    hits = []
    for i, cell in enumerate(nb["cells"]):
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or "NBVAL_IGNORE_OUTPUT" in source or VALUES_NOT_NOISE in source:
            continue
        for output in cell.get("outputs", []):
            for match in ROUNDING_LEVEL.finditer(_text(output)):
                hits.append(f"cell {i}: ...{_text(output)[max(0, match.start() - 50) : match.end()]}")
    assert not hits, "rounding-level magnitudes in stored outputs:\n" + "\n".join(hits)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_executed_top_to_bottom_without_unexpected_errors(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert [c.get("execution_count") for c in code] == list(range(1, len(code) + 1))
    for cell in code:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                # only an exercise stub may stop with an error, and only with NotImplementedError
                assert "raises-exception" in cell.get("metadata", {}).get("tags", []), "".join(cell["source"])[:200]
                assert output.get("ename") == "NotImplementedError", output.get("ename")
