"""lnnlib.symbolic against independent computations: numpy evaluations, the numeric core, hand-made cases."""

import numpy as np
import pytest
import sympy as sp

import lnnlib as L

EXACT = 1e-10  # identities that hold up to rounding


def evaluate_word_polynomial(expr, values):
    """Evaluate a polynomial in noncommutative symbols with numpy matrices (letters -> arrays)."""
    total = None
    for term in sp.Add.make_args(sp.expand(expr)):
        coeff, mats = 1.0, []
        for f in sp.Mul.make_args(term):
            if f.is_commutative:
                coeff *= float(f)
            elif isinstance(f, sp.Pow):
                mats += [values[f.base]] * int(f.exp)
            else:
                mats.append(values[f])
        value = coeff * (np.linalg.multi_dot(mats) if len(mats) > 1 else mats[0])
        total = value if total is None else total + value
    return total


def nc_values(nc, weights, G):
    values = {nc.G: G, nc.Gt: G.T}
    for a, b, W in zip(nc.W, nc.T, weights, strict=True):
        values[a], values[b] = W, W.T
    return values


# --- matrix expressions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("N", [1, 2, 3, 4])
def test_symbolic_layer_gradients_match_chain_rule_and_numeric_core(N):
    weights, G, grads = L.symbolic_layer_gradients(N)
    assert len(grads) == N
    for j in range(N):
        after = sp.MatMul(*weights[j + 1 :][::-1]).T if j + 1 < N else None
        before = sp.MatMul(*weights[:j][::-1]).T if j > 0 else None
        formula = sp.MatMul(*[x for x in (after, G, before) if x is not None]).doit()
        assert grads[j] == formula
    # numerically, through the noncommutative translation, against lnnlib.layer_gradients
    rng = np.random.default_rng(N)
    layers = L.gaussian_init([3, 4, 2, 5, 3][: N + 1], 0.8, rng)
    Gnum = rng.standard_normal((layers[-1].shape[0], layers[0].shape[1]))
    nc = L.noncommutative_layers(N)
    expected = L.layer_gradients(layers, Gnum)
    for j in range(N):
        word = L.matrix_to_noncommutative(grads[j], weights, G, nc)
        assert np.abs(evaluate_word_polynomial(word, nc_values(nc, layers, Gnum)) - expected[j]).max() < EXACT


@pytest.mark.parametrize("N", [2, 3, 5])
def test_balancedness_velocity_vanishes_for_gradient_flow(N):
    weights, _, grads = L.symbolic_layer_gradients(N)
    for j in range(1, N):
        assert isinstance(L.balancedness_velocity(weights, grads, j), sp.ZeroMatrix)
    # with the wrong velocities (layer j moved twice as fast) the law is broken
    wrong = list(grads)
    wrong[0] = 2 * grads[0]
    assert not isinstance(L.balancedness_velocity(weights, wrong, 1), sp.ZeroMatrix)


def test_balancedness_velocity_explicit_l2_expands_to_zero():
    layers = L.explicit_layers([2, 2, 2])
    Phi = sp.Matrix([[1, 2], [3, 5]])
    W = layers[1] * layers[0]
    loss = sum((W - Phi).applyfunc(lambda x: x**2)) / 2
    grads = [L.gradient_matrix(loss, M) for M in layers]
    assert L.balancedness_velocity(layers, grads, 1).applyfunc(sp.expand) == sp.zeros(2, 2)
    grads[1] = grads[1] * 2
    assert L.balancedness_velocity(layers, grads, 1).applyfunc(sp.expand) != sp.zeros(2, 2)


def test_balancedness_velocity_rejects_bad_indices():
    weights, _, grads = L.symbolic_layer_gradients(3)
    for j in (0, 3, 1.5, True):
        with pytest.raises(ValueError, match="1..N-1"):
            L.balancedness_velocity(weights, grads, j)
    with pytest.raises(ValueError, match="one gradient per layer"):
        L.balancedness_velocity(weights, grads[:2], 1)


