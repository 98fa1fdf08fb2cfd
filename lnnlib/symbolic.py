r"""Sympy machinery for the exact side of the course: balancedness, implicit preconditioning, curl.

Three kinds of symbolic objects are used, each where it works best:

* **matrix expressions** (``MatrixSymbol`` with symbolic shapes) for the layer gradients and the
  conservation law of gradient flow ([ACH18]; the lecture's "Balanced trajectories" slides);
* **noncommutative symbols** ``W_j``, ``W_j^T`` for the rewriting that turns the layer-wise
  velocity into the preconditioned end-to-end velocity for any fixed depth (matrix-expression products
  collapse into powers and block ``subs``; plain words of noncommutative symbols rewrite cleanly);
* **explicit sympy matrices** with exact entries: Cayley-transform rational orthogonal frames, integer
  singular values and exact fractional powers of PSD matrices; and the single-output end-to-end field
  of [ACH18] with its curl and its exact loop integrals.

The scalar loss is an abstract function of a matrix, which sympy cannot hold; the stand-in
$\ell(W) = \mathrm{Tr}(G^\top W)$ has gradient $G$ everywhere, so at the current point it produces the
same layer gradients as any loss whose gradient there is $G$.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import sympy as sp

from ._validation import MAX_SYMBOLIC_DEPTH, as_rng, check_depth, check_dims, check_flag, check_int

__all__ = [
    "matrix_layer_symbols",
    "symbolic_layer_gradients",
    "balancedness_velocity",
    "explicit_layers",
    "gradient_matrix",
    "NoncommutativeLayers",
    "noncommutative_layers",
    "matrix_to_noncommutative",
    "nc_transpose",
    "balanced_rewrite",
    "end_to_end_velocity_words",
    "name_blocks",
    "cayley_orthogonal",
    "rational_orthogonal",
    "exact_psd_power",
    "exact_balanced_layers",
    "exact_aligned_svds",
    "exact_end_to_end",
    "exact_layer_gradients",
    "exact_end_to_end_velocity",
    "exact_preconditioned_gradient",
    "symbolic_single_output_field",
    "symbolic_curl",
    "curl_closed_form",
    "annular_sector_loop_integral",
    "sector_curl_integral",
    "is_gradient_of",
]


# ---------------------------------------------------------------------------------------------------------
# Matrix expressions with symbolic shapes (notebook 02)
# ---------------------------------------------------------------------------------------------------------


def matrix_layer_symbols(depth: int) -> tuple[list[sp.MatrixSymbol], sp.MatrixSymbol, tuple[sp.Symbol, ...]]:
    r"""Return ``(weights, G, dims)``: layers $W_j \in \mathbb R^{d_j \times d_{j-1}}$ as ``MatrixSymbol``\ s
    with symbolic widths $d_0, \dots, d_N$, and $G \in \mathbb R^{d_N \times d_0}$ standing for $\nabla\ell(W)$.
    """
    N = check_depth(depth, high=MAX_SYMBOLIC_DEPTH)
    dims = sp.symbols(f"d0:{N + 1}", positive=True, integer=True)
    weights = [sp.MatrixSymbol(f"W{j + 1}", dims[j + 1], dims[j]) for j in range(N)]
    return weights, sp.MatrixSymbol("G", dims[N], dims[0]), dims


def symbolic_layer_gradients(depth: int):
    r"""Return ``(weights, G, grads)`` with ``grads[j-1]`` $= \partial \phi / \partial W_j$ derived by sympy.

    $\phi(W_1..W_N) = \mathrm{Tr}(G^\top W_N \cdots W_1)$ is the stand-in loss: its gradient with respect to
    the end-to-end matrix is $G$, so sympy's matrix derivative gives [ACH18, eq. (4)]
    $\partial\phi/\partial W_j = (W_N \cdots W_{j+1})^\top G (W_{j-1} \cdots W_1)^\top$ for symbolic shapes.
    """
    weights, G, _ = matrix_layer_symbols(depth)
    product = weights[0]
    for Wj in weights[1:]:
        product = Wj * product
    phi = sp.Trace(G.T * product)
    return weights, G, [phi.diff(Wj) for Wj in weights]


def balancedness_velocity(weights: Sequence, grads: Sequence, j: int):
    r"""Return $\frac{d}{dt}\big(W_{j+1}^\top W_{j+1} - W_j W_j^\top\big)$ under gradient flow $\dot W_k = -g_k$.

    $$\frac{d}{dt} D_j = -\big(g_{j+1}^\top W_{j+1} + W_{j+1}^\top g_{j+1}\big) + g_j W_j^\top + W_j g_j^\top,$$

    with ``j`` 1-based ($1 \le j \le N-1$); ``weights`` and ``grads`` are matrix expressions or explicit
    sympy matrices. The lecture's conservation law (gradient flow preserves balancedness, [ACH18]) says this is zero.
    """
    for name, seq in (("weights", weights), ("grads", grads)):
        if isinstance(seq, (str, bytes)) or not isinstance(seq, Sequence) or not seq:
            raise ValueError(f"{name} must be a list of matrix expressions or sympy matrices; got {seq!r}")
        if not all(isinstance(x, (sp.MatrixBase, sp.MatrixExpr)) for x in seq):
            raise ValueError(f"{name} must hold matrix expressions or sympy matrices, one per layer")
    N = len(weights)
    if len(grads) != N:
        raise ValueError(f"need one gradient per layer: {N} layers but {len(grads)} gradients")
    if isinstance(j, bool) or not isinstance(j, numbers.Integral) or not 1 <= j <= N - 1:
        raise ValueError(f"the balancedness index j runs over 1..N-1 = 1..{N - 1}; got {j!r}")
    Wj, Wn, gj, gn = weights[j - 1], weights[j], grads[j - 1], grads[j]
    return -(gn.T * Wn + Wn.T * gn) + gj * Wj.T + Wj * gj.T


def explicit_layers(dims) -> list[sp.Matrix]:
    r"""Return layers as explicit sympy matrices of real symbols ``w{j}_{ik}`` (entry $(i, k)$ of $W_j$)."""
    dims = check_dims(dims)
    return [
        sp.Matrix(dims[j + 1], dims[j], lambda i, k, j=j: sp.Symbol(f"w{j + 1}_{i + 1}{k + 1}", real=True))
        for j in range(len(dims) - 1)
    ]


def gradient_matrix(expr, M: sp.Matrix) -> sp.Matrix:
    r"""Return the matrix of partial derivatives $(\partial\, \mathrm{expr} / \partial M_{ik})_{ik}$.

    ``M`` must be a matrix of distinct symbols (as from :func:`explicit_layers`).
    """
    if not isinstance(M, sp.MatrixBase):
        raise ValueError(f"M must be a sympy Matrix of symbols; got {type(M).__name__}")
    entries = list(M)
    if not all(isinstance(x, sp.Symbol) for x in entries) or len(set(entries)) != len(entries):
        raise ValueError("M must hold distinct symbols, one per entry, to differentiate with respect to it")
    _check_expr(expr, "expr")
    return M.applyfunc(lambda x: sp.diff(expr, x))


# ---------------------------------------------------------------------------------------------------------
# Noncommutative rewriting (notebook 03)
# ---------------------------------------------------------------------------------------------------------


class NoncommutativeLayers:
    r"""Noncommutative symbols for a depth-$N$ network: ``W[j]``, ``T[j]`` $= W_{j+1}$, $W_{j+1}^\top$
    (0-based lists), and ``G``, ``Gt`` $= G, G^\top$. ``transpose`` maps each symbol to its transpose."""

    def __init__(self, depth: int):
        self.depth = N = check_depth(depth, high=MAX_SYMBOLIC_DEPTH)
        self.W = [sp.Symbol(f"W_{j}", commutative=False) for j in range(1, N + 1)]
        self.T = [sp.Symbol(f"W_{j}^T", commutative=False) for j in range(1, N + 1)]
        self.G = sp.Symbol("G", commutative=False)
        self.Gt = sp.Symbol("G^T", commutative=False)
        self.transpose = {self.G: self.Gt, self.Gt: self.G}
        for a, b in zip(self.W, self.T, strict=True):
            self.transpose[a] = b
            self.transpose[b] = a

    def product(self, symbols) -> sp.Expr:
        """Return the noncommutative product of ``symbols`` in the given order (1 when empty)."""
        return sp.Mul(*symbols) if symbols else sp.Integer(1)

    @property
    def end_to_end(self) -> sp.Expr:
        """$W = W_N \\cdots W_1$."""
        return self.product(self.W[::-1])

    def layer_gradient(self, j: int) -> sp.Expr:
        r"""Return $\partial\phi/\partial W_j = W_{j+1}^\top \cdots W_N^\top \, G \, W_1^\top \cdots W_{j-1}^\top$
        (1-based ``j``)."""
        N = self.depth
        if isinstance(j, bool) or not isinstance(j, numbers.Integral) or not 1 <= j <= N:
            raise ValueError(f"the layer index j runs over 1..N = 1..{N}; got {j!r}")
        return self.product(self.T[j:]) * self.G * self.product(self.T[: j - 1])


def noncommutative_layers(depth: int) -> NoncommutativeLayers:
    """Return the :class:`NoncommutativeLayers` of a depth-``depth`` network."""
    return NoncommutativeLayers(depth)


def matrix_to_noncommutative(expr, weights: Sequence[sp.MatrixSymbol], G: sp.MatrixSymbol, nc: NoncommutativeLayers):
    r"""Translate a matrix expression in $W_j, W_j^\top, G, G^\top$ into the noncommutative symbols of ``nc``.

    Lets the layer gradients that sympy derived as matrix expressions (:func:`symbolic_layer_gradients`)
    enter the rewriting of :func:`balanced_rewrite`.
    """
    _check_nc(nc)
    if isinstance(weights, (str, bytes)) or not isinstance(weights, Sequence):
        raise ValueError(f"weights must be the list of MatrixSymbols W_1..W_N; got {weights!r}")
    if not all(isinstance(Wm, sp.MatrixSymbol) for Wm in weights) or not isinstance(G, sp.MatrixSymbol):
        raise ValueError("weights and G must be sympy MatrixSymbols (as from symbolic_layer_gradients)")
    if len(weights) != nc.depth:
        raise ValueError(f"{len(weights)} matrix layers but the noncommutative symbols are for depth {nc.depth}")
    table = {G: nc.G, G.T: nc.Gt}
    for Wm, a, b in zip(weights, nc.W, nc.T, strict=True):
        table[Wm] = a
        table[Wm.T] = b

    def convert(e):
        if e in table:
            return table[e]
        if isinstance(e, sp.MatMul):
            return sp.Mul(*[convert(a) for a in e.args])
        if isinstance(e, sp.MatAdd):
            return sp.Add(*[convert(a) for a in e.args])
        if isinstance(e, sp.MatPow) and e.exp.is_Integer and e.exp > 0:
            return sp.Pow(convert(e.base), e.exp)
        if isinstance(e, sp.Expr) and e.is_commutative and not isinstance(e, sp.MatrixExpr):
            return e
        raise ValueError(f"cannot translate {e} into the layer symbols (only W_j, W_j^T, G, G^T products)")

    return convert(expr)


def _check_nc(nc) -> None:
    if not isinstance(nc, NoncommutativeLayers):
        raise ValueError(f"nc must be the NoncommutativeLayers of noncommutative_layers(depth); got {nc!r}")


def _words(expr) -> list[tuple[sp.Expr, list[sp.Symbol]]]:
    """Split an expanded noncommutative polynomial into (coefficient, list of letters) terms."""
    if isinstance(expr, bool) or not isinstance(expr, (sp.Expr, numbers.Number)):
        raise ValueError(f"expected a polynomial in the noncommutative layer symbols; got {expr!r}")
    out = []
    for term in sp.Add.make_args(sp.expand(expr)):
        coeff, letters = sp.Integer(1), []
        for f in sp.Mul.make_args(term):
            if f.is_commutative:
                coeff *= f
            elif isinstance(f, sp.Symbol):
                letters.append(f)
            elif isinstance(f, sp.Pow) and isinstance(f.base, sp.Symbol) and f.exp.is_Integer and f.exp > 0:
                letters.extend([f.base] * int(f.exp))
            else:
                raise ValueError(f"expected a polynomial in noncommutative symbols; got the factor {f}")
        out.append((coeff, letters))
    return out


def nc_transpose(expr, nc: NoncommutativeLayers) -> sp.Expr:
    r"""Return the transpose of a noncommutative polynomial: each word reversed, each letter transposed."""
    _check_nc(nc)
    terms = []
    for coeff, letters in _words(expr):
        try:
            flipped = [nc.transpose[x] for x in reversed(letters)]
        except KeyError as exc:
            raise ValueError(f"{exc.args[0]} is not one of the layer symbols W_j, W_j^T, G, G^T") from None
        terms.append(coeff * nc.product(flipped))
    return sp.Add(*terms)


def _rewrite_word(letters, rules):
    """Apply two-letter rules (a, b) -> (c, d) leftmost-first until none applies."""
    letters = list(letters)
    changed = True
    while changed:
        changed = False
        for i in range(len(letters) - 1):
            pair = (letters[i], letters[i + 1])
            if pair in rules:
                letters[i : i + 2] = rules[pair]
                changed = True
                break
    return letters


def balanced_rewrite(expr, nc: NoncommutativeLayers, direction: str = "around G") -> sp.Expr:
    r"""Return ``expr`` rewritten with the balancedness relations $W_{k+1}^\top W_{k+1} = W_k W_k^\top$.

    ``direction="up"`` applies $W_k W_k^\top \to W_{k+1}^\top W_{k+1}$ ($k < N$), which moves every pair
    to the top layer: $W_N \cdots W_{j+1} W_{j+1}^\top \cdots W_N^\top \to (W_N W_N^\top)^{N-j}$.
    ``direction="down"`` applies $W_{k+1}^\top W_{k+1} \to W_k W_k^\top$, moving pairs to the first layer:
    $W_1^\top \cdots W_{j-1}^\top W_{j-1} \cdots W_1 \to (W_1^\top W_1)^{j-1}$.
    ``direction="around G"`` rewrites "up" left of the letter $G$ and "down" right of it (words without
    $G$ are left alone): the normal form of the end-to-end velocity (the implicit preconditioning theorem of [ACH18]).
    Both rules move indices monotonically, so the rewriting terminates.
    """
    _check_nc(nc)
    N = nc.depth
    up = {(nc.W[k], nc.T[k]): (nc.T[k + 1], nc.W[k + 1]) for k in range(N - 1)}
    down = {(nc.T[k + 1], nc.W[k + 1]): (nc.W[k], nc.T[k]) for k in range(N - 1)}
    if direction not in ("up", "down", "around G"):
        raise ValueError(f'direction must be "up", "down" or "around G"; got {direction!r}')
    terms = []
    for coeff, letters in _words(expr):
        if direction == "up":
            letters = _rewrite_word(letters, up)
        elif direction == "down":
            letters = _rewrite_word(letters, down)
        elif nc.G in letters:
            i = letters.index(nc.G)
            letters = _rewrite_word(letters[:i], up) + [nc.G] + _rewrite_word(letters[i + 1 :], down)
        terms.append(coeff * nc.product(letters))
    return sp.Add(*terms)


def end_to_end_velocity_words(nc: NoncommutativeLayers) -> sp.Expr:
    r"""Return $\dot W = \sum_{j=1}^N W_N \cdots W_{j+1} \, \dot W_j \, W_{j-1} \cdots W_1$ with
    $\dot W_j = -\partial\phi/\partial W_j$, as a noncommutative polynomial (product rule, no balancedness)."""
    _check_nc(nc)
    N = nc.depth
    return sp.Add(
        *[-nc.product(nc.W[j:][::-1]) * nc.layer_gradient(j) * nc.product(nc.W[: j - 1][::-1]) for j in range(1, N + 1)]
    )


def name_blocks(expr, blocks: dict) -> sp.Expr:
    r"""Return ``expr`` with each occurrence of a block of letters replaced by a new letter.

    ``blocks`` maps tuples of noncommutative symbols (e.g. ``(W_N, W_N^T)``) to noncommutative symbols
    (e.g. ``A``); words are scanned left to right, so ``W_N W_N^T W_N W_N^T G`` becomes ``A**2*G``.
    """
    if not isinstance(blocks, dict) or not blocks:
        raise ValueError(f"blocks must be a non-empty dict {{(letters, ...): new letter}}; got {blocks!r}")
    for block, name in blocks.items():
        if not isinstance(block, tuple) or not block or not isinstance(name, sp.Symbol) or name.is_commutative:
            raise ValueError("name_blocks maps nonempty tuples of letters to noncommutative symbols")
    terms = []
    for coeff, letters in _words(expr):
        out, i = [], 0
        while i < len(letters):
            for block, name in blocks.items():
                if tuple(letters[i : i + len(block)]) == tuple(block):
                    out.append(name)
                    i += len(block)
                    break
            else:
                out.append(letters[i])
                i += 1
        terms.append(coeff * sp.Mul(*out))
    return sp.Add(*terms)


# ---------------------------------------------------------------------------------------------------------
# Exact matrices: rational orthogonal frames, exact fractional powers (notebook 03)
# ---------------------------------------------------------------------------------------------------------


def _as_exact_matrix(M, name: str) -> sp.Matrix:
    if M is None or isinstance(M, (str, bytes)):
        raise ValueError(f"{name} must be a matrix with exact entries; got {M!r}")
    try:
        A = sp.Matrix(M)
    except (TypeError, ValueError, AttributeError, sp.SympifyError):
        raise ValueError(f"{name} must be a matrix with exact entries; got {type(M).__name__}") from None
    if any(not isinstance(x, sp.Expr) for x in A):
        raise ValueError(f"{name} must have numbers or sympy expressions as entries")
    if any(isinstance(x, sp.Float) or x.has(sp.Float) for x in A):
        raise ValueError(f"{name} must have exact entries (integers, rationals, radicals), not floats")
    if any(x.has(sp.nan, sp.zoo, sp.oo, -sp.oo) for x in A):
        raise ValueError(f"{name} must have finite entries (no nan, zoo or oo)")
    if any(x.is_real is False for x in A):
        raise ValueError(f"{name} must have real entries (the course's matrices are real)")
    return A


def cayley_orthogonal(S) -> sp.Matrix:
    r"""Return the Cayley transform $Q = (I - S)(I + S)^{-1}$ of a skew-symmetric matrix $S$.

    $Q$ is orthogonal ($Q^\top Q = I$) and, for rational $S$, has rational entries: an exact rotation
    for sympy checks. $I + S$ is always invertible because the eigenvalues of $S$ are imaginary.
    """
    S = _as_exact_matrix(S, "S")
    if not S.is_square:
        raise ValueError(f"the Cayley transform needs a square skew-symmetric S; got shape {S.shape}")
    if S.T != -S:
        raise ValueError("the Cayley transform needs a skew-symmetric S (S^T = -S)")
    n = S.shape[0]
    eye = sp.eye(n)
    return (eye - S) * (eye + S).inv()


def rational_orthogonal(n: int, rng=None, max_entry: int = 2) -> sp.Matrix:
    r"""Return a random $n \times n$ orthogonal matrix with rational entries: the Cayley transform of a
    skew-symmetric matrix with integer entries drawn uniformly from $[-\mathrm{max\_entry}, \mathrm{max\_entry}]$."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"n must be a positive integer (the size of the orthogonal matrix); got {n!r}")
    if isinstance(max_entry, bool) or not isinstance(max_entry, numbers.Integral) or max_entry < 1:
        raise ValueError(f"max_entry must be a positive integer; got {max_entry!r}")
    n = check_int(n, "n", low=1, high=30, why="sympy's exact inverse of a larger matrix takes too long")
    max_entry = check_int(max_entry, "max_entry", low=1, high=10**9, why="entries must fit int64")
    R = as_rng(rng).integers(-max_entry, max_entry + 1, size=(n, n))
    S = sp.Matrix(n, n, lambda i, k: int(R[i, k]) if i < k else (-int(R[k, i]) if i > k else 0))
    return cayley_orthogonal(S)


