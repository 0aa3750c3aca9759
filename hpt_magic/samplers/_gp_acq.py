"""Acquisition functions on a GP posterior, and their maximisation over a mixed space.

All acquisitions are maximised; the GP models a loss (lower is better). ``ei`` is the log of
the expected improvement, computed stably far from the incumbent (Ament et al., 2023,
"Unexpected improvements to expected improvement"), ``pi`` the log probability of improvement,
``ucb`` the lower confidence bound of the loss with its sign flipped.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, special
from scipy.stats import qmc

from .._encoding import Encoding
from .._gp_model import GaussianProcess

__all__ = ["Acquisition", "maximize"]

_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)
_SQRT_HALF = np.sqrt(0.5)
_SQRT_HALF_PI = np.sqrt(0.5 * np.pi)


def _log_h(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``log(z * Phi(z) + phi(z))`` and its derivative ``Phi(z) / h(z)``."""
    out = np.empty_like(z)
    big = z > -25.0
    zb = z[big]
    out[big] = np.log(0.5 * zb * special.erfc(-_SQRT_HALF * zb)
                      + np.exp(-0.5 * zb * zb - _LOG_SQRT_2PI))
    zs = z[~big]
    # h(z) = phi(z) * (1 + z * Phi(z) / phi(z)), with Phi/phi through erfcx to avoid underflow.
    out[~big] = (-0.5 * zs * zs - _LOG_SQRT_2PI
                 + np.log1p(_SQRT_HALF_PI * zs * special.erfcx(-_SQRT_HALF * zs)))
    return out, np.exp(special.log_ndtr(z) - out)