def test_explicit_layers_and_gradient_matrix():
    layers = L.explicit_layers([3, 2, 4])
    assert [M.shape for M in layers] == [(2, 3), (4, 2)]
    symbols = [x for M in layers for x in M]
    assert len(set(symbols)) == len(symbols) == 14
    A = sp.Matrix([[1, 2], [3, 4], [5, 6]])
    # d/dM tr(A M) = A^T
    assert L.gradient_matrix((A * layers[0]).trace(), layers[0]) == A.T
    with pytest.raises(ValueError, match="distinct symbols"):
        L.gradient_matrix(layers[0][0, 0], sp.Matrix([[1, 2]]))
    with pytest.raises(ValueError, match="sympy Matrix"):
        L.gradient_matrix(layers[0][0, 0], "M")
    with pytest.raises(ValueError):
        L.explicit_layers([3])
    with pytest.raises(ValueError):
        L.symbolic_layer_gradients(0)


# --- noncommutative rewriting ----------------------------------------------------------------------------


@pytest.mark.parametrize("N", [1, 2, 3, 4, 5])
def test_rewrite_gives_the_preconditioned_sum(N):
    nc = L.noncommutative_layers(N)
    velocity = L.end_to_end_velocity_words(nc)
    normal = L.balanced_rewrite(velocity, nc)
    A, B = sp.symbols("A B", commutative=False)
    named = L.name_blocks(normal, {(nc.W[-1], nc.T[-1]): A, (nc.T[0], nc.W[0]): B})
    target = -sum((A ** (N - j) * nc.G * B ** (j - 1) for j in range(1, N + 1)), sp.Integer(0))
    assert sp.expand(named - target) == 0
    WWt = L.balanced_rewrite(nc.end_to_end * L.nc_transpose(nc.end_to_end, nc), nc, "up")
    WtW = L.balanced_rewrite(L.nc_transpose(nc.end_to_end, nc) * nc.end_to_end, nc, "down")
    assert L.name_blocks(WWt, {(nc.W[-1], nc.T[-1]): A}) == A**N
    assert L.name_blocks(WtW, {(nc.T[0], nc.W[0]): B}) == B**N


@pytest.mark.parametrize("N", [2, 3, 4])
def test_rewrite_is_valid_exactly_on_balanced_weights(N):
    rng = np.random.default_rng(20 + N)
    nc = L.noncommutative_layers(N)
    velocity = L.end_to_end_velocity_words(nc)
    normal = L.balanced_rewrite(velocity, nc)
    balanced = L.balanced_init([3] + [4] * (N - 1) + [2], rng)
    G = rng.standard_normal((2, 3))
    before = evaluate_word_polynomial(velocity, nc_values(nc, balanced, G))
    after = evaluate_word_polynomial(normal, nc_values(nc, balanced, G))
    assert np.abs(before - after).max() < EXACT
    # the product rule itself: velocity words = -sum_j W_N..W_{j+1} g_j W_{j-1}..W_1
    grads = L.layer_gradients(balanced, G)
    direct = -sum(
        L.end_to_end(balanced[j + 1 :] or [np.eye(2)]) @ grads[j] @ L.end_to_end(balanced[:j] or [np.eye(3)])
        for j in range(N)
    )
    assert np.abs(before - direct).max() < EXACT
    if N >= 3:  # at N = 2 the velocity words are already in normal form: nothing is rewritten
        unbalanced = L.gaussian_init([3] + [4] * (N - 1) + [2], 1.0, rng)
        b = evaluate_word_polynomial(velocity, nc_values(nc, unbalanced, G))
        a = evaluate_word_polynomial(normal, nc_values(nc, unbalanced, G))
        assert np.abs(b - a).max() > 1e-3