def _check_exponent(p) -> sp.Rational:
    if isinstance(p, float):
        raise ValueError(f"give the power p exactly, e.g. sympy.Rational(2, 3), not the float {p!r}")
    if p is None or isinstance(p, (str, bytes, bool)) or not isinstance(p, (numbers.Number, sp.Basic)):
        raise ValueError(f"the power p must be a nonnegative rational number; got {p!r}")
    try:
        q = sp.nsimplify(p) if not isinstance(p, sp.Basic) else p
    except (TypeError, ValueError, sp.SympifyError):
        raise ValueError(f"the power p must be a nonnegative rational number; got {p!r}") from None
    if not (isinstance(q, sp.Rational) and q >= 0):
        raise ValueError(f"the power p must be a nonnegative rational number; got {p!r}")
    return q


def exact_psd_power(M, p) -> sp.Matrix:
    r"""Return $M^p = Q \Lambda^p Q^{-1}$ exactly for a symmetric PSD sympy matrix $M$ and rational $p \ge 0$.

    Meant for matrices whose eigenvalues sympy finds exactly (integers or rationals, as for
    $W W^\top$ with rational orthogonal frames and integer singular values). Convention $M^0 = I$ even
    when $M$ is singular, as in the sum of the implicit preconditioning theorem [ACH18].

    Raises
    ------
    ValueError
        If $M$ is not square, not symmetric, has a negative eigenvalue, or ``p`` is not a nonnegative rational.
    """
    M = _as_exact_matrix(M, "M")
    q = _check_exponent(p)
    if not M.is_square:
        raise ValueError(f"M^p needs a square matrix M; got shape {M.shape}")
    if M.T != M:
        raise ValueError("M must be symmetric for M^p to be defined here (M^T != M)")
    n = M.shape[0]
    if q == 0:
        return sp.eye(n)
    P, D = M.diagonalize()
    lam = [sp.radsimp(D[i, i]) for i in range(n)]
    negative = [x for x in lam if x.is_negative]
    if negative:
        raise ValueError(f"M must be positive semidefinite; it has the eigenvalue {negative[0]}")
    return (P * sp.diag(*[x**q for x in lam]) * P.inv()).applyfunc(sp.expand)


