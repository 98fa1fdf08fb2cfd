"""Run strict nbval over the notebooks under every CPU kernel this machine can imitate, and print a table.

    python tools/check_portability.py                          # .venv's Python, every kernel, notebooks only
    python tools/check_portability.py --tests                  # the unit tests too (the browser test skipped)
    python tools/check_portability.py --python /path/py3.13/bin/python --python .venv/bin/python
    python tools/check_portability.py notebooks/03_end_to_end_dynamics.ipynb

Stored outputs must be identical on every CPU: numpy's OpenBLAS picks a kernel per CPU and numpy dispatches
SIMD loops per CPU, and each changes the last digits of a result. This script imitates other machines on
this one: ``OPENBLAS_CORETYPE=NAME`` forces an OpenBLAS kernel (the script checks with threadpoolctl that it
really switched: an unknown name falls back silently), and ``NPY_DISABLE_CPU_FEATURES`` turns numpy's own
SIMD dispatch off. Run it before committing changed outputs. It is a tool, never part of the tests or CI:
some machines preset OPENBLAS_CORETYPE because older OpenBLAS builds misbehave there, and tests must leave
it as it is.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

ROOT = pathlib.Path(__file__).resolve().parents[1]
# OpenBLAS kernels to force, and the names threadpoolctl reports for each (Prescott's generic kernel reports
# itself as Katmai in the builds numpy ships)
KERNELS = {
    "Haswell": {"Haswell"},
    "SkylakeX": {"SkylakeX"},
    "SandyBridge": {"Sandybridge", "SandyBridge"},
    "Nehalem": {"Nehalem"},
    "Prescott": {"Prescott", "Katmai"},
}
SIMD_OFF = "X86_V3 X86_V4 AVX512_ICL AVX512_SPR"
PROBE = (
    "import numpy, threadpoolctl, sys; "
    "info = [i for i in threadpoolctl.threadpool_info() if i['internal_api'] == 'openblas']; "
    "print(info[0].get('architecture') if info else 'none', sys.version.split()[0])"
)


def configs(kernels: list[str], simd_off: bool) -> list[tuple[str, dict[str, str]]]:
    out = [("default", {})]
    out += [(name, {"OPENBLAS_CORETYPE": name}) for name in kernels]
    if simd_off:
        out.append(("numpy SIMD off", {"NPY_DISABLE_CPU_FEATURES": SIMD_OFF}))
    return out


def probe(python: str, env: dict[str, str]) -> tuple[str, str]:
    res = subprocess.run([python, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    arch, version = res.stdout.split()
    return arch, version


def run(python: str, name: str, extra: dict[str, str], targets: list[str]) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "NPY_DISABLE_CPU_FEATURES")}
    env.update(extra, MPLBACKEND="Agg", PYTHONHASHSEED="0")
    arch, version = probe(python, env)
    if name in KERNELS and arch not in KERNELS[name]:
        return {"config": name, "python": version, "arch": arch, "skipped": f"fell back to {arch}"}
    with tempfile.TemporaryDirectory() as tmp:
        report = pathlib.Path(tmp) / "junit.xml"
        cmd = [python, "-m", "pytest", "-q", f"--junitxml={report}", *targets]
        if any(t.startswith("tests") for t in targets):
            cmd += ["--deselect", "tests/test_browser.py"]
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        failed: dict[str, list[str]] = {}
        total: dict[str, int] = {}
        if report.exists():
            for case in ET.parse(report).getroot().iter("testcase"):
                where = case.get("file") or case.get("classname", "?")  # notebooks.03_x.ipynb or tests.test_x
                key = where.replace(".", "/", 1) if where.endswith(".ipynb") else "tests/ (unit)"
                total[key] = total.get(key, 0) + 1
                if case.find("failure") is not None or case.find("error") is not None:
                    failed.setdefault(key, []).append(case.get("name", "?"))
    return {
        "config": name,
        "python": version,
        "arch": arch,
        "seconds": seconds,
        "returncode": proc.returncode,
        "failed": failed,
        "total": total,
        "tail": proc.stdout[-2000:] + proc.stderr[-2000:],
    }


def table(results: list[dict]) -> str:
    files = sorted({f for r in results for f in r.get("total", {})})
    cols = [f"{r['config']} / py{r['python']}" for r in results]
    width = max(len(f) for f in files) if files else 10
    lines = [f"{'':{width}}  " + "  ".join(f"{c:>{max(len(c), 8)}}" for c in cols)]
    kernels = [f"({r['arch']})" for r in results]
    lines.append(
        f"{'BLAS kernel':{width}}  " + "  ".join(f"{k:>{max(len(c), 8)}}" for k, c in zip(kernels, cols, strict=True))
    )
    for f in files:
        row = []
        for r, c in zip(results, cols, strict=True):
            if "skipped" in r:
                cell = "skipped"
            elif f not in r["total"]:
                cell = "-"
            else:
                n = len(r["failed"].get(f, []))
                cell = "pass" if n == 0 else f"FAIL {n}"
            row.append(f"{cell:>{max(len(c), 8)}}")
        lines.append(f"{f:{width}}  " + "  ".join(row))
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="*", help="notebooks or test paths (default: notebooks/)")
    parser.add_argument("--python", action="append", help="interpreter of a venv with lnnlib[test] (repeatable)")
    parser.add_argument("--kernels", default=",".join(KERNELS), help="OpenBLAS kernels to force, comma-separated")
    parser.add_argument("--no-simd-off", action="store_true", help="skip the run with numpy's SIMD dispatch off")
    parser.add_argument("--tests", action="store_true", help="run the unit tests too (the browser test is skipped)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once (each notebook uses one BLAS thread)")
    args = parser.parse_args(argv)
    pythons = args.python or [str(ROOT / ".venv" / "bin" / "python")]
    kernels = [k for k in args.kernels.split(",") if k]
    unknown = set(kernels) - set(KERNELS)
    if unknown:
        parser.error(f"unknown kernels {sorted(unknown)}; known: {', '.join(KERNELS)}")
    targets = args.targets or ["notebooks"]
    if args.tests:
        targets = [*targets, "tests"]
    jobs = [(py, name, extra) for py in pythons for name, extra in configs(kernels, not args.no_simd_off)]
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(lambda job: run(job[0], job[1], job[2], targets), jobs))
    print(table(results))
    bad = False
    for r in results:
        if "skipped" in r:
            print(f"\n{r['config']} (py{r['python']}): skipped, OpenBLAS {r['skipped']}")
            continue
        for f, names in r["failed"].items():
            bad = True
            print(f"\n{r['config']} (py{r['python']}, {r['arch']}): {f}: {', '.join(names)}")
        if r["returncode"] not in (0,) and not r["failed"]:
            bad = True
            print(f"\n{r['config']} (py{r['python']}): pytest exited {r['returncode']}\n{r['tail']}")
    print(f"\n{len(results)} runs in {time.perf_counter() - start:.0f} s: {'SOME FAILED' if bad else 'all pass'}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
