"""A small Gaussian-process regressor in numpy: Matérn 5/2 kernel with ARD length scales.

Inputs live in the unit cube. A column marked categorical uses the Hamming distance (0 when two
values are equal, 1 otherwise) instead of the squared difference, which is the same as a one-hot
encoding with one length scale per parameter. Hyperparameters (inverse squared length scales,
signal variance, noise variance) are fitted by maximising the marginal likelihood plus weak
priors, with L-BFGS-B in log space and analytic gradients.

One model for the engine: the ``gp`` sampler, MOBSTER's model over (configuration, resource),
the study's convergence check and the analysis plots all fit this one.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg, optimize

__all__ = ["GaussianProcess", "fit_gp", "default_params"]

_SQRT5 = np.sqrt(5.0)
#: Smallest noise variance of the standardised targets: small enough to resolve the last digits
#: of a deterministic objective (1e-6 stalled there); a jittered Cholesky keeps it well posed.
MIN_NOISE = 1e-8
# Box for the log-hyperparameters: length scales from 0.01 to 30 unit cubes, and so on.
_LOG_THETA = (np.log(1e-3), np.log(1e4))
_LOG_SCALE = (np.log(1e-3), np.log(50.0))
_LOG_NOISE = (np.log(1e-9), np.log(2.0))


def _matern(r2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Matérn 5/2 of the scaled squared distance, and its derivative with respect to ``r2``."""
    sq = np.sqrt(5.0 * r2)
    e = np.exp(-sq)
    return e * (1.0 + sq + (5.0 / 3.0) * r2), (-5.0 / 6.0) * (1.0 + sq) * e


def _pair_sqdiff(A: np.ndarray, B: np.ndarray, categorical: np.ndarray) -> np.ndarray:
    """Per-dimension squared differences, shape ``(len(A), len(B), d)``."""
    D = (A[:, None, :] - B[None, :, :]) ** 2
    if categorical.any():
        D[..., categorical] = D[..., categorical] > 1e-12
    return D


def default_params(d: int) -> np.ndarray:
    """Log-hyperparameters ``[log theta_1..d, log scale, log extra noise]`` to start from."""
    return np.concatenate([np.zeros(d), [0.0, np.log(0.1)]])


def _neg_log_posterior(phi: np.ndarray, D: np.ndarray, y: np.ndarray,
                       fixed_noise: bool, noise_rate: float) -> tuple[float, np.ndarray]:
    n, _, d = D.shape
    theta, scale, extra = np.exp(phi[:d]), np.exp(phi[d]), np.exp(phi[d + 1])
    noise = MIN_NOISE + (0.0 if fixed_noise else extra)
    M, dM = _matern(D.reshape(-1, d) @ theta)
    M, dM = M.reshape(n, n), dM.reshape(n, n)
    K = scale * M
    K[np.diag_indices(n)] += noise
    try:
        L = linalg.cholesky(K, lower=True, check_finite=False)
    except linalg.LinAlgError:
        return 1e25, np.zeros_like(phi)
    alpha = linalg.cho_solve((L, True), y, check_finite=False)
    K_inv = linalg.cho_solve((L, True), np.eye(n), check_finite=False)
    W = np.outer(alpha, alpha) - K_inv
    grad = np.empty_like(phi)
    grad[:d] = 0.5 * theta * ((W * (scale * dM)).reshape(-1) @ D.reshape(-1, d))
    grad[d] = 0.5 * scale * np.sum(W * M)
    grad[d + 1] = 0.0 if fixed_noise else 0.5 * extra * np.trace(W)
    mll = -0.5 * y @ alpha - np.log(np.diag(L)).sum()
    # Weak priors (as in Optuna's GP): length scales of order one, a signal variance near one
    # and a noise of about 0.1 / noise_rate (small by default). They keep the fit sane with
    # few points.
    prior = (-(0.1 / theta + 0.1 * theta).sum() + np.log(scale) - scale
             + 0.1 * np.log(noise) - noise_rate * noise)
    grad[:d] += 0.1 / theta - 0.1 * theta
    grad[d] += 1.0 - scale
    if not fixed_noise:
        grad[d + 1] += (0.1 / noise - noise_rate) * extra
    return -(mll + prior), -grad