def exact_balanced_layers(U, singular_values, V, depth: int, hidden=None) -> list[sp.Matrix]:
    r"""Return exactly balanced layers whose product is $W = U \Sigma V^\top$.

    With $k = $ ``len(singular_values)`` $= \min(d_N, d_0)$, $R = \mathrm{diag}(s_1..s_k)^{1/N}$ and
    orthogonal $k \times k$ frames $O_1, \dots, O_{N-1}$ of the hidden spaces (``hidden``; identities by
    default): $W_1 = O_1 R V_{:, :k}^\top$, $W_j = O_j R O_{j-1}^\top$ ($1 < j < N$),
    $W_N = U_{:, :k} R O_{N-1}^\top$; hidden widths are $k$. Then
    $W_{j+1}^\top W_{j+1} = O_j R^2 O_j^\top = W_j W_j^\top$. With the default frames this is the factorization
    that balanced initialization uses (:func:`lnnlib.balanced_init`); other frames rotate the hidden spaces,
    so that the middle layers are not diagonal. ``U`` is $d_N \times d_N$ and ``V`` is $d_0 \times d_0$, both
    orthogonal.
    """
    N = check_depth(depth, high=MAX_SYMBOLIC_DEPTH)
    U = _as_exact_matrix(U, "U")
    V = _as_exact_matrix(V, "V")
    for name, Q in (("U", U), ("V", V)):
        if not Q.is_square or sp.simplify(Q.T * Q - sp.eye(Q.shape[0])) != sp.zeros(*Q.shape):
            raise ValueError(f"{name} must be a square orthogonal matrix ({name}^T {name} = I)")
    if singular_values is None or isinstance(singular_values, (str, bytes)) or not hasattr(singular_values, "__iter__"):
        raise ValueError(f"singular_values must be a list of exact nonnegative numbers; got {singular_values!r}")
    s = list(_as_exact_matrix(list(singular_values), "singular_values"))
    k = min(U.shape[0], V.shape[0])
    if len(s) != k:
        raise ValueError(f"a {U.shape[0]} x {V.shape[0]} matrix has min(d_N, d_0) = {k} singular values; got {len(s)}")
    if any(not x.is_nonnegative for x in s):
        raise ValueError(f"singular values must be nonnegative; got {list(singular_values)}")
    if hidden is None:
        frames = [sp.eye(k)] * (N - 1)
    else:
        frames = [_as_exact_matrix(O, f"hidden frame O_{j + 1}") for j, O in enumerate(hidden)]
        if len(frames) != N - 1:
            raise ValueError(f"depth {N} has {N - 1} hidden spaces: need {N - 1} hidden frames; got {len(frames)}")
        for j, O in enumerate(frames, start=1):
            if O.shape != (k, k) or sp.simplify(O.T * O - sp.eye(k)) != sp.zeros(k, k):
                raise ValueError(f"hidden frame O_{j} must be an orthogonal {k} x {k} matrix (O^T O = I)")
    root = sp.diag(*[x ** sp.Rational(1, N) for x in s])
    if N == 1:
        return [U[:, :k] * sp.diag(*s) * V[:, :k].T]
    outer = [V[:, :k]] + frames + [U[:, :k]]  # the frames O_0 = V, O_1, ..., O_N = U around each layer
    return [outer[j + 1] * root * outer[j].T for j in range(N)]


