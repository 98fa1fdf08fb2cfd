"""The files a new user and CI rely on: README commands, environment.yml, CI script, notebook list."""

import fnmatch
import pathlib
import re
import tomllib

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]


def readme_block(marker):
    text = (ROOT / "README.md").read_text()
    match = re.search(rf"<!-- {marker} -->\s*```bash\n(.+?)\n```", text, re.S)
    assert match, f"README has no block after <!-- {marker} -->"
    return match.group(1).strip()


def test_readme_has_the_two_commands_and_they_use_the_pinned_constraints():
    open_cmd, test_cmd = readme_block("open-command"), readme_block("test-command")
    for cmd in (open_cmd, test_cmd):
        assert cmd.startswith("python3 -m venv .venv")
        assert "-c constraints.txt" in cmd
    assert "jupyter lab notebooks/" in open_cmd
    assert '-e ".[test]"' in test_cmd and test_cmd.endswith("python -m pytest")


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "<!-- test-command -->" in ci and "mktemp -d" in ci


def test_environment_yml_installs_this_package_and_repeats_no_dependency():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    pip = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    assert pip == ['-e ".[test]"'] or pip == ["-e .[test]"]
    conda_names = {re.split(r"[=<>]", d)[0] for d in deps if isinstance(d, str)}
    assert conda_names == {"python", "pip"}, "dependencies belong in pyproject.toml only"


def test_every_pinned_dependency_is_in_the_constraints_file():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["test"]
    pinned = {
        line.split("==")[0].lower().replace("_", "-")
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line
    }
    for requirement in wanted:
        name = re.split(r"[<>=\[ ]", requirement)[0].lower()
        assert name in pinned, f"{name} is not pinned in constraints.txt"


def test_readme_lists_every_notebook_in_order():
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    listed = re.findall(r"`(\d\d_[a-z_]+)`", (ROOT / "README.md").read_text())
    assert notebooks, "no notebooks found"
    assert [n for n in listed if n in notebooks] == notebooks


def test_code_and_notebooks_pass_ruff():
    # STYLE: ruff lint and format, notebooks included (pyproject's [tool.ruff] extends to *.ipynb)
    import subprocess
    import sys

    for args in (["check", "."], ["format", "--check", "."]):
        done = subprocess.run([sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, f"ruff {' '.join(args)}:\n{done.stdout}{done.stderr}"


def test_public_names_are_unique_across_modules():
    # lnnlib re-exports every module's __all__ with star imports: a name in two modules would shadow silently
    import lnnlib

    assert len(lnnlib.__all__) == len(set(lnnlib.__all__))
    contract = """end_to_end layer_gradients balancedness_gaps balanced_init psd_power preconditioned_gradient
    preconditioner singular_value_velocity effective_rank reconstruction_error nuclear_norm_minimization
    low_rank_matrix sample_mask complete_matrix""".split()
    assert set(contract) <= set(lnnlib.__all__)


def test_every_subpackage_of_lnnlib_is_packaged():
    # a non-editable install (pip install .) ships only what setuptools finds: every lnnlib/ subpackage must match
    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = [".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "lnnlib").rglob("__init__.py")]
    assert "lnnlib.demos" in packages and "lnnlib.exercises" in packages
    for name in packages:
        assert any(fnmatch.fnmatch(name, pattern) for pattern in include), f"{name} is not packaged"