def test_nc_transpose_and_errors():
    nc = L.noncommutative_layers(3)
    assert L.nc_transpose(nc.end_to_end, nc) == nc.T[0] * nc.T[1] * nc.T[2]
    expr = 2 * nc.W[0] * nc.G - nc.T[2] ** 2
    assert sp.expand(L.nc_transpose(L.nc_transpose(expr, nc), nc) - expr) == 0
    X = sp.Symbol("X", commutative=False)
    with pytest.raises(ValueError, match="not one of the layer symbols"):
        L.nc_transpose(X * nc.G, nc)
    with pytest.raises(ValueError, match="direction"):
        L.balanced_rewrite(nc.G, nc, "sideways")
    with pytest.raises(ValueError, match="polynomial"):
        L.balanced_rewrite(sp.exp(nc.G), nc)
    with pytest.raises(ValueError, match="1..N"):
        nc.layer_gradient(4)
    with pytest.raises(ValueError, match="noncommutative"):
        L.name_blocks(nc.G, {(nc.G,): sp.Symbol("a")})
    weights, G, grads = L.symbolic_layer_gradients(2)
    with pytest.raises(ValueError, match="depth"):
        L.matrix_to_noncommutative(grads[0], weights, G, nc)
    with pytest.raises(ValueError, match="cannot translate"):
        L.matrix_to_noncommutative(sp.Inverse(G.T * G), weights, G, L.noncommutative_layers(2))


def test_name_blocks_scans_left_to_right():
    a, b = sp.symbols("a b", commutative=False)
    A = sp.Symbol("A", commutative=False)
    assert L.name_blocks(a * b * a * b * a, {(a, b): A}) == A**2 * a
    assert L.name_blocks(3 * b * a, {(a, b): A}) == 3 * b * a


# --- exact matrices --------------------------------------------------------------------------------------


@pytest.mark.parametrize("n, seed", [(1, 0), (2, 1), (3, 2), (4, 3)])
def test_rational_orthogonal_is_exactly_orthogonal(n, seed):
    Q = L.rational_orthogonal(n, rng=seed)
    assert Q.T * Q == sp.eye(n)
    assert all(isinstance(x, sp.Rational) for x in Q)
    assert L.rational_orthogonal(n, rng=seed) == Q


def test_cayley_known_case_and_errors():
    S = sp.Matrix([[0, 1], [-1, 0]])
    assert L.cayley_orthogonal(S) == sp.Matrix([[0, -1], [1, 0]])
    with pytest.raises(ValueError, match="skew-symmetric"):
        L.cayley_orthogonal(sp.Matrix([[0, 1], [1, 0]]))
    with pytest.raises(ValueError, match="square"):
        L.cayley_orthogonal(sp.Matrix([[0, 1, 2]]))
    with pytest.raises(ValueError, match="exact"):
        L.cayley_orthogonal(sp.Matrix([[0, 0.5], [-0.5, 0]]))
    for n in (0, 2.5):
        with pytest.raises(ValueError, match="positive integer"):
            L.rational_orthogonal(n)
    with pytest.raises(ValueError, match="max_entry"):
        L.rational_orthogonal(2, max_entry=0)


@pytest.mark.parametrize("p", [sp.Rational(1, 2), sp.Rational(1, 3), sp.Rational(2, 3), 1, 0])
def test_exact_psd_power_matches_numpy(p):
    Q = L.rational_orthogonal(3, rng=5)
    M = Q * sp.diag(4, 1, 0) * Q.T  # singular, integer spectrum
    Mp = L.exact_psd_power(M, p)
    expected = L.psd_power(np.array(M, dtype=float), float(p))
    assert np.abs(np.array(Mp.evalf(), dtype=float) - expected).max() < EXACT
    if p == sp.Rational(1, 2):
        assert (Mp * Mp - M).applyfunc(sp.simplify) == sp.zeros(3, 3)
    if p == 0:
        assert Mp == sp.eye(3)


def test_exact_psd_power_errors():
    with pytest.raises(ValueError, match="symmetric"):
        L.exact_psd_power(sp.Matrix([[1, 2], [0, 1]]), sp.Rational(1, 2))
    with pytest.raises(ValueError, match="positive semidefinite"):
        L.exact_psd_power(sp.Matrix([[1, 0], [0, -4]]), sp.Rational(1, 2))
    with pytest.raises(ValueError, match="square"):
        L.exact_psd_power(sp.Matrix([[1, 0]]), sp.Rational(1, 2))
    with pytest.raises(ValueError, match="exactly"):
        L.exact_psd_power(sp.eye(2), 0.5)
    with pytest.raises(ValueError, match="nonnegative rational"):
        L.exact_psd_power(sp.eye(2), -1)
    with pytest.raises(ValueError, match="nonnegative rational"):
        L.exact_psd_power(sp.eye(2), sp.sqrt(2))