def _is_zero(x) -> bool:
    return sp.simplify(sp.expand(x)) == 0


def _complete_orthonormal(columns: list[sp.Matrix], dim: int) -> list[sp.Matrix]:
    """Extend orthonormal exact columns to an orthonormal basis of R^dim (Gram-Schmidt on e_1, e_2, ...)."""
    basis = list(columns)
    for i in range(dim):
        if len(basis) == dim:
            break
        v = sp.zeros(dim, 1)
        v[i] = 1
        for u in basis:
            v = v - u.dot(v) * u
        v = v.applyfunc(lambda x: sp.radsimp(sp.expand(x)))
        norm2 = sp.simplify(v.dot(v))
        if norm2 != 0:
            n = sp.sqrt(norm2)
            basis.append(v.applyfunc(lambda x, n=n: sp.radsimp(x / n)))
    return basis


def exact_aligned_svds(layers: Sequence[sp.Matrix], V1=None) -> list[tuple[sp.Matrix, sp.Matrix, sp.Matrix]]:
    r"""Return full SVDs $W_j = U_j S_j V_j^\top$ of exactly balanced layers with $V_{j+1} = U_j$, exactly.

    The inductive construction of the implicit-preconditioning proof: take a full SVD of $W_1$ (``V1``, an
    orthonormal eigenbasis of $W_1^\top W_1$ with eigenvalues in decreasing order, or computed by sympy
    when not given: slow when the eigenvalues are radicals); then, given $U_j$, set
    $V_{j+1} := U_j$. Balancedness gives $(W_{j+1}U_j)^\top (W_{j+1}U_j) = U_j^\top W_j W_j^\top U_j = S_j S_j^\top$,
    so the columns of $W_{j+1}V_{j+1}$ are orthogonal with norms $\sigma_1, \dots, \sigma_k, 0, \dots$: the
    nonzero ones, divided by their norms ($W_{j+1}V_{j+1}S_{j+1}^+$), are the first $k$ columns of
    $U_{j+1}$, completed to an orthonormal basis by Gram-Schmidt. Returns ``[(U_1, S_1, V_1), ...]`` with
    $S_j$ of the shape of $W_j$, $\sigma_1..\sigma_k$ on its diagonal.

    One orthonormal eigenbasis $Q_j$ of $W_j W_j^\top = W_{j+1}^\top W_{j+1}$ used on both sides
    ($U_j = V_{j+1} = Q_j$) does *not* work in general: for $W_1 = I$, $W_2$ a rotation, $Q_1 = Q_2 = I$
    would make $W_2$ diagonal.

    Raises
    ------
    ValueError
        If the layers do not chain or are not exactly balanced ($W_{j+1}^\top W_{j+1} \ne W_j W_j^\top$), or
        ``V1`` is not orthogonal or does not diagonalize $W_1^\top W_1$ with decreasing eigenvalues.
    """
    layers = _exact_layers(layers)
    exact_end_to_end(layers)  # checks that the shapes chain
    for j in range(len(layers) - 1):
        D = layers[j + 1].T * layers[j + 1] - layers[j] * layers[j].T
        if any(not _is_zero(x) for x in D):
            raise ValueError(
                f"layers W_{j + 1} and W_{j + 2} are not balanced: W_{j + 2}^T W_{j + 2} != W_{j + 1} W_{j + 1}^T"
            )
    W1 = layers[0]
    if V1 is None:
        eig = (W1.T * W1).eigenvects()  # (eigenvalue, multiplicity, eigenvectors)
        eig.sort(key=lambda e: float(sp.N(e[0], 30)), reverse=True)  # largest first: nonzero singular values first
        V_cols = [v for _, _, vecs in eig for v in sp.GramSchmidt(vecs, orthonormal=True)]
        V = sp.Matrix.hstack(*[v.applyfunc(sp.radsimp) for v in V_cols])
    else:
        V = _as_exact_matrix(V1, "V1")
        d0 = W1.shape[1]
        if V.shape != (d0, d0) or any(not _is_zero(x) for x in V.T * V - sp.eye(d0)):
            raise ValueError(f"V1 must be an orthogonal {d0} x {d0} matrix (V1^T V1 = I)")
        D = V.T * W1.T * W1 * V
        lam = [sp.N(D[i, i], 30) for i in range(d0)]
        if any(not _is_zero(D[i, k]) for i in range(d0) for k in range(d0) if i != k) or any(
            a < b for a, b in zip(lam[:-1], lam[1:], strict=True)
        ):
            raise ValueError("V1 must diagonalize W_1^T W_1 with eigenvalues in decreasing order")
    out = []
    for Wj in layers:
        d_out, d_in = Wj.shape
        M = Wj * V
        cols, sigma = [], []
        for i in range(d_in):
            c = M[:, i].applyfunc(sp.expand)
            norm2 = sp.simplify(c.dot(c))
            if norm2 == 0:
                continue
            if len(sigma) < i:  # balanced layers have their nonzero columns first (S_j S_j^T = diag)
                raise ValueError(f"layer W_{len(out) + 1}: the construction found a nonzero column after a zero one")
            s_i = sp.sqrt(norm2)
            sigma.append(s_i)
            cols.append(c.applyfunc(lambda x, s_i=s_i: sp.radsimp(x / s_i)))
        U = sp.Matrix.hstack(*_complete_orthonormal(cols, d_out))
        S = sp.zeros(d_out, d_in)
        for i, s_i in enumerate(sigma):
            S[i, i] = s_i
        out.append((U, S, V))
        V = U
    return out


