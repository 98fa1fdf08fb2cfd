r"""Offline regression data for the optimization notebooks, and a loader for the UCI data of [ACH18].

* :func:`diabetes_regression` -- the 442 x 10 diabetes data that ships inside scikit-learn (no download),
  the stand-in used in the notebooks.
* :func:`standardize`, :func:`preprocess` -- zero-mean unit-variance features (or whitened ones,
  :func:`lnnlib.whiten`) and a standardized target.
* :func:`load_gas_sensor_drift` -- the UCI "Gas Sensor Array Drift at Different Concentrations" files
  ``batch1.dat`` ... ``batch10.dat`` that [ACH18]'s experiments used (Ethanol: gas class 1, 2565 examples,
  128 features, target = concentration). It reads a folder or a zip/tar archive that the user
  downloaded; it never downloads anything itself.
"""

from __future__ import annotations

import io
import os
import re
import tarfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ._validation import as_array, as_matrix, check_int, guard
from .losses import whiten

__all__ = [
    "diabetes_regression",
    "standardize",
    "preprocess",
    "parse_gas_sensor_lines",
    "load_gas_sensor_drift",
    "GAS_SENSOR_FEATURES",
    "GAS_NAMES",
]

GAS_SENSOR_FEATURES = 128
GAS_NAMES = {1: "Ethanol", 2: "Ethylene", 3: "Ammonia", 4: "Acetaldehyde", 5: "Acetone", 6: "Toluene"}
_BATCH_RE = re.compile(r"(?:^|/)batch(\d+)\.dat$")


def diabetes_regression() -> tuple[np.ndarray, np.ndarray]:
    r"""Return the raw diabetes regression data $(X, y)$: 442 patients, 10 features, a disease score.

    Ships with scikit-learn (``sklearn.datasets.load_diabetes(scaled=False)``, Efron et al. 2004), so the
    notebooks run offline. Chosen over the other bundled sets because it is a real regression problem
    whose features have very different scales and correlations -- the ill-conditioning that an
    adaptive preconditioner can exploit -- and is small enough for grids of thousands of GD steps.
    """
    from sklearn.datasets import load_diabetes

    data = load_diabetes(scaled=False)
    return np.asarray(data.data, dtype=float), np.asarray(data.target, dtype=float)


@guard
def standardize(X) -> np.ndarray:
    r"""Return $X$ with every column centred and scaled to unit variance: $(x_{ij} - \mu_j)/\sigma_j$."""
    X = as_matrix(X, "the inputs X")
    top = float(np.abs(X).max())
    if top > 1e150 or 0 < top < 1e-150:  # standardizing is scale-free: bring extreme data to unit size first
        X = X / top
    sd = X.std(axis=0)
    flat = np.flatnonzero(sd <= 1e-12 * max(1.0, float(np.abs(X).max())))
    if flat.size:
        raise ValueError(f"cannot standardize X: feature {int(flat[0])} is constant (zero variance)")
    return (X - X.mean(axis=0)) / sd


@guard
def preprocess(X, y, features: str = "standardized") -> tuple[np.ndarray, np.ndarray]:
    r"""Return ``(X, y)`` ready for a regression without intercept.

    ``features="standardized"``: each feature centred with unit variance (correlations kept);
    ``features="whitened"``: centred with $\frac1m X^\top X = I$ ([ACGH19]'s setting). The target is
    centred and divided by its standard deviation in both cases.
    """
    X = as_matrix(X, "the inputs X")
    y = as_array(y, "the targets y", what="vector", empty=True).astype(float, copy=False)
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"y must be a vector with one target per example (row of X, {X.shape[0]}); got shape {y.shape}"
        )
    if not np.all(np.isfinite(y)):
        raise ValueError("the targets y must be finite")
    if features == "standardized":
        Xp = standardize(X)
    elif features == "whitened":
        Xp = whiten(X)
    else:
        raise ValueError(f"features must be 'standardized' or 'whitened'; got {features!r}")
    top = float(np.abs(y).max())
    if top > 1e150 or 0 < top < 1e-150:  # (y - mean) / sd is scale-free: bring an extreme target to unit size
        y = y / top
    sd = y.std()
    if sd == 0:
        raise ValueError("the target y is constant: nothing to regress")
    return Xp, (y - y.mean()) / sd