@pytest.mark.parametrize("N, dN, d0, s", [(1, 2, 2, [3, 1]), (2, 2, 3, [3, 1]), (3, 2, 3, [2, 1]), (3, 3, 2, [8, 0])])
def test_exact_theorem_on_balanced_layers(N, dN, d0, s):
    U, V = L.rational_orthogonal(dN, rng=3), L.rational_orthogonal(d0, rng=4)
    layers = L.exact_balanced_layers(U, s, V, N)
    for j in range(N - 1):
        D = layers[j + 1].T * layers[j + 1] - layers[j] * layers[j].T
        assert D.applyfunc(sp.simplify) == sp.zeros(*D.shape)
    W = L.exact_end_to_end(layers)
    Sigma = sp.zeros(dN, d0)
    for i, x in enumerate(s):
        Sigma[i, i] = x
    assert (W - U * Sigma * V.T).applyfunc(sp.simplify) == sp.zeros(dN, d0)
    G = sp.Matrix(dN, d0, lambda i, k: (i + 2 * k) % 5 - 2)
    velocity = L.exact_end_to_end_velocity(layers, G)
    formula = L.exact_preconditioned_gradient(W, G, N)
    assert (velocity + formula).applyfunc(sp.simplify) == sp.zeros(dN, d0)
    # cross-check with the numeric core
    Wf, Gf = np.array(W.evalf(), dtype=float), np.array(G, dtype=float)
    assert np.abs(np.array(formula.evalf(), dtype=float) - L.preconditioned_gradient(Wf, Gf, N)).max() < 1e-9
    grads = L.exact_layer_gradients(layers, G)
    numeric = L.layer_gradients([np.array(M.evalf(), dtype=float) for M in layers], Gf)
    for a, b in zip(grads, numeric, strict=True):
        assert np.abs(np.array(a.evalf(), dtype=float) - b).max() < 1e-9


# rational rotations and a reflection of the plane (Pythagorean triples): hidden frames that are not diagonal
HIDDEN2 = [sp.Matrix([[3, -4], [4, 3]]) / 5, sp.Matrix([[5, 12], [12, -5]]) / 13, sp.Matrix([[8, -15], [15, 8]]) / 17]


@pytest.mark.parametrize("N, dN, d0, s", [(3, 2, 2, [2, 1]), (4, 2, 3, [3, 2]), (2, 3, 2, [3, 1]), (3, 3, 2, [4, 0])])
def test_hidden_frames_keep_layers_balanced_and_product(N, dN, d0, s):
    U, V = L.rational_orthogonal(dN, rng=3), L.rational_orthogonal(d0, rng=4)
    k = len(s)
    hidden = HIDDEN2[: N - 1]
    layers = L.exact_balanced_layers(U, s, V, N, hidden=hidden)
    for j in range(N - 1):
        D = layers[j + 1].T * layers[j + 1] - layers[j] * layers[j].T
        assert D.applyfunc(sp.simplify) == sp.zeros(*D.shape)
    plain = L.exact_end_to_end(L.exact_balanced_layers(U, s, V, N))
    assert (L.exact_end_to_end(layers) - plain).applyfunc(sp.simplify) == sp.zeros(dN, d0)
    if N >= 3:  # the hidden rotations make a middle layer non-diagonal
        middle = layers[1]
        assert any(middle[i, m] != 0 for i in range(k) for m in range(k) if i != m)
    G = sp.Matrix(dN, d0, lambda i, m: (i + 2 * m) % 5 - 2)
    velocity = L.exact_end_to_end_velocity(layers, G)
    formula = L.exact_preconditioned_gradient(plain, G, N)
    assert (velocity + formula).applyfunc(sp.simplify) == sp.zeros(dN, d0)