def _exact_layers(layers) -> list[sp.Matrix]:
    if layers is None or isinstance(layers, (str, bytes, sp.MatrixBase)) or not hasattr(layers, "__iter__"):
        raise ValueError(f"layers must be a list [W_1, ..., W_N] of sympy matrices; got {type(layers).__name__}")
    return [_as_exact_matrix(Wj, f"layer W_{j + 1}") for j, Wj in enumerate(layers)]


def exact_end_to_end(layers: Sequence[sp.Matrix]) -> sp.Matrix:
    """Return $W_N \\cdots W_1$ of explicit sympy layers (entries expanded, so that radicals of rotated hidden
    layers cancel), checking that the shapes chain."""
    layers = _exact_layers(layers)
    if not layers:
        raise ValueError("need at least one layer")
    W = layers[0]
    for j, Wj in enumerate(layers[1:], start=2):
        if Wj.shape[1] != W.shape[0]:
            raise ValueError(
                f"layers do not chain: W_{j} takes {Wj.shape[1]} features but W_{j - 1} outputs {W.shape[0]}"
            )
        W = Wj * W
    return W.applyfunc(sp.expand)


def exact_layer_gradients(layers: Sequence[sp.Matrix], G) -> list[sp.Matrix]:
    r"""Return $(W_N \cdots W_{j+1})^\top G (W_{j-1} \cdots W_1)^\top$, $j = 1..N$, exactly (the layer gradients)."""
    W = exact_end_to_end(layers)
    G = _as_exact_matrix(G, "G")
    if G.shape != W.shape:
        raise ValueError(f"G must have the shape of the end-to-end matrix, {W.shape}; got {G.shape}")
    out = []
    for j in range(len(layers)):
        after = exact_end_to_end(layers[j + 1 :]) if j + 1 < len(layers) else sp.eye(W.shape[0])
        before = exact_end_to_end(layers[:j]) if j > 0 else sp.eye(W.shape[1])
        out.append(after.T * G * before.T)
    return out