class Acquisition:
    """One acquisition function bound to a fitted GP.

    Parameters
    ----------
    kind : {"ei", "pi", "ucb"}
    gp : GaussianProcess
    best : float
        The incumbent (lowest standardised loss observed).
    kappa : float
        Width of the confidence bound for ``"ucb"``.
    """

    def __init__(self, kind: str, gp: GaussianProcess, best: float, kappa: float = 2.0) -> None:
        self.kind, self.gp, self.best, self.kappa = kind, gp, best, kappa

    def __call__(self, X: np.ndarray) -> np.ndarray:
        mean, var = self.gp.predict(X)
        return self._value(mean, np.sqrt(var))[0]

    def value_and_grad(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean, var, d_mean, d_var = self.gp.predict_grad(X)
        sd = np.sqrt(var)
        value, da_dmean, da_dsd = self._value(mean, sd)
        d_sd = d_var / (2.0 * sd[:, None])
        return value, da_dmean[:, None] * d_mean + da_dsd[:, None] * d_sd

    def _value(self, mean: np.ndarray, sd: np.ndarray) -> tuple[np.ndarray, ...]:
        """The acquisition and its partial derivatives with respect to mean and sd."""
        if self.kind == "ucb":
            return -mean + self.kappa * sd, -np.ones_like(mean), np.full_like(sd, self.kappa)
        z = (self.best - mean) / sd
        if self.kind == "pi":
            log_pi = special.log_ndtr(z)
            ratio = np.exp(-0.5 * z * z - _LOG_SQRT_2PI - log_pi)
            return log_pi, -ratio / sd, -ratio * z / sd
        log_h, ratio = _log_h(z)
        return np.log(sd) + log_h, -ratio / sd, (1.0 - ratio * z) / sd


def maximize(acq: Acquisition, enc: Encoding, rng: np.random.Generator,
             starts: np.ndarray, *, n_candidates: int = 1024, n_local: int = 5,
             exclude: np.ndarray | None = None) -> np.ndarray:
    """The best point found for ``acq``: Sobol screening, then local refinement.

    The ``n_local`` best candidates and the given ``starts`` (e.g. the incumbent) are refined
    together: one L-BFGS-B run on the continuous columns (preconditioned by the length scales),
    then a sweep over the discrete columns, and L-BFGS-B again if the sweep moved a point.
    Points in ``exclude`` (already tried) are not returned while a new one is available.
    """
    d = enc.dim
    m = int(np.log2(max(2, n_candidates)))
    sobol = qmc.Sobol(d, scramble=True, seed=rng).random_base2(m)
    cand = enc.round(np.vstack([sobol, starts]))
    values = acq(cand)
    order = np.argsort(-values)
    top = _distinct(cand[order], n_local)
    X = enc.round(np.vstack([top, starts]))
    vals = acq(X)
    X, vals = _gradient_steps(acq, enc, X, vals)
    X, vals, changed = _sweep(acq, enc, X, vals)
    if changed:
        X, vals = _gradient_steps(acq, enc, X, vals)
    X = enc.round(X)
    if exclude is None or not len(exclude):
        return X[int(np.argmax(vals))]
    # A point already tried teaches a noiseless objective nothing: take the best refined point
    # that is new, else the best new screening candidate (an optimum on a boundary otherwise
    # draws every proposal back to itself).
    for points, scores in ((X, vals), (cand[order], values[order])):
        fresh = ~_seen(points, exclude)
        if fresh.any():
            return points[fresh][int(np.argmax(scores[fresh]))]
    return X[int(np.argmax(vals))]


def _seen(points: np.ndarray, exclude: np.ndarray) -> np.ndarray:
    """Which rows of ``points`` coincide with a row of ``exclude``."""
    gap = np.abs(points[:, None, :] - exclude[None, :, :]).max(axis=2)
    return (gap < 1e-9).any(axis=1)


def _distinct(X: np.ndarray, k: int) -> np.ndarray:
    keep = [X[0]]
    for x in X[1:]:
        if len(keep) == k:
            break
        if min(np.abs(x - y).max() for y in keep) > 1e-9:
            keep.append(x)
    return np.array(keep)


def _gradient_steps(acq: Acquisition, enc: Encoding, X: np.ndarray,
                    vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    cols = enc.relaxed
    if cols.size == 0:
        return X, vals
    scale = acq.gp.length_scales[cols]
    k = len(X)

    def negative(z: np.ndarray) -> tuple[float, np.ndarray]:
        Xz = X.copy()
        Xz[:, cols] = z.reshape(k, -1) * scale
        v, g = acq.value_and_grad(Xz)
        return -float(v.sum()), -(g[:, cols] * scale).ravel()

    # One L-BFGS-B run over all starts: the sum is separable, so each start follows its own
    # gradient while scipy's per-call overhead is paid once.
    bounds = [(0.0, 1.0 / s) for s in scale] * k
    res = optimize.minimize(negative, (X[:, cols] / scale).ravel(), jac=True,
                            method="L-BFGS-B", bounds=bounds,
                            options={"maxiter": 60, "gtol": 1e-3})
    X_new = X.copy()
    X_new[:, cols] = np.clip(res.x.reshape(k, -1) * scale, 0.0, 1.0)
    X_new = enc.round(X_new)
    new_vals = acq(X_new)
    better = new_vals > vals
    return np.where(better[:, None], X_new, X), np.where(better, new_vals, vals)


def _sweep(acq: Acquisition, enc: Encoding, X: np.ndarray,
           vals: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """Coordinate search over the discrete columns: every level of an enumerated column, the
    nearest few levels of a relaxed one (which gradient steps and rounding cannot resolve)."""
    changed = False
    rows = np.arange(len(X))
    for j in np.flatnonzero(enc.levels > 0):
        if j in enc.enumerated:
            levels = np.tile(enc.choices(j), (len(X), 1))
        else:
            levels = enc.levels_near(j, X[:, j])
        trial = np.repeat(X, levels.shape[1], axis=0)
        trial[:, j] = levels.ravel()
        tv = acq(trial).reshape(levels.shape)
        best = tv.argmax(axis=1)
        improved = tv[rows, best] > vals + 1e-12
        if improved.any():
            changed = True
            X = X.copy()
            X[improved, j] = levels[rows, best][improved]
            vals = np.where(improved, tv[rows, best], vals)
    return X, vals, changed