def _check_aligned(layers, svds):
    assert len(svds) == len(layers)
    for j, ((U, S, V), W) in enumerate(zip(svds, layers, strict=True)):
        assert U.shape == (W.shape[0],) * 2 and V.shape == (W.shape[1],) * 2 and S.shape == W.shape
        for Q in (U, V):
            assert (Q.T * Q - sp.eye(Q.shape[0])).applyfunc(sp.simplify) == sp.zeros(*Q.shape)
        assert all(S[i, m] == 0 for i in range(S.shape[0]) for m in range(S.shape[1]) if i != m)
        assert (U * S * V.T - W).applyfunc(sp.simplify) == sp.zeros(*W.shape)
        # the diagonal of S_j against numpy's singular values of W_j (an independent computation)
        diag = np.array([float(S[i, i]) for i in range(min(S.shape))])
        assert np.all(diag >= 0)
        expected = np.linalg.svd(np.array(W.evalf(), dtype=float), compute_uv=False)
        assert np.abs(diag - expected).max() < EXACT
        if j:
            assert V == svds[j - 1][0]  # V_{j+1} = U_j


def test_aligned_svds_on_identity_rotation_orthogonal():
    # W_1 = I, W_2 = R, W_3 = O: balanced; one eigenbasis Q_1 = Q_2 = I on both sides would force R diagonal
    R = sp.Matrix([[3, -4], [4, 3]]) / 5
    O = sp.Matrix([[5, 12], [12, -5]]) / 13
    layers = [sp.eye(2), R, O]
    svds = L.exact_aligned_svds(layers)
    _check_aligned(layers, svds)
    assert svds[0][2] == sp.eye(2) and svds[0][0] == sp.eye(2)
    assert svds[1][0] == R and svds[2][0] == O * R  # U_2 = R V_2 = R, U_3 = O V_3 = O R (all singular values 1)


@pytest.mark.parametrize("N, dN, d0, s", [(3, 2, 2, [2, 1]), (4, 2, 3, [3, 2]), (2, 3, 2, [3, 1]), (3, 3, 2, [4, 0])])
def test_aligned_svds_on_rotated_balanced_layers(N, dN, d0, s):
    U, V = L.rational_orthogonal(dN, rng=3), L.rational_orthogonal(d0, rng=4)
    hidden = HIDDEN2[: N - 1]
    layers = L.exact_balanced_layers(U, s, V, N, hidden=hidden)
    _check_aligned(layers, L.exact_aligned_svds(layers, V1=V))


def test_aligned_svds_computes_V1_itself_and_completes_frames():
    # rank one, W_1 is 2 x 2 with a zero singular value: U_1 needs a completed column
    layers = [sp.Matrix([[3, 4], [0, 0]]), sp.Matrix([[3, 0], [4, 0]])]  # W_2^T W_2 = W_1 W_1^T = diag(25, 0)
    _check_aligned(layers, L.exact_aligned_svds(layers))


def test_aligned_svds_errors():
    with pytest.raises(ValueError, match="not balanced"):
        L.exact_aligned_svds([sp.Matrix([[1, 2], [0, 1]]), sp.eye(2)])
    with pytest.raises(ValueError, match="do not chain"):
        L.exact_aligned_svds([sp.eye(2), sp.eye(3)])
    with pytest.raises(ValueError, match="orthogonal"):
        L.exact_aligned_svds([sp.eye(2)], V1=sp.Matrix([[1, 1], [0, 1]]))
    with pytest.raises(ValueError, match="decreasing"):
        L.exact_aligned_svds([sp.diag(1, 2)], V1=sp.eye(2))
    U, V = L.rational_orthogonal(2, rng=3), L.rational_orthogonal(2, rng=4)
    with pytest.raises(ValueError, match="hidden frames"):
        L.exact_balanced_layers(U, [2, 1], V, 3, hidden=[sp.eye(2)])
    with pytest.raises(ValueError, match="orthogonal 2 x 2"):
        L.exact_balanced_layers(U, [2, 1], V, 2, hidden=[sp.Matrix([[1, 1], [0, 1]])])


