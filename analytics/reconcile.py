"""Coherent forecasts across a hierarchy (e.g. EU total = sum of countries), by linear reconciliation.

Base forecasts of every node (aggregates and bottom series, fitted independently) generally do not
add up. With S the summing matrix (nodes x bottom series) and W the covariance of the base forecast
errors, the reconciled forecasts are

    y_tilde = S (S' W^-1 S)^-1 S' W^-1 y_hat,

which add up exactly and, for the MinT choice of W, have minimum trace error variance among coherent
unbiased forecasts (Wickramasuriya, Athanasopoulos & Hyndman 2019, JASA 114:804). Choices of W:
- "ols":         W = I (Hyndman et al. 2011);
- "wls_struct":  W = diag(S 1) — each node weighted by how many bottom series it sums (needs no errors);
- "wls_var":     W = diag of the base forecast error variances;
- "mint_shrink": W = lambda diag(Sigma) + (1 - lambda) Sigma, Sigma the error covariance, lambda the
                 Schaefer-Strimmer (2005) shrinkage intensity of the correlations towards zero.
Errors come from the backtests (every node is tested on the same origins). Interval bounds are moved
by the same amount as their mean (an approximation: reconciliation also narrows the intervals).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

METHODS = ("ols", "wls_struct", "wls_var", "mint_shrink")


def summing_matrix(bottom: Sequence[str], aggregates: Mapping[str, Sequence[str]]) -> tuple[np.ndarray, list[str]]:
    """S and its row labels: one row per aggregate (1 where a bottom series belongs to it), then identity."""
    index = {name: j for j, name in enumerate(bottom)}
    rows = []
    for name, members in aggregates.items():
        unknown = [m for m in members if m not in index]
        if unknown:
            raise ValueError(f"aggregate {name!r} names unknown bottom series {unknown}")
        row = np.zeros(len(bottom))
        row[[index[m] for m in members]] = 1.0
        rows.append(row)
    S = np.vstack([*rows, np.eye(len(bottom))]) if rows else np.eye(len(bottom))
    return S, list(aggregates) + list(bottom)


def shrunk_covariance(errors: np.ndarray) -> tuple[np.ndarray, float]:
    """Schaefer-Strimmer shrinkage of the error covariance towards its diagonal: (W, lambda)."""
    e = np.asarray(errors, dtype=float)
    T = e.shape[0]
    centred = e - e.mean(axis=0)
    cov = centred.T @ centred / T
    sd = np.sqrt(np.diag(cov))
    sd = np.where(sd > 0, sd, 1.0)
    standard = centred / sd
    corr = standard.T @ standard / T
    # variance of each sample correlation, Schaefer & Strimmer (2005) eq. for the unbiased estimator
    products = standard[:, :, None] * standard[:, None, :]
    var_corr = T / (T - 1) ** 3 * ((products - products.mean(axis=0)) ** 2).sum(axis=0)
    off = ~np.eye(corr.shape[0], dtype=bool)
    denominator = (corr[off] ** 2).sum()
    lam = float(np.clip(var_corr[off].sum() / denominator, 0.0, 1.0)) if denominator > 0 else 1.0
    shrunk = lam * np.diag(np.diag(cov)) + (1 - lam) * cov
    return shrunk, lam


def weight_matrix(S: np.ndarray, method: str, errors: np.ndarray | None = None) -> np.ndarray:
    if method == "ols":
        return np.eye(S.shape[0])
    if method == "wls_struct":
        return np.diag(S.sum(axis=1))
    if errors is None:
        raise ValueError(f"reconciliation method {method!r} needs base forecast errors")
    if method == "wls_var":
        variances = np.var(errors, axis=0)
        return np.diag(
            np.where(variances > 0, variances, variances[variances > 0].min() if (variances > 0).any() else 1.0)
        )
    if method == "mint_shrink":
        W, _ = shrunk_covariance(errors)
        # A node whose backtest errors are all zero (a constant series forecast exactly) has no variance:
        # give it the smallest variance seen (1 when none is positive) so W stays invertible.
        diagonal = np.diag(W)
        floor = diagonal[diagonal > 0].min() if (diagonal > 0).any() else 1.0
        W = W + np.diag(np.where(diagonal > 0, 0.0, floor))
        return W + 1e-9 * np.trace(W) / len(W) * np.eye(len(W))
    raise ValueError(f"unknown reconciliation method {method!r}; choose from {', '.join(METHODS)}")


def projection(S: np.ndarray, method: str = "ols", errors: np.ndarray | None = None) -> np.ndarray:
    """G with y_tilde = S G y_hat (bottom-level reconciled forecasts = G y_hat)."""
    W = weight_matrix(S, method, errors)
    Winv_S = np.linalg.solve(W, S)
    return np.linalg.solve(S.T @ Winv_S, Winv_S.T)


def reconcile(base: np.ndarray, S: np.ndarray, method: str = "ols", errors: np.ndarray | None = None) -> np.ndarray:
    """Coherent forecasts from base forecasts `base` (nodes x horizon, rows in S's order).

    `errors`: base forecast errors, one column per node (T x nodes), for "wls_var" and "mint_shrink".
    """
    base = np.asarray(base, dtype=float)
    if base.shape[0] != S.shape[0]:
        raise ValueError(f"base forecasts have {base.shape[0]} rows; the hierarchy has {S.shape[0]} nodes")
    return S @ (projection(S, method, errors) @ base)


def is_coherent(values: np.ndarray, S: np.ndarray, tolerance: float = 1e-6) -> bool:
    """True when every aggregate row equals the sum of its bottom series (relative tolerance)."""
    values = np.asarray(values, dtype=float)
    k = S.shape[1]
    bottom = values[-k:]
    return bool(np.allclose(S @ bottom, values, rtol=tolerance, atol=tolerance))
