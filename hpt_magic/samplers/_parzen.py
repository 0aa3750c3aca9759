"""The Parzen estimators of :class:`~._tpe.TPESampler`, in the unit cube.

How each parameter is modelled (:class:`_Dim`, :class:`_Layout`), the estimator itself
(:class:`_Parzen`: truncated Gaussians, binned Gaussians and smoothed option counts, plus a
prior kernel), its bandwidth rules, and the candidates it samples and scores
(:class:`_Candidates`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from ..distributions import Choice, Distribution, Float, Grid, Int

_PRIOR_SIGMA = 1.0
#: Discrete dimensions with at most this many levels keep their unit encoding as tables.
_TABLE_LEVELS = 100_000
#: The package's own distributions: their levels are contiguous ordered bins (see _Dim).
_TABLED = (Float, Int, Choice, Grid)
_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


class _Binned(NamedTuple):
    """Observations' values along the binned dimensions, numbered (see :class:`_Parzen`)."""

    #: Per binned dimension, its distinct values.
    values: list[np.ndarray]
    #: Per observation (row) and binned dimension (column), the index of its value among them.
    codes: np.ndarray


class _Kernels(NamedTuple):
    """The kernels of one binned dimension (one per distinct value with joint kernels, else
    one per observation; the prior's last)."""

    mu: np.ndarray
    sigma: np.ndarray
    #: Log mass of each kernel's Gaussian on ``[0, 1]`` (its truncation).
    log_z: np.ndarray
    #: The kernel of each observation and of the prior, or ``None``: one kernel each.
    of_obs: np.ndarray | None


class _Draw(NamedTuple):
    """What :meth:`_Parzen.sample` reads for every draw, computed at the first."""

    #: The kernels' cumulative weights (as ``rng.choice`` builds them).
    cdf: np.ndarray
    #: The kernels' normal CDFs at 0 and at 1 (their truncation), shaped like the means.
    a: np.ndarray
    b: np.ndarray
    #: Per categorical dimension, the cumulative option probabilities of each kernel row.
    option_cdfs: list[np.ndarray]


class _Bins(NamedTuple):
    """The bins of the candidates along one binned dimension."""

    #: The distinct bin edges, sorted.
    edges: np.ndarray
    #: The position in ``edges`` of each candidate's lower and upper edge.
    lo: np.ndarray
    hi: np.ndarray


def dims_of(dists: tuple[Distribution, ...]) -> tuple[_Dim, ...]:
    """The :class:`_Dim` of each distribution: the package's own ones shared (``_dim``), a
    user's subclass built afresh."""
    return tuple(_dim(d) if type(d) in _TABLED else _Dim(d) for d in dists)


@functools.lru_cache(maxsize=256)
def _dim(dist: Distribution) -> _Dim:
    """The :class:`_Dim` of one of the package's distributions, built once (its tables are
    reused by every trial). They hash and compare by what their values mean (not their
    prior), and so does a ``_Dim``; a user's subclass gets its own (per distribution object,
    see ``TPESampler._layout``)."""
    return _Dim(dist)