def exact_end_to_end_velocity(layers: Sequence[sp.Matrix], G) -> sp.Matrix:
    r"""Return $\dot W = -\sum_j W_N \cdots W_{j+1} \, g_j \, W_{j-1} \cdots W_1$ for $\dot W_j = -g_j$
    (the product rule applied to gradient flow over the layers), exactly."""
    grads = exact_layer_gradients(layers, G)
    W = exact_end_to_end(layers)
    total = sp.zeros(*W.shape)
    for j, g in enumerate(grads):
        after = exact_end_to_end(layers[j + 1 :]) if j + 1 < len(layers) else sp.eye(W.shape[0])
        before = exact_end_to_end(layers[:j]) if j > 0 else sp.eye(W.shape[1])
        total -= after * g * before
    return total.applyfunc(sp.expand)


def exact_preconditioned_gradient(W, G, depth: int) -> sp.Matrix:
    r"""Return $\sum_{j=1}^N (W W^\top)^{\frac{N-j}{N}} G (W^\top W)^{\frac{j-1}{N}}$ exactly (the lecture's sum, [ACH18]),
    with the powers from :func:`exact_psd_power`."""
    N = check_depth(depth, high=MAX_SYMBOLIC_DEPTH)
    W = _as_exact_matrix(W, "W")
    G = _as_exact_matrix(G, "G")
    if G.shape != W.shape:
        raise ValueError(f"G must have the shape of W, {W.shape}; got {G.shape}")
    left, right = W * W.T, W.T * W
    total = sp.zeros(*W.shape)
    for j in range(1, N + 1):
        total += exact_psd_power(left, sp.Rational(N - j, N)) * G * exact_psd_power(right, sp.Rational(j - 1, N))
    return total.applyfunc(sp.expand)