def fit_gp(X: np.ndarray, y: np.ndarray, categorical: np.ndarray,
           starts: list[np.ndarray], *, fixed_noise: bool = False,
           noise_rate: float = 30.0) -> GaussianProcess:
    """Fit the hyperparameters from each start in ``starts``; keep the best posterior.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Inputs in the unit cube.
    y : ndarray of shape (n,)
        Standardised targets.
    categorical : ndarray of bool, shape (d,)
    starts : list of ndarray
        Log-hyperparameter vectors to start L-BFGS-B from (e.g. the previous fit, the default).
    fixed_noise : bool
        Keep the noise at its minimum (a deterministic objective).
    noise_rate : float
        Rate of the noise variance's prior (a gamma with shape 1.1): the default expects
        nearly exact values; a noisy target (learning curves) wants about 1.
    """
    d = X.shape[1]
    D = _pair_sqdiff(X, X, categorical)
    bounds = [_LOG_THETA] * d + [_LOG_SCALE, _LOG_NOISE]
    lo, hi = np.array(bounds).T
    best_phi, best_f = None, np.inf
    for phi0 in starts:
        res = optimize.minimize(
            _neg_log_posterior, np.clip(phi0, lo, hi), args=(D, y, fixed_noise, noise_rate),
            jac=True, method="L-BFGS-B", bounds=bounds, options={"gtol": 1e-2, "maxiter": 200})
        if res.fun < best_f:
            best_phi, best_f = res.x, res.fun
    if best_phi is None:
        best_phi = default_params(d)
    return GaussianProcess(X, y, categorical, best_phi, fixed_noise=fixed_noise)


class GaussianProcess:
    """A GP posterior for fixed hyperparameters.

    Parameters
    ----------
    X, y : ndarray
        Training inputs (unit cube) and standardised targets.
    categorical : ndarray of bool
    phi : ndarray
        Log-hyperparameters as in :func:`default_params`.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, categorical: np.ndarray,
                 phi: np.ndarray, *, fixed_noise: bool = False) -> None:
        d = X.shape[1]
        self.phi = np.asarray(phi, dtype=float)
        self.fixed_noise = fixed_noise
        self.theta = np.exp(self.phi[:d])
        self.scale = float(np.exp(self.phi[d]))
        self.noise = MIN_NOISE + (0.0 if fixed_noise else float(np.exp(self.phi[d + 1])))
        self.categorical = categorical
        self.X, self.y = X, y
        K = self.scale * _matern(_pair_sqdiff(X, X, categorical) @ self.theta)[0]
        K[np.diag_indices(len(X))] += self.noise
        L = _robust_cholesky(K)
        self._alpha = linalg.cho_solve((L, True), y, check_finite=False)
        # The explicit inverse factor turns every prediction into plain matrix products,
        # cheaper than triangular solves for the many small batches of the acquisition search.
        self._L_inv = linalg.solve_triangular(L, np.eye(len(X)), lower=True, check_finite=False)

    @property
    def length_scales(self) -> np.ndarray:
        return 1.0 / np.sqrt(self.theta)

    def condition_on(self, X_new: np.ndarray, y_new: np.ndarray) -> GaussianProcess:
        """The same hyperparameters with extra (e.g. fantasised) observations."""
        return GaussianProcess(np.vstack([self.X, X_new]), np.concatenate([self.y, y_new]),
                               self.categorical, self.phi, fixed_noise=self.fixed_noise)

    def _r2(self, Xq: np.ndarray) -> np.ndarray:
        r2 = np.zeros((len(Xq), len(self.X)))
        for j, th in enumerate(self.theta):
            diff = Xq[:, j, None] - self.X[None, :, j]
            r2 += th * ((np.abs(diff) > 1e-12) if self.categorical[j] else diff * diff)
        return r2

    def predict(self, Xq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and variance of the latent function at ``Xq`` (shape (m, d))."""
        Kq = self.scale * _matern(self._r2(Xq))[0]
        mean = Kq @ self._alpha
        v = Kq @ self._L_inv.T
        var = np.maximum(self.scale - np.einsum("ij,ij->i", v, v), 1e-12)
        return mean, var

    def predict_grad(self, Xq: np.ndarray) -> tuple[np.ndarray, ...]:
        """Mean, variance and their gradients (shape (m, d)) with respect to the inputs.

        Gradients along categorical columns are zero: those are searched by enumeration.
        """
        M, dM = _matern(self._r2(Xq))
        Kq, dK = self.scale * M, self.scale * dM
        mean = Kq @ self._alpha
        v = Kq @ self._L_inv.T
        var = np.maximum(self.scale - np.einsum("ij,ij->i", v, v), 1e-12)
        w = v @ self._L_inv
        d_mean = np.zeros(Xq.shape)
        d_var = np.zeros(Xq.shape)
        for j, th in enumerate(self.theta):
            if self.categorical[j]:
                continue
            dr = dK * (2.0 * th) * (Xq[:, j, None] - self.X[None, :, j])
            d_mean[:, j] = dr @ self._alpha
            d_var[:, j] = -2.0 * np.einsum("ij,ij->i", dr, w)
        return mean, var, d_mean, d_var


def _robust_cholesky(K: np.ndarray) -> np.ndarray:
    jitter = 0.0
    for _ in range(6):
        try:
            return linalg.cholesky(K + jitter * np.eye(len(K)), lower=True, check_finite=False)
        except linalg.LinAlgError:
            jitter = max(1e-8, 10 * jitter)
    raise linalg.LinAlgError("kernel matrix is not positive definite")