class _Dim:
    """How one parameter is modelled: continuous, discrete (ints, steps) or categorical.

    Where its values sit in the unit interval is the distribution's own encoding.
    """

    def __init__(self, dist: Distribution) -> None:
        self.dist = dist
        self.n_choices = dist.n_levels if isinstance(dist, Choice) else 0
        self.discrete = not self.n_choices and dist.n_levels is not None
        # Equal-width bins (a log-int's are not) bound the bandwidth from below: see _floor.
        self.n_bins = dist.n_levels if self.discrete and not dist.log else 0
        levels = dist.n_levels
        if levels is not None and levels <= _TABLE_LEVELS and type(dist) in _TABLED:
            # The distribution's encoding as tables, read by index: TPE maps thousands of
            # candidates to levels for every trial, and the general methods cost more. (Only
            # the package's own distributions, whose levels are contiguous ordered bins; a
            # user's subclass keeps its own level_index.)
            self.centre, self.lower, self.upper = dist.level_units(np.arange(levels))
        else:
            self.centre = self.lower = self.upper = None

    def index(self, u: np.ndarray) -> np.ndarray:
        """The levels of points ``u`` (``dist.level_index``, by the table when there is one)."""
        if self.upper is None:
            return self.dist.level_index(u)
        return np.minimum(self.upper.searchsorted(u, side="right"), len(self.upper) - 1)

    def units(self, k: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``dist.level_units(k)``: centre, lower and upper edge of levels ``k``."""
        if self.upper is None:
            return self.dist.level_units(k)
        return self.centre[k], self.lower[k], self.upper[k]


class _Layout:
    """Which dimensions are numeric (continuous or binned) and which categorical.

    ``num`` and ``cat`` are dimension indices; ``cont`` and ``binned`` positions in ``num``
    (the columns of the estimators' means and bandwidths).
    """

    def __init__(self, dims: tuple[_Dim, ...]) -> None:
        self.dims = dims
        self.num = [k for k, dim in enumerate(dims) if not dim.n_choices]
        self.cat = [k for k, dim in enumerate(dims) if dim.n_choices]
        self.cont = [j for j, k in enumerate(self.num) if not dims[k].discrete]
        self.binned = [j for j, k in enumerate(self.num) if dims[k].discrete]
        #: Dimension indices of the continuous and the binned dimensions (the binned ones
        #: as a tuple: it is part of the key under which the history numbers their values).
        self.cont_dims = [self.num[j] for j in self.cont]
        self.binned_dims = tuple(self.num[j] for j in self.binned)
        #: Half a bin of the numeric dimensions with equal-width bins: see _floor.
        self.bin_floor = np.array([0.5 / dims[k].n_bins if dims[k].n_bins else 0.0
                                   for k in self.num])


class _Candidates:
    """Points to score, with what both estimators read from them, computed once: the
    continuous coordinates, the bins of the binned ones and the options of the categorical.
    """

    def __init__(self, x: np.ndarray, layout: _Layout) -> None:
        self.x = x
        self.x_cont = x[:, layout.cont_dims]
        #: ``x_cont**2 / 2``: the candidates' own term of the joint kernels' expanded squared
        #: distances (see :meth:`_Parzen.log_pdf`).
        self.half_sq = 0.5 * (self.x_cont**2)
        #: The bins of each binned dimension.
        self.bins: list[_Bins] = []
        for k in layout.binned_dims:
            dim = layout.dims[k]
            _, lo, hi = dim.units(dim.index(x[:, k]))
            both = np.concatenate([lo, hi])
            edges = np.sort(both)
            distinct = np.empty(len(edges), dtype=bool)
            distinct[0] = True
            np.not_equal(edges[1:], edges[:-1], out=distinct[1:])
            edges = edges[distinct]
            pos = edges.searchsorted(both)
            self.bins.append(_Bins(edges, pos[:len(x)], pos[len(x):]))
        self.options = [layout.dims[k].index(x[:, k]) for k in layout.cat]


class _Parzen:
    """A mixture of one kernel per observation plus a prior kernel, in the unit cube.

    Continuous dimensions use Gaussians truncated to ``[0, 1]``; binned ones (integers, steps)
    the mass of that Gaussian over the value's bin; categorical ones the observed option
    smoothed towards uniform. ``joint`` kernels are products over the dimensions; otherwise
    each dimension is its own mixture (sampled and scored separately, as classic TPE does).

    What depends on the kernels alone is computed once, here: the good group's estimator
    serves many trials. Joint kernels share one bandwidth per dimension, so along a binned
    or categorical dimension the observations of one value have the same kernel: it is
    computed once per value (``binned``: the distinct values of the binned dimensions and
    the index among them of each observation's, when the caller has them).

    Along binned and categorical dimensions the last ``vague`` observations (running trials)
    have the prior's kernels; their values still count in the bandwidths.
    """

    def __init__(self, X: np.ndarray, layout: _Layout, prior_weight: float, joint: bool,
                 binned: _Binned | None = None, vague: int = 0) -> None:
        n = len(X)
        self.n, self.layout, self.joint, self.vague = n, layout, joint, vague
        num = layout.num
        w = np.ones(n + 1)
        w[n] = prior_weight
        self.w = w / w.sum()
        self.log_w = np.log(self.w)
        X_num = X[:, num]
        self.mu = np.empty((n + 1, len(num)))
        self.mu[:n], self.mu[n] = X_num, 0.5
        rule = _scott_bandwidth if joint else _neighbour_bandwidth
        #: The observations' bandwidths: one per dimension (joint kernels, shared by all the
        #: observations), or one per observation and dimension.
        self.bandwidth = rule(X_num, len(layout.dims), layout.bin_floor)
        self.sigma = np.empty((n + 1, len(num)))
        self.sigma[:n], self.sigma[n] = self.bandwidth, _PRIOR_SIGMA
        if vague and not joint:  # (joint kernels: see _bin_kernels)
            self.mu[n - vague:n, layout.binned] = 0.5
            self.sigma[n - vague:n, layout.binned] = _PRIOR_SIGMA
        # (Copies, in the memory order of fancy indexing: the order of the sums depends on it,
        # and this order keeps the proposals bit-identical to the earlier versions'.)
        mu, s = self.mu[:, layout.cont], self.sigma[:, layout.cont]
        log_z = _log_z(mu, s)
        if joint:
            # sum_d (x_d - mu_d)^2 / s_d^2 expanded into matrix products (see log_pdf).
            inv = 1.0 / s**2
            self.const = self.log_w - (0.5 * mu**2 * inv + np.log(s) + log_z
                                       + _LOG_SQRT_2PI).sum(1)
            self.inv_t, self.mu_inv_t = inv.T, (mu * inv).T
        else:
            self.mu_cont, self.sigma_cont = mu, s
            self.log_norm = self.log_w[:, None] - np.log(s) - log_z - _LOG_SQRT_2PI
        self.kernels = self._bin_kernels(binned)
        #: Per categorical dimension: the log probabilities of the options (columns) under an
        #: observation of each option and under the prior (rows), and each kernel's row.
        self.options: list[tuple[np.ndarray, np.ndarray]] = []
        for k in layout.cat:
            m = layout.dims[k].n_choices
            p = np.full((m + 1, m), prior_weight / m)
            p[:m] += np.eye(m)
            p[m] = 1.0
            rows = np.append(layout.dims[k].index(X[:, k]), m)
            rows[n - vague:n] = m
            self.options.append((np.log(p / p.sum(axis=1, keepdims=True)), rows))
        self._draw: _Draw | None = None

    def _bin_kernels(self, binned: _Binned | None) -> list[_Kernels]:
        """The kernels of each binned dimension."""
        cols = self.layout.binned
        if not cols:
            return []
        if not self.joint:
            mu, sigma = self.mu[:, cols], self.sigma[:, cols]
            log_z = _log_z(mu, sigma)
            return [_Kernels(mu[:, i], sigma[:, i], log_z[:, i], None)
                    for i in range(len(cols))]
        kernels = []
        for i, j in enumerate(cols):
            if binned is None:
                seen = self.n - self.vague
                values, of_obs = np.unique(self.mu[:seen, j], return_inverse=True)
                of_obs = np.append(of_obs, np.full(self.vague, len(values)))  # the prior's
            else:
                values, of_obs = binned.values[i], binned.codes[:, i]
            mu = np.concatenate([values, self.mu[self.n:, j]])
            sigma = np.full(len(mu), self.bandwidth[j])
            sigma[-1] = self.sigma[self.n, j]
            kernels.append((mu, sigma, np.append(of_obs, len(values))))
        # The normalisers of all the dimensions at once.
        log_z = _log_z(np.concatenate([mu for mu, _, _ in kernels]),
                       np.concatenate([sigma for _, sigma, _ in kernels]))
        ends = np.cumsum([len(mu) for mu, _, _ in kernels])
        return [_Kernels(mu, sigma, log_z[end - len(mu):end], of_obs)
                for (mu, sigma, of_obs), end in zip(kernels, ends)]

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` points; one kernel per point, or per point and dimension when not joint."""
        layout = self.layout
        num, d = layout.num, len(layout.dims)
        if self._draw is None:
            cdf = self.w.cumsum()
            cdf /= cdf[-1]
            ndtr = _special().ndtr
            a, b = ndtr(-self.mu / self.sigma), ndtr((1 - self.mu) / self.sigma)
            self._draw = _Draw(cdf, a, b, [np.exp(p).cumsum(axis=1) for p, _ in self.options])
        cdf, a_all, b_all, cum_all = self._draw
        # rng.choice(len(w), shape, p=w) draws these, after checks of w that cost more.
        comp = cdf.searchsorted(rng.random((size, 1 if self.joint else d)), side="right")
        if self.joint:
            rows = comp[:, 0]
            mu, sigma, a, b = self.mu[rows], self.sigma[rows], a_all[rows], b_all[rows]
        else:
            rows, cols = comp[:, num], np.arange(len(num))
            mu, sigma = self.mu[rows, cols], self.sigma[rows, cols]
            a, b = a_all[rows, cols], b_all[rows, cols]
        out = np.empty((size, d))
        x = np.clip(mu + sigma * _special().ndtri(a + rng.random(mu.shape) * (b - a)), 0.0, 1.0)
        out[:, num] = x
        for j, k in zip(layout.binned, layout.binned_dims):
            dim = layout.dims[k]
            out[:, k] = dim.units(dim.index(x[:, j]))[0]
        for k, cum, (_, kernel_rows) in zip(layout.cat, cum_all, self.options):
            cum = cum[kernel_rows[comp[:, 0 if self.joint else k]]]
            idx = np.minimum((rng.random((size, 1)) > cum).sum(axis=1), cum.shape[1] - 1)
            out[:, k] = layout.dims[k].units(idx)[0]
        return out

    def log_pdf(self, cand: _Candidates) -> np.ndarray:
        """Log density (mass along binned and categorical dimensions) at the candidates.

        Shape ``(n_candidates,)`` for joint kernels, ``(n_candidates, n_dims)`` otherwise.
        """
        layout = self.layout
        # (The arrays of one value per candidate and kernel are large: few are made, and
        # they are written in place.)
        if self.joint:
            total = cand.half_sq @ self.inv_t
            np.subtract(self.const, total, out=total)
            term = np.matmul(cand.x_cont, self.mu_inv_t, out=np.empty_like(total))
            total += term
            for _ in self._terms(cand, term):
                total += term
            return _logsumexp(total, axis=-1, overwrite=True)
        out = np.empty((len(cand.x), len(layout.dims)))
        mu, s = self.mu_cont, self.sigma_cont
        z = cand.x[:, None, layout.cont_dims] / s - mu / s
        z *= z
        z *= -0.5
        z += self.log_norm
        out[:, layout.cont_dims] = _logsumexp(z, axis=1, overwrite=True)
        term = np.empty((len(cand.x), self.n + 1))
        for k in self._terms(cand, term):
            term += self.log_w
            out[:, k] = _logsumexp(term, axis=-1, overwrite=True)
        return out

    def _terms(self, cand: _Candidates, out: np.ndarray) -> Iterator[int]:
        """Each binned and categorical dimension in turn, once ``out`` holds its per-kernel
        log mass (shape ``(n_candidates, n_kernels)``).

        ``out`` is the caller's buffer, overwritten at every step: read (or add up) its
        contents before asking for the next dimension.
        """
        for k, (edges, lo, hi), (mu, sigma, log_z, of_obs) in zip(
                self.layout.binned_dims, cand.bins, self.kernels):
            # The normal CDF at each distinct edge, then the mass of each candidate's bin.
            cdf = _special().ndtr((edges[:, None] - mu) / sigma)
            log_mass = np.log(np.maximum(cdf[hi] - cdf[lo], 1e-300))
            if of_obs is None:
                np.subtract(log_mass, log_z, out=out)
            else:
                np.take(log_mass - log_z, of_obs, axis=1, out=out)
            yield k
        for k, (log_p, rows), idx in zip(self.layout.cat, self.options, cand.options):
            np.take(log_p.T[idx], rows, axis=1, out=out)
            yield k


@functools.cache
def _special() -> Any:
    """``scipy.special``, imported on first use, not with the package (start-up time)."""
    import scipy.special

    return scipy.special


def _log_z(mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Log mass that Gaussians ``(mu, sigma)`` put on ``[0, 1]`` (their truncation)."""
    ndtr = _special().ndtr
    return np.log(ndtr((1 - mu) / sigma) - ndtr(-mu / sigma))


def _logsumexp(a: np.ndarray, axis: int, overwrite: bool = False) -> np.ndarray:
    """``log(sum(exp(a)))`` along ``axis``: the values of ``scipy.special.logsumexp`` (``-inf``
    for a row of ``-inf``, ``inf`` for a row with ``inf``); ``overwrite``: ``a`` may serve
    as scratch space.

    scipy's own costs four times as much on these arrays (it exponentiates twice for accuracy
    near zero, which a density ratio does not need): with it a 300-trial run took about 20 %
    (joint kernels) to 50-80 % (independent kernels) longer.
    """
    top = a.max(axis=axis, keepdims=True)
    top[~np.isfinite(top)] = 0.0
    e = np.subtract(a, top, out=a if overwrite else None)
    np.exp(e, out=e)
    with np.errstate(divide="ignore"):
        return (top + np.log(e.sum(axis=axis, keepdims=True))).squeeze(axis)


def _scott_bandwidth(X: np.ndarray, n_dims: int, bin_floor: np.ndarray) -> np.ndarray:
    """One bandwidth per dimension for joint kernels: Scott's rule on the points' spread.

    The spread is measured relative to a uniform one (``std * sqrt(12)``), so the first
    bandwidths are ``0.2 * n ** (-1 / (d + 4))``, as in Optuna, and they shrink as the good
    points cluster.
    """
    n = len(X)
    spread = X.std(axis=0, ddof=1) * math.sqrt(12) if n > 1 else np.ones(X.shape[1])
    sigma = 0.2 * spread * max(n, 1) ** (-1.0 / (n_dims + 4))
    return np.clip(sigma, _floor(n, bin_floor), _PRIOR_SIGMA)


def _neighbour_bandwidth(X: np.ndarray, n_dims: int, bin_floor: np.ndarray) -> np.ndarray:
    """One bandwidth per point and dimension (classic TPE): the larger gap to a neighbour."""
    if not len(X):
        return X.copy()
    order = np.argsort(X, axis=0, kind="stable")
    edges = np.zeros((1, X.shape[1]))
    xs = np.vstack([edges, np.take_along_axis(X, order, axis=0), edges + 1.0])
    gap = np.maximum(np.diff(xs, axis=0)[:-1], np.diff(xs, axis=0)[1:])
    sigma = np.empty_like(X)
    np.put_along_axis(sigma, order, gap, axis=0)
    return np.clip(sigma, _floor(len(X), bin_floor), _PRIOR_SIGMA)


def _floor(n: int, bin_floor: np.ndarray) -> np.ndarray:
    """The smallest bandwidths: ``0.5 / min(100, n + 1)`` (half of Optuna's), and half a bin
    for integers (``bin_floor``), so that the kernels never collapse onto a few points."""
    return np.maximum(0.5 / min(100, n + 1), bin_floor)