# ---------------------------------------------------------------------------------------------------------
# The single-output field and its curl (notebook 04)
# ---------------------------------------------------------------------------------------------------------


def _check_plane(w):
    if not isinstance(w, (tuple, list)) or len(w) != 2 or not all(isinstance(x, sp.Symbol) for x in w) or w[0] == w[1]:
        raise ValueError("w must be a pair of sympy symbols (w1, w2), two different ones: the field lives in the plane")
    return w


def _check_expr(e, name: str) -> sp.Expr:
    """A sympy expression (a plain number is sympified), finite: no nan, zoo or oo; strings are refused."""
    if isinstance(e, (numbers.Real, numbers.Integral)) and not isinstance(e, bool):
        e = sp.sympify(e)
    if not isinstance(e, sp.Expr) or isinstance(e, sp.MatrixExpr):
        raise ValueError(f"{name} must be a sympy expression (in the symbols w1, w2); got {e!r}")
    if e.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise ValueError(f"{name} must be finite: it contains nan, zoo or oo ({e})")
    return e


def _check_planar_field(field):
    if isinstance(field, (str, bytes)) or not isinstance(field, (tuple, list, sp.MatrixBase)) or len(field) != 2:
        raise ValueError(f"a planar field has two components (F1, F2); got {field!r}")
    return tuple(_check_expr(f, f"component F{k + 1} of the field") for k, f in enumerate(field))


def _symbolic_depth(depth):
    """An integer depth 1..MAX_SYMBOLIC_DEPTH as a sympy Integer, or a sympy expression declared positive."""
    if isinstance(depth, sp.Basic) and not depth.is_number:
        if not depth.is_positive:
            raise ValueError(
                f"a symbolic depth must be declared positive, e.g. Symbol('N', positive=True); got {depth}"
            )
        return depth
    if isinstance(depth, sp.Integer):
        depth = int(depth)
    return sp.Integer(check_depth(depth, high=MAX_SYMBOLIC_DEPTH))


def symbolic_single_output_field(loss, w, depth) -> tuple[sp.Expr, sp.Expr]:
    r"""Return $F(w) = \|w\|^{2 - 2/N}\big(g + (N-1)\langle g, \hat w\rangle \hat w\big)$, $g = \nabla\ell(w)$.

    The end-to-end velocity $-\dot w$ of a depth-$N$ network with a single output and two inputs
    [ACH18, single-output case], $F = P_w \nabla \ell(w)$. ``loss`` is a sympy expression in
    ``w = (w1, w2)``; ``depth`` may be an integer or a positive symbol $N$.
    """
    w1, w2 = _check_plane(w)
    N = _symbolic_depth(depth)
    loss = _check_expr(loss, "the loss")
    g1, g2 = sp.diff(loss, w1), sp.diff(loss, w2)
    r2 = w1**2 + w2**2
    radial = (N - 1) * (g1 * w1 + g2 * w2) / r2
    scale = r2 ** (1 - 1 / N)
    return scale * (g1 + radial * w1), scale * (g2 + radial * w2)


def symbolic_curl(field, w) -> sp.Expr:
    r"""Return the scalar curl $\partial F_2/\partial w_1 - \partial F_1/\partial w_2$ of a planar field."""
    w1, w2 = _check_plane(w)
    field = _check_planar_field(field)
    return sp.diff(field[1], w1) - sp.diff(field[0], w2)


def curl_closed_form(loss, w, depth) -> sp.Expr:
    r"""Return the closed form of the curl of the single-output field [derived in notebook 04]:

    $$(N-1)\, r^{-2/N} \Big[\tfrac{N-2}{N}(\ell_1 w_2 - \ell_2 w_1) - \ell_{12}(w_1^2 - w_2^2)
    + (\ell_{11} - \ell_{22}) w_1 w_2\Big], \qquad r = \|w\|,$$

    subscripts being partial derivatives of $\ell$.
    """
    w1, w2 = _check_plane(w)
    N = _symbolic_depth(depth)
    loss = _check_expr(loss, "the loss")
    l1, l2 = sp.diff(loss, w1), sp.diff(loss, w2)
    l11, l22, l12 = sp.diff(loss, w1, 2), sp.diff(loss, w2, 2), sp.diff(loss, w1, w2)
    r2 = w1**2 + w2**2
    bracket = (N - 2) / N * (l1 * w2 - l2 * w1) - l12 * (w1**2 - w2**2) + (l11 - l22) * w1 * w2
    return (N - 1) * r2 ** (-1 / N) * bracket


