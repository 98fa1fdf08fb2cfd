r"""The linear neural network: end-to-end matrix, layer gradients, balancedness.

A depth-$N$ linear network is a list ``weights = [W_1, ..., W_N]`` with ``W_j`` of shape
$(d_j, d_{j-1})$. It computes $x \mapsto W x$ with the end-to-end matrix $W = W_N \cdots W_1$, and is
trained on the overparameterized objective $\phi(W_1, \dots, W_N) = \ell(W_N \cdots W_1)$ [ACH18].
"""

from __future__ import annotations

import numpy as np

from ._validation import as_matrix, check_weights, guard

__all__ = ["end_to_end", "layer_gradients", "balancedness_gaps", "balancedness_matrices"]


def _prefixes(weights: list[np.ndarray]) -> list:
    """``[None, W_1, W_2 W_1, ..., W_{N-1} ... W_1]``: what each layer is fed (``None`` for the identity)."""
    P = [None, weights[0]]
    for W in weights[1:-1]:
        P.append(W @ P[-1])
    return P[: len(weights)]


def _forward(weights: list[np.ndarray]) -> tuple[np.ndarray, list]:
    """The end-to-end matrix and the prefixes of :func:`_prefixes`, without input checks (hot loops)."""
    P = _prefixes(weights)
    return (weights[-1] if P[-1] is None else weights[-1] @ P[-1]), P


def _backward(weights: list[np.ndarray], G: np.ndarray, prefixes: list) -> list[np.ndarray]:
    """The layer gradients from ``G`` and the prefixes, without input checks (hot loops): 2(N - 1)
    products, back-propagating ``(W_N ... W_{j+1})^T G`` from the top layer down."""
    N = len(weights)
    grads = [None] * N
    A = G
    for j in range(N - 1, 0, -1):
        grads[j] = A @ prefixes[j].T
        A = weights[j].T @ A
    grads[0] = A  # the first layer is fed the identity: no product needed
    return grads


@guard
def end_to_end(weights) -> np.ndarray:
    r"""Return the end-to-end matrix $W = W_N W_{N-1} \cdots W_1$ [ACH18].

    Parameters
    ----------
    weights : list of 2-D arrays
        ``[W_1, ..., W_N]``; ``W_j`` has shape ``(d_j, d_{j-1})``.

    Returns
    -------
    ndarray of shape ``(d_N, d_0)``
    """
    layers = check_weights(weights)
    W = layers[0]
    for Wj in layers[1:]:
        W = Wj @ W
    return W


@guard
def layer_gradients(weights, grad) -> list[np.ndarray]:
    r"""Return the gradients $\partial\phi/\partial W_j$ of $\phi(W_1..W_N) = \ell(W_N \cdots W_1)$.

    By the chain rule [ACH18],

    $$\frac{\partial \phi}{\partial W_j} = (W_N \cdots W_{j+1})^\top \, G \, (W_{j-1} \cdots W_1)^\top,
    \qquad G = \nabla \ell(W),$$

    with empty products equal to the identity.

    Parameters
    ----------
    weights : list of 2-D arrays
        ``[W_1, ..., W_N]``.
    grad : 2-D array of shape ``(d_N, d_0)``
        $G$, the gradient of the loss at the end-to-end matrix.

    Returns
    -------
    list of arrays, the ``j``-th with the shape of ``W_j``.
    """
    layers = check_weights(weights)
    G = as_matrix(grad, "the gradient G")
    shape = (layers[-1].shape[0], layers[0].shape[1])
    if G.shape != shape:
        raise ValueError(
            f"the gradient G = grad l(W) must have the shape of the end-to-end matrix W = W_N...W_1, "
            f"{shape}; got {G.shape}"
        )
    return _backward(layers, G, _prefixes(layers))


@guard
def balancedness_matrices(weights) -> list[np.ndarray]:
    r"""Return the $N-1$ matrices $W_{j+1}^\top W_{j+1} - W_j W_j^\top$, $j = 1..N-1$.

    Gradient flow leaves each of them constant in time (the balancedness invariant of [ACH18]);
    the weights are *balanced* when all are zero.
    """
    layers = check_weights(weights)
    return [layers[j + 1].T @ layers[j + 1] - layers[j] @ layers[j].T for j in range(len(layers) - 1)]


@guard
def balancedness_gaps(weights) -> np.ndarray:
    r"""Return the $N-1$ gaps $\|W_{j+1}^\top W_{j+1} - W_j W_j^\top\|_F$, $j = 1..N-1$.

    The weights are $\delta$-balanced (the definition of [ACGH19]) when every gap is at most $\delta$.

    Returns
    -------
    ndarray of shape ``(N - 1,)`` (empty for a single layer).
    """
    return np.array([np.linalg.norm(D) for D in balancedness_matrices(weights)], dtype=float)