def parse_gas_sensor_lines(lines, source: str = "<lines>") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Parse lines ``class;concentration 1:v1 2:v2 ... 128:v128`` of the UCI gas sensor files.

    Returns ``(X, concentration, gas)`` with ``X`` of shape ``(m, 128)``. Blank lines are skipped; any
    other line that does not have this form raises ValueError naming ``source`` and the line number.
    """
    if lines is None or isinstance(lines, (str, bytes)) or not hasattr(lines, "__iter__"):
        raise ValueError(
            f"lines must be an iterable of text lines (a list, or a file opened for reading), not "
            f"{type(lines).__name__}; split one string with text.splitlines()"
        )
    rows, conc, gas = [], [], []
    for number, raw in enumerate(lines, start=1):
        line = raw.decode("ascii", errors="replace") if isinstance(raw, bytes) else raw
        if not isinstance(line, str):
            raise ValueError(f"{source}, line {number}: expected a line of text, got {type(raw).__name__} {raw!r}")
        line = line.strip()
        if not line:
            continue
        where = f"{source}, line {number}"
        head, _, rest = line.partition(" ")
        try:
            label, value = head.split(";")
            label, value = int(label), float(value)
        except ValueError:
            raise ValueError(f"{where}: expected 'class;concentration' first, got {head[:40]!r}") from None
        if label not in GAS_NAMES:
            raise ValueError(f"{where}: gas class must be 1..6, got {label}")
        x = np.full(GAS_SENSOR_FEATURES, np.nan)
        seen = set()
        for item in rest.split():
            k, sep, v = item.partition(":")
            try:
                k, v = int(k), float(v)
            except ValueError:
                raise ValueError(f"{where}: expected 'index:value' features, got {item[:40]!r}") from None
            if not sep or not 1 <= k <= GAS_SENSOR_FEATURES:
                raise ValueError(f"{where}: feature index must be 1..{GAS_SENSOR_FEATURES}, got {item[:40]!r}")
            if k in seen:
                raise ValueError(f"{where}: feature {k} is given twice")
            seen.add(k)
            x[k - 1] = v
        missing = np.flatnonzero(np.isnan(x))
        if missing.size:
            raise ValueError(
                f"{where}: {missing.size} of the {GAS_SENSOR_FEATURES} features are missing (first: {missing[0] + 1})"
            )
        if not (np.all(np.isfinite(x)) and np.isfinite(value)):
            raise ValueError(f"{where}: non-finite value")
        rows.append(x)
        conc.append(value)
        gas.append(label)
    X = np.array(rows).reshape(-1, GAS_SENSOR_FEATURES)
    return X, np.array(conc, dtype=float), np.array(gas, dtype=int)


def _batch_members(path: Path):
    """Yield ``(batch number, name, opener)`` for every ``batchK.dat`` in a folder or an archive."""
    if path.is_dir():
        for f in sorted(path.rglob("batch*.dat")):
            m = _BATCH_RE.search(f.as_posix())
            if m:
                yield int(m.group(1)), str(f), (lambda f=f: f.open("rb"))
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                m = _BATCH_RE.search(name)
                if m:
                    data = z.read(name)
                    yield int(m.group(1)), f"{path}:{name}", (lambda data=data: io.BytesIO(data))
    elif tarfile.is_tarfile(path):
        with tarfile.open(path) as t:
            for member in t.getmembers():
                m = _BATCH_RE.search(member.name)
                if m and member.isfile():
                    data = t.extractfile(member).read()
                    yield int(m.group(1)), f"{path}:{member.name}", (lambda data=data: io.BytesIO(data))
    else:
        raise ValueError(f"{path} is neither a folder nor a zip/tar archive holding batch1.dat ... batch10.dat")


def load_gas_sensor_drift(source, gas: int = 1, batches=range(1, 11)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Return ``(X, y, batch)`` for one gas of UCI "Gas Sensor Array Drift at Different Concentrations".

    [ACH18]'s experiments regress the concentration of Ethanol (``gas=1``) on the 128 sensor features:
    2565 examples in the full set (batches 1-10). ``source`` is a folder (searched recursively) or a
    ``.zip``/``.tar``/``.tar.gz`` archive containing the files ``batchK.dat``, each line
    ``class;concentration 1:v1 ... 128:v128``. The data is not shipped and never downloaded: get it from
    the UCI Machine Learning Repository yourself.

    Returns
    -------
    X : (m, 128) array of features; y : (m,) concentrations; batch : (m,) batch number of each example.

    Raises
    ------
    FileNotFoundError
        If ``source`` does not exist or lacks one of the requested batch files.
    ValueError
        If a file is malformed (the message names file and line; a repeated feature index is malformed),
        an archive is broken or truncated, ``batches`` is not a list of distinct numbers 1..10, ``gas`` is
        not 1..6, or the gas has no examples.
    """
    if isinstance(gas, bool) or not isinstance(gas, (int, np.integer)) or gas not in GAS_NAMES:
        raise ValueError(
            f"gas must be a class 1..6 ({', '.join(f'{k}={v}' for k, v in GAS_NAMES.items())}); got {gas!r}"
        )
    if batches is None or isinstance(batches, (str, bytes)) or not hasattr(batches, "__iter__"):
        raise ValueError(f"batches must be a list of batch numbers 1..10; got {batches!r}")
    listed = [check_int(b, "each batch number", low=1, high=10) for b in batches]
    if not listed:
        raise ValueError("batches is empty: list the batch numbers 1..10 to load")
    twice = sorted({b for b in listed if listed.count(b) > 1})
    if twice:
        raise ValueError(f"batches lists batch {twice[0]} more than once")
    wanted = sorted(listed)
    if not isinstance(source, (str, os.PathLike)):
        raise ValueError(
            f"source must be the path (str or pathlib.Path) of a folder or a zip/tar archive; got {source!r}"
        )
    path = Path(os.fspath(source)).expanduser()
    if not path.exists():
        raise FileNotFoundError(
            f"no gas sensor data at {path}: download 'Gas Sensor Array Drift Dataset at Different Concentrations' "
            "from the UCI Machine Learning Repository and pass the folder or the archive holding "
            "batch1.dat ... batch10.dat"
        )
    found: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    try:
        for k, name, opener in _batch_members(path):
            if k in wanted and k not in found:
                with opener() as fh:
                    found[k] = parse_gas_sensor_lines(fh, source=name)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise ValueError(
            f"{path} is a broken or truncated archive (reading it raised {type(exc).__name__}); download it again"
        ) from None
    missing = [k for k in wanted if k not in found]
    if missing:
        raise FileNotFoundError(f"{path} lacks batch files: {', '.join(f'batch{k}.dat' for k in missing)}")
    Xs, ys, bs = [], [], []
    for k in wanted:
        X, c, g = found[k]
        keep = g == gas
        Xs.append(X[keep])
        ys.append(c[keep])
        bs.append(np.full(int(keep.sum()), k))
    X, y, b = np.concatenate(Xs), np.concatenate(ys), np.concatenate(bs)
    if X.shape[0] == 0:
        raise ValueError(f"no examples of gas {gas} ({GAS_NAMES[gas]}) in batches {wanted}")
    return X, y, b