def _polar(expr, w, r, theta):
    """``expr`` in polar coordinates, with every ``w1**2 + w2**2`` replaced by ``r**2`` *before* the
    trigonometric substitution, so that powers like ``(w1**2 + w2**2)**(1 - 1/N)`` become ``r**(2 - 2/N)``
    instead of expressions sympy can only integrate through special functions."""
    w1, w2 = w
    R2 = sp.Dummy("R2", positive=True)
    e = sp.sympify(expr).subs(w1**2 + w2**2, R2)
    e = e.subs({w1: r * sp.cos(theta), w2: r * sp.sin(theta), R2: r**2}, simultaneous=True)
    return sp.simplify(e)


def _integrate(integrand, limits):
    # expanded, with powers of r merged, the integrand is a sum of r**k terms that sympy integrates
    # directly; unexpanded it may take the Meijer-G route and return an unevaluated Piecewise
    return sp.integrate(sp.powsimp(sp.expand(integrand)), limits, conds="none")


def _check_sector(alpha, r_inner, r_outer):
    for name, x in (("the sector's angle alpha", alpha), ("r_inner", r_inner), ("r_outer", r_outer)):
        if isinstance(x, bool) or not isinstance(x, (numbers.Real, sp.Expr)):
            raise ValueError(f"{name} must be a real number or a sympy expression; got {x!r}")
        e = sp.sympify(x)
        if e.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or e.is_real is False:
            raise ValueError(f"{name} must be finite and real; got {x!r}")
    alpha, r_inner, r_outer = (sp.sympify(x) for x in (alpha, r_inner, r_outer))
    if r_inner.is_number and r_outer.is_number and not (0 < r_inner < r_outer):
        raise ValueError(f"the annular sector needs 0 < r_inner < r_outer; got {r_inner}, {r_outer}")
    if alpha.is_number and not (0 < alpha < 2 * sp.pi):
        raise ValueError(f"the sector's angle alpha must lie in (0, 2 pi); got {alpha}")
    return alpha, r_inner, r_outer


def annular_sector_loop_integral(field, w, alpha, r_inner=1, r_outer=2, *, legs: bool = False):
    r"""Return $\oint F \cdot dw$ around the annular sector, exactly.

    The loop: radially from $r_{in}$ to $r_{out}$ at angle 0, along the outer arc to angle $\alpha$,
    radially back to $r_{in}$, along the inner arc back to angle 0 (counter-clockwise). A gradient field
    gives 0; [ACH18] show that for $N \ge 3$ the end-to-end field does not. A circle centred at
    the origin would not do: on it only the tangential part $\|w\|^{2-2/N}\, \partial_\theta \ell / \|w\|$
    of $F$ counts, whose integral is $\|w\|^{2-2/N} \oint d\ell = 0$ for every loss.

    With ``legs=True`` returns the four leg integrals as a tuple instead of their sum.
    """
    w = _check_plane(w)
    alpha, r_inner, r_outer = _check_sector(alpha, r_inner, r_outer)
    field = _check_planar_field(field)
    legs = check_flag(legs, "legs")
    r = sp.Dummy("r", positive=True)
    th = sp.Dummy("theta", real=True)
    # F . dw in polar form: radial part F . w_hat dr, tangential part F . theta_hat r dtheta
    radial = _polar(field[0] * w[0] + field[1] * w[1], w, r, th) / r
    tangential = _polar(-field[0] * w[1] + field[1] * w[0], w, r, th)
    out = (
        _integrate(radial.subs(th, 0), (r, r_inner, r_outer)),
        _integrate(tangential.subs(r, r_outer), (th, 0, alpha)),
        _integrate(radial.subs(th, alpha), (r, r_outer, r_inner)),
        _integrate(tangential.subs(r, r_inner), (th, alpha, 0)),
    )
    return tuple(sp.simplify(x) for x in out) if legs else sp.simplify(sum(out))


def sector_curl_integral(curl, w, alpha, r_inner=1, r_outer=2) -> sp.Expr:
    r"""Return $\iint_{\text{sector}} \mathrm{curl}\, F \, dA = \int_0^\alpha\!\int_{r_{in}}^{r_{out}}
    \mathrm{curl}\, F \; r \, dr\, d\theta$, the right-hand side of Green's theorem for the loop of
    :func:`annular_sector_loop_integral`."""
    w = _check_plane(w)
    alpha, r_inner, r_outer = _check_sector(alpha, r_inner, r_outer)
    curl = _check_expr(curl, "curl")
    r = sp.Dummy("r", positive=True)
    th = sp.Dummy("theta", real=True)
    integrand = _polar(curl, w, r, th) * r
    inner = _integrate(integrand, (r, r_inner, r_outer))
    return sp.simplify(_integrate(inner, (th, 0, alpha)))


def is_gradient_of(field, potential, w) -> bool:
    r"""Return whether $\nabla \Phi = F$ identically, i.e. ``simplify`` reduces both components of
    $\nabla\Phi - F$ to zero."""
    w1, w2 = _check_plane(w)
    field = _check_planar_field(field)
    potential = _check_expr(potential, "the potential")
    return all(sp.simplify(sp.diff(potential, x) - f) == 0 for x, f in zip((w1, w2), field, strict=True))