def test_exact_velocity_differs_from_formula_when_unbalanced():
    layers = [sp.Matrix([[1, 2], [0, 1]]), sp.Matrix([[2, 0], [1, 1]])]
    G = sp.Matrix([[1, 0], [0, -1]])
    W = L.exact_end_to_end(layers)
    assert (W * W.T).is_symmetric()
    # W W^T here has irrational eigenvalues: compare numerically with the numeric formula instead
    velocity = np.array(L.exact_end_to_end_velocity(layers, G), dtype=float)
    formula = L.preconditioned_gradient(np.array(W, dtype=float), np.array(G, dtype=float), 2)
    assert np.abs(velocity + formula).max() > 0.1


def test_exact_layer_errors():
    U, V = L.rational_orthogonal(2, rng=0), L.rational_orthogonal(3, rng=0)
    with pytest.raises(ValueError, match="orthogonal"):
        L.exact_balanced_layers(sp.Matrix([[1, 1], [0, 1]]), [1, 1], V, 2)
    with pytest.raises(ValueError, match="singular values"):
        L.exact_balanced_layers(U, [1, 2, 3], V, 2)
    with pytest.raises(ValueError, match="nonnegative"):
        L.exact_balanced_layers(U, [1, -2], V, 2)
    with pytest.raises(ValueError, match="exact"):
        L.exact_balanced_layers(U, [1.5, 1], V, 2)
    with pytest.raises(ValueError, match="do not chain"):
        L.exact_end_to_end([sp.eye(2), sp.eye(3)])
    with pytest.raises(ValueError, match="at least one layer"):
        L.exact_end_to_end([])
    with pytest.raises(ValueError, match="shape"):
        L.exact_layer_gradients([sp.eye(2)], sp.eye(3))
    with pytest.raises(ValueError, match="shape"):
        L.exact_preconditioned_gradient(sp.eye(2), sp.eye(3), 2)
    with pytest.raises(ValueError, match="depth"):
        L.exact_preconditioned_gradient(sp.eye(2), sp.eye(2), 0)


# --- single-output field ---------------------------------------------------------------------------------

w1, w2 = sp.symbols("w1 w2", real=True)
W_PLANE = (w1, w2)
LOSSES = {
    "linear": 2 * w1 - 3 * w2,
    "anisotropic": (3 * (w1 - 1) ** 2 + (w2 + 2) ** 2) / 2 + w1 * w2 / 3,
    "quartic": (w1 - 1) ** 4 / 4 + w2**2 * w1 / 2,
}


@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("N", [1, 2, 3, 4])
def test_symbolic_field_matches_numeric_field_and_curl_closed_form(name, N):
    loss = LOSSES[name]
    F = L.symbolic_single_output_field(loss, W_PLANE, N)
    f = sp.lambdify(W_PLANE, F, "numpy")
    g = sp.lambdify(W_PLANE, [sp.diff(loss, w1), sp.diff(loss, w2)], "numpy")
    curl = L.symbolic_curl(F, W_PLANE)
    closed = L.curl_closed_form(loss, W_PLANE, N)
    c1, c2 = sp.lambdify(W_PLANE, curl, "numpy"), sp.lambdify(W_PLANE, closed, "numpy")
    for p in ([0.7, -1.3], [1.5, 0.2], [-0.4, 0.9]):
        numeric = L.single_output_field(np.array(p), np.array(g(*p), dtype=float), N)
        assert np.abs(np.array(f(*p), dtype=float) - numeric).max() < EXACT
        assert abs(float(c1(*p)) - float(c2(*p))) < 1e-9


def test_curl_closed_form_for_symbolic_depth():
    N = sp.Symbol("N", positive=True, integer=True)
    loss = sp.Function("l")(w1, w2)
    F = L.symbolic_single_output_field(loss, W_PLANE, N)
    assert sp.simplify(L.symbolic_curl(F, W_PLANE) - L.curl_closed_form(loss, W_PLANE, N)) == 0


def test_symbolic_curl_known_fields():
    assert L.symbolic_curl((-w2, w1), W_PLANE) == 2
    potential = sp.sin(w1) * w2**3
    assert sp.simplify(L.symbolic_curl((sp.diff(potential, w1), sp.diff(potential, w2)), W_PLANE)) == 0


