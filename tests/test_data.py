"""Tests of lnnlib.data: the offline regression data, preprocessing, and the UCI gas sensor loader on fixtures."""

import tarfile
import zipfile

import numpy as np
import pytest

import lnnlib as L


def _write_fixture(folder, rng, batches=(1, 2, 3), per_batch=6):
    """Write batchK.dat files in the UCI format; return the expected (X, y, gas, batch) of all lines."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for k in batches:
        lines = []
        for _ in range(per_batch):
            gas = int(rng.integers(1, 7))
            conc = float(rng.choice([10.0, 50.0, 250.0]))
            x = rng.normal(scale=1000.0, size=128)
            feats = " ".join(f"{j + 1}:{v:.6f}" for j, v in enumerate(x))
            lines.append(f"{gas};{conc:.6f} {feats}")
            rows.append((np.round(x, 6), conc, gas, k))
        (folder / f"batch{k}.dat").write_text("\n".join(lines) + "\n")
    return rows


def _expected(rows, gas):
    sel = [r for r in rows if r[2] == gas]
    return np.array([r[0] for r in sel]).reshape(-1, 128), np.array([r[1] for r in sel]), np.array([r[3] for r in sel])


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("container", ["folder", "zip", "tar.gz"])
def test_gas_sensor_loader_reads_fixture(tmp_path, seed, container):
    rng = np.random.default_rng(seed)
    rows = _write_fixture(tmp_path / "Dataset", rng)
    if container == "folder":
        source = tmp_path
    elif container == "zip":
        source = tmp_path / "data.zip"
        with zipfile.ZipFile(source, "w") as z:
            for f in (tmp_path / "Dataset").iterdir():
                z.write(f, f"Dataset/{f.name}")
    else:
        source = tmp_path / "data.tar.gz"
        with tarfile.open(source, "w:gz") as t:
            t.add(tmp_path / "Dataset", arcname="Dataset")
    for gas in (1, 2):
        X_exp, y_exp, b_exp = _expected(rows, gas)
        if len(y_exp) == 0:
            with pytest.raises(ValueError, match="no examples"):
                L.load_gas_sensor_drift(source, gas=gas, batches=[1, 2, 3])
            continue
        X, y, b = L.load_gas_sensor_drift(source, gas=gas, batches=[1, 2, 3])
        np.testing.assert_array_equal(X, X_exp)
        np.testing.assert_array_equal(y, y_exp)
        np.testing.assert_array_equal(b, b_exp)


def test_gas_sensor_feature_order_irrelevant(tmp_path):
    x = np.arange(1, 129, dtype=float)
    feats = " ".join(f"{j + 1}:{x[j]}" for j in reversed(range(128)))
    X, c, g = L.parse_gas_sensor_lines([f"1;12.5 {feats}", ""])
    np.testing.assert_array_equal(X[0], x)
    assert c[0] == 12.5 and g[0] == 1


def test_gas_sensor_missing_source(tmp_path):
    with pytest.raises(FileNotFoundError, match="UCI"):
        L.load_gas_sensor_drift(tmp_path / "nowhere")
    _write_fixture(tmp_path / "d", np.random.default_rng(0), batches=(1,))
    with pytest.raises(FileNotFoundError, match="batch2.dat"):
        L.load_gas_sensor_drift(tmp_path / "d", batches=[1, 2])
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not an archive")
    with pytest.raises(ValueError, match="neither a folder nor"):
        L.load_gas_sensor_drift(junk)


@pytest.mark.parametrize(
    "line, message",
    [
        ("1,10.0 1:2.0", "class;concentration"),
        ("9;10.0 " + " ".join(f"{j}:1.0" for j in range(1, 129)), "gas class"),
        ("1;10.0 " + " ".join(f"{j}:1.0" for j in range(1, 128)), "missing"),
        ("1;10.0 0:1.0", "feature index"),
        ("1;10.0 1=2.0", "index:value"),
        ("1;10.0 1:abc", "index:value"),
        ("1;nan " + " ".join(f"{j}:1.0" for j in range(1, 129)), "non-finite"),
    ],
)
def test_gas_sensor_malformed_lines(tmp_path, line, message):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "batch1.dat").write_text(line + "\n")
    with pytest.raises(ValueError, match=message) as info:
        L.load_gas_sensor_drift(folder, batches=[1])
    assert "batch1.dat, line 1" in str(info.value)


@pytest.mark.parametrize("gas", [0, 7, True, 1.5])
def test_gas_sensor_bad_gas(tmp_path, gas):
    with pytest.raises(ValueError, match="gas must be"):
        L.load_gas_sensor_drift(tmp_path, gas=gas)


def test_diabetes_shape_and_offline():
    X, y = L.diabetes_regression()
    assert X.shape == (442, 10) and y.shape == (442,)
    assert np.all(np.isfinite(X)) and np.all(np.isfinite(y))


@pytest.mark.parametrize("seed", [0, 3])
def test_standardize_against_definition(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(50, 4)) * [1, 10, 100, 0.1] + [5, -3, 0, 2]
    Z = L.standardize(X)
    for j in range(4):
        col = X[:, j]
        np.testing.assert_allclose(Z[:, j], (col - np.mean(col)) / np.sqrt(np.mean((col - np.mean(col)) ** 2)))


@pytest.mark.parametrize("features", ["standardized", "whitened"])
def test_preprocess_moments(features):
    X, y = L.diabetes_regression()
    Xp, yp = L.preprocess(X, y, features)
    m = X.shape[0]
    np.testing.assert_allclose(Xp.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(yp.mean(), 0, atol=1e-12)
    np.testing.assert_allclose(yp.std(), 1, atol=1e-12)
    cov = Xp.T @ Xp / m
    if features == "whitened":
        np.testing.assert_allclose(cov, np.eye(10), atol=1e-10)
    else:
        np.testing.assert_allclose(np.diag(cov), 1, atol=1e-12)
        assert np.max(np.abs(cov - np.eye(10))) > 0.5  # the raw correlations survive standardizing


def test_preprocess_bad_inputs():
    X = np.random.default_rng(0).normal(size=(10, 3))
    with pytest.raises(ValueError, match="one target per example"):
        L.preprocess(X, np.ones(9))
    with pytest.raises(ValueError, match="constant"):
        L.preprocess(X, np.ones(10))
    with pytest.raises(ValueError, match="'standardized' or 'whitened'"):
        L.preprocess(X, np.arange(10.0), "scaled")
    with pytest.raises(ValueError, match="finite"):
        L.preprocess(X, np.array([np.nan] + [1.0] * 9))
    X[:, 1] = 4.0
    with pytest.raises(ValueError, match="feature 1 is constant"):
        L.standardize(X)