@pytest.mark.parametrize("N", [1, 2, 3, 4])
def test_loop_integral_linear_loss_matches_closed_form(N):
    alpha = sp.Rational(3, 2)
    F = L.symbolic_single_output_field(LOSSES["linear"], W_PLANE, N)
    exact = L.annular_sector_loop_integral(F, W_PLANE, alpha)
    closed = L.linear_loss_loop_integral(np.array([2.0, -3.0]), N, 1.5)
    assert abs(float(exact) - closed) < 1e-10
    legs = L.annular_sector_loop_integral(F, W_PLANE, alpha, legs=True)
    assert len(legs) == 4 and sp.simplify(sum(legs) - exact) == 0


def test_loop_integral_symbolic_depth_and_green():
    N = sp.Symbol("N", positive=True, integer=True)
    a1, a2 = sp.symbols("a1 a2", real=True)
    alpha = sp.Symbol("alpha", positive=True)
    loss = a1 * w1 + a2 * w2
    F = L.symbolic_single_output_field(loss, W_PLANE, N)
    target = (N - 1) * (N - 2) / (3 * N - 2) * (2 ** (3 - 2 / N) - 1) * (a1 * (1 - sp.cos(alpha)) - a2 * sp.sin(alpha))
    assert sp.simplify(L.annular_sector_loop_integral(F, W_PLANE, alpha) - target) == 0
    green = L.sector_curl_integral(L.curl_closed_form(loss, W_PLANE, N), W_PLANE, alpha)
    assert sp.simplify(green - target) == 0


def test_loop_integral_rotation_field_is_twice_the_area_and_gradient_field_zero():
    alpha = sp.Rational(1, 2)
    assert sp.simplify(L.annular_sector_loop_integral((-w2, w1), W_PLANE, alpha, 1, 3) - 8 * alpha) == 0
    assert sp.simplify(L.sector_curl_integral(2, W_PLANE, alpha, 1, 3) - 8 * alpha) == 0
    phi = w1**2 * w2 + w2
    assert L.annular_sector_loop_integral((sp.diff(phi, w1), sp.diff(phi, w2)), W_PLANE, alpha) == 0


def test_is_gradient_of_depth_two_potentials():
    a1, a2, b1, b2 = sp.symbols("a1 a2 b1 b2", real=True)
    r = sp.sqrt(w1**2 + w2**2)
    lin = a1 * w1 + a2 * w2
    assert L.is_gradient_of(L.symbolic_single_output_field(lin, W_PLANE, 2), r * lin, W_PLANE)
    iso = ((w1 - b1) ** 2 + (w2 - b2) ** 2) / 2
    assert L.is_gradient_of(
        L.symbolic_single_output_field(iso, W_PLANE, 2), 2 * r**3 / 3 - r * (b1 * w1 + b2 * w2), W_PLANE
    )
    assert not L.is_gradient_of(L.symbolic_single_output_field(lin, W_PLANE, 3), r * lin, W_PLANE)


def test_field_helpers_reject_bad_inputs():
    with pytest.raises(ValueError, match="pair of sympy symbols"):
        L.symbolic_single_output_field(w1, (w1,), 2)
    with pytest.raises(ValueError, match="depth"):
        L.symbolic_single_output_field(w1, W_PLANE, 0)
    with pytest.raises(ValueError, match="positive"):
        L.symbolic_single_output_field(w1, W_PLANE, sp.Symbol("N"))
    with pytest.raises(ValueError, match="two components"):
        L.symbolic_curl((w1,), W_PLANE)
    with pytest.raises(ValueError, match="r_inner < r_outer"):
        L.annular_sector_loop_integral((w1, w2), W_PLANE, 1, 2, 1)
    with pytest.raises(ValueError, match="alpha"):
        L.annular_sector_loop_integral((w1, w2), W_PLANE, 7)
    with pytest.raises(ValueError, match="two components"):
        L.annular_sector_loop_integral((w1,), W_PLANE, 1)
    with pytest.raises(ValueError, match="alpha"):
        L.sector_curl_integral(w1, W_PLANE, -1)
    with pytest.raises(ValueError, match="two components"):
        L.is_gradient_of((w1,), w1, W_PLANE)
