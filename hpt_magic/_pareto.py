"""Pareto dominance, non-dominated sorting and hypervolume: the arithmetic of several objectives.

Everything here works on *losses*: one row per point, one column per objective, lower is
better (``Direction.sign * value`` turns a score into a loss). Studies, samplers, schedulers and
the dashboard all rank and measure fronts with these functions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .trial import Direction, TrialState

if TYPE_CHECKING:
    from .trial import Trial

__all__ = ["dominates", "pareto_mask", "non_dominated_ranks", "crowding_distance",
           "nsga_order", "hypervolume", "prefix_hypervolumes", "default_reference",
           "pareto_front", "losses_of"]


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether loss vector ``a`` is no worse than ``b`` everywhere and better somewhere.

    Examples
    --------
    >>> dominates([1, 2], [1, 3]), dominates([1, 2], [1, 2]), dominates([0, 3], [1, 2])
    (True, False, False)
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return bool(np.all(a <= b) and np.any(a < b))


def _matrix(losses: Any) -> np.ndarray:
    """``losses`` as a 2-D float array (a 1-D one is one objective)."""
    a = np.asarray(losses, dtype=float)
    return a[:, None] if a.ndim == 1 else a


def _dominance(losses: np.ndarray) -> np.ndarray:
    """``D[i, j]``: point ``i`` dominates point ``j``."""
    # One objective at a time: n x n planes, never the n x n x m block (ten times slower).
    col = losses[:, 0]
    le, lt = col[:, None] <= col, col[:, None] < col
    for k in range(1, losses.shape[1]):
        col = losses[:, k]
        le &= col[:, None] <= col
        lt |= col[:, None] < col
    return le & lt


def pareto_mask(losses: np.ndarray) -> np.ndarray:
    """Which rows of ``losses`` no other row dominates (duplicates are all kept).

    Examples
    --------
    >>> pareto_mask(np.array([[1, 3], [2, 2], [3, 3], [1, 3]])).tolist()
    [True, True, False, True]
    """
    losses = _matrix(losses)
    if not len(losses):
        return np.zeros(0, dtype=bool)
    if losses.shape[1] == 2 and not np.isnan(losses).any():
        return _mask_2d(losses)
    return _mask_sorted(losses)


def _mask_2d(losses: np.ndarray) -> np.ndarray:
    """:func:`pareto_mask` of two objectives by one sweep, O(n log n) instead of n x n.

    In lexicographic order, a row is dominated exactly when a row before its run of
    duplicates has a second loss no larger than its own. (Rows with a NaN take
    :func:`_mask_sorted`: a NaN compares with nothing.)
    """
    order = np.lexsort((losses[:, 1], losses[:, 0]))
    a, b = losses[order, 0], losses[order, 1]
    best_before = np.minimum.accumulate(np.concatenate(([np.inf], b[:-1])))
    new_run = np.ones(len(a), dtype=bool)
    new_run[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    run_start = np.maximum.accumulate(np.where(new_run, np.arange(len(a)), 0))
    mask = np.empty(len(a), dtype=bool)
    mask[order] = (run_start == 0) | (best_before[run_start] > b)
    return mask


#: Rows of :func:`_mask_sorted` checked together against the front found so far.
_BLOCK = 128


def _mask_sorted(losses: np.ndarray) -> np.ndarray:
    """:func:`pareto_mask` of any number of objectives in O(n x front size), not n x n.

    A row is dominated only by rows before it in lexicographic order, and then by one on the
    front among them (dominance is transitive). So the rows are taken in that order, a block
    at a time: a row of the block is kept when no row of the front so far dominates it, nor
    another row of the block that passed that check. (A NaN compares with nothing: a row with
    one dominates none and none dominates it, wherever it is sorted.)
    """
    order = np.lexsort(losses.T[::-1])
    rows = losses[order]
    keep = np.zeros(len(rows), dtype=bool)
    front = rows[:0]
    for start in range(0, len(rows), _BLOCK):
        block = rows[start:start + _BLOCK]
        alive = np.flatnonzero(~_dominated_by(front, block))
        survivors = block[alive]
        alive = alive[~_dominance(survivors).any(axis=0)]
        keep[start + alive] = True
        front = np.concatenate([front, block[alive]])
    mask = np.empty(len(rows), dtype=bool)
    mask[order] = keep
    return mask


def _dominated_by(front: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Which of ``rows`` some row of ``front`` dominates (one objective at a time, as
    :func:`_dominance`)."""
    le = np.ones((len(front), len(rows)), dtype=bool)
    lt = np.zeros_like(le)
    for k in range(rows.shape[1]):
        a, b = front[:, k, None], rows[None, :, k]
        le &= a <= b
        lt |= a < b
    return (le & lt).any(axis=0)


def non_dominated_ranks(losses: np.ndarray) -> np.ndarray:
    """The front of each row: 0 for the Pareto front, 1 for the front once it is removed...

    Examples
    --------
    >>> non_dominated_ranks(np.array([[1, 3], [2, 2], [3, 3], [4, 4]])).tolist()
    [0, 0, 1, 2]
    """
    losses = _matrix(losses)
    return _ranks(losses, len(losses))


def _ranks(losses: np.ndarray, stop: int) -> np.ndarray:
    """Non-dominated sorting that ends once the fronts hold ``stop`` rows; the rows left
    over all get the next rank."""
    n = len(losses)
    ranks = np.full(n, -1)
    if not n:
        return ranks
    dom = _dominance(losses)
    count = np.count_nonzero(dom, axis=0)  # how many points dominate each point
    front = np.flatnonzero(count == 0)
    rank = done = 0
    while len(front) and done < stop:
        ranks[front] = rank
        done += len(front)
        count -= np.count_nonzero(dom[front], axis=0)
        count[front] = -1
        front = np.flatnonzero(count == 0)
        rank += 1
    ranks[ranks < 0] = rank
    return ranks


def crowding_distance(losses: np.ndarray) -> np.ndarray:
    """NSGA-II's crowding distance of each row within its set (``inf`` at the extremes):
    larger means a lonelier point, worth keeping for the spread of the front.

    Examples
    --------
    >>> crowding_distance(np.array([[0, 4], [1, 2], [3, 1], [4, 0]])).tolist()
    [inf, 1.5, 1.25, inf]
    """
    losses = _matrix(losses)
    return _crowding(losses, np.zeros(len(losses), dtype=int))


def _crowding(losses: np.ndarray, fronts: np.ndarray) -> np.ndarray:
    """The crowding distance of each row within its front (rows of equal ``fronts``), all
    fronts at once."""
    n, m = losses.shape
    dist = np.zeros(n)
    if not n:
        return dist
    first, last = np.ones(n, dtype=bool), np.ones(n, dtype=bool)
    for k in range(m):
        order = np.lexsort((losses[:, k], fronts))  # by front, then by objective k; stable
        col, f = losses[order, k], fronts[order]
        np.not_equal(f[1:], f[:-1], out=first[1:])
        last[:-1] = first[1:]
        starts, ends = np.flatnonzero(first), np.flatnonzero(last)
        span = np.repeat(col[ends] - col[starts], ends - starts + 1)
        inner = np.flatnonzero(~(first | last) & (span > 0))
        dist[order[first | last]] = math.inf
        dist[order[inner]] += (col[inner + 1] - col[inner - 1]) / span[inner]
    return dist


def nsga_order(losses: np.ndarray, violations: np.ndarray | None = None, *,
               best: int | None = None) -> np.ndarray:
    """Indices of ``losses`` from best to worst as NSGA-II ranks them (Deb et al., 2002).

    Feasible points (violation 0) come first, by front and, within a front, by crowding
    distance (lonely points first); infeasible points follow, least violation first. Ties
    keep their order. With one column this is a plain stable sort by loss. With ``best``,
    only the first ``best`` indices (the fronts after them are not sorted).

    Examples
    --------
    >>> nsga_order(np.array([[3, 3], [1, 2], [2, 1]]), np.array([0, 0.5, 0])).tolist()
    [2, 0, 1]
    """
    losses = _matrix(losses)
    n = len(losses)
    viol = np.zeros(n) if violations is None else np.asarray(violations, dtype=float)
    feasible = np.flatnonzero(viol <= 0)
    infeasible = np.flatnonzero(viol > 0)
    infeasible = infeasible[np.argsort(viol[infeasible], kind="stable")]
    if losses.shape[1] == 1:
        head = feasible[np.argsort(losses[feasible, 0], kind="stable")]
    else:
        sub = losses[feasible]
        head = feasible[_ranked(sub, len(sub) if best is None else best)[0]]
    return np.concatenate([head, infeasible]).astype(int)[:best]


def nsga_ranking(losses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`nsga_order` of ``losses`` (all feasible) and the front of each row (0: the
    Pareto front), from one non-dominated sort.

    Examples
    --------
    >>> order, fronts = nsga_ranking(np.array([[3, 3], [1, 2], [2, 1]]))
    >>> order.tolist(), fronts.tolist()
    ([1, 2, 0], [1, 0, 0])
    """
    losses = _matrix(losses)
    return _ranked(losses, len(losses))


def _ranked(losses: np.ndarray, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows by front, then crowding distance (lonely first); and each row's front."""
    ranks = _ranks(losses, stop)
    return np.lexsort((-_crowding(losses, ranks), ranks)), ranks


#: The exact hypervolume slices a front of m points in k > 2 objectives into about
#: m ** (k - 1) steps (2e6 take about 0.1 s here); past this many, it is estimated.
#: ``labextension/src/hypervolume.ts`` follows the same rule with the same numbers.
EXACT_WORK = 2_000_000
#: Points the estimate draws: its standard error is at most 0.5 / sqrt(SAMPLES) of its box.
SAMPLES = 1 << 15
#: The first counter of the estimate's fixed sequence of random numbers.
SEED = 0x5EED


def hypervolume(points: np.ndarray, reference: Sequence[float]) -> float:
    """The volume dominated by ``points`` and bounded by ``reference`` (both as losses).

    Points that do not beat the reference in every objective add nothing. Exact while that is
    cheap: a sweep in two dimensions; above that, slices along the last objective, as long as
    a front of m points in k objectives takes at most ``m ** (k - 1)`` <= :data:`EXACT_WORK`
    steps (fronts of up to 1414 points in 3 objectives, 125 in 4, 37 in 5, 7 in 8). A larger
    front gets a Monte Carlo estimate: the share of :data:`SAMPLES` uniform points of the box
    between the front's best value in each objective and the reference that the front
    dominates, times the box's volume. Its standard error is at most 0.28 % of the box's
    volume (an error over 1 % is a 1-in-3000 event); the points come from a fixed seed, so a
    front always gets the same number.

    Examples
    --------
    >>> hypervolume(np.array([[1.0, 2.0], [2.0, 1.0]]), [3.0, 3.0])
    3.0
    >>> hypervolume(np.array([[0.0, 0.0, 0.0]]), [1.0, 2.0, 3.0])
    6.0
    """
    ref = np.asarray(reference, dtype=float).reshape(-1)
    pts = np.asarray(points, dtype=float).reshape(-1, len(ref))
    pts = pts[_inside(pts, ref)]
    if not len(pts):
        return 0.0
    front = pts[pareto_mask(pts)]
    if _work(len(front), len(ref)) <= EXACT_WORK:
        return float(_hv(front, ref))
    volume, first = _estimate(front, ref)
    return volume * int(np.count_nonzero(first < len(front))) / SAMPLES


def prefix_hypervolumes(points: np.ndarray, reference: Sequence[float],
                        ends: Sequence[int]) -> np.ndarray:
    """The :func:`hypervolume` of ``points[:end]`` for each of ``ends`` (increasing).

    Exact when the fronts of all those prefixes together stay within :data:`EXACT_WORK`.
    Otherwise one estimate serves them all: the samples :func:`hypervolume` draws for
    ``points[:ends[-1]]``, each counted from the first point that dominates it on. The last
    value is always ``hypervolume(points[:ends[-1]], reference)``.

    Examples
    --------
    >>> prefix_hypervolumes(np.array([[2.0, 2.0], [1.0, 3.0], [1.0, 1.0]]), [4, 4], [1, 2, 3])
    array([4., 5., 9.])
    """
    ref = np.asarray(reference, dtype=float).reshape(-1)
    ends = np.asarray(ends, dtype=int)
    k = len(ref)
    pts = np.asarray(points, dtype=float).reshape(-1, k)[: ends[-1] if len(ends) else 0]
    inside = _inside(pts, ref)
    # The front so far grows by the points since the last end: each step ranks tens of
    # points, not every point again (2000 points: under 0.1 s instead of 9 s).
    fronts, front, start = [], pts[:0], 0
    for end in ends:
        front = np.concatenate([front, pts[start:end][inside[start:end]]])
        front, start = front[pareto_mask(front)], end
        fronts.append(front)
    if sum(_work(len(f), k) for f in fronts) <= EXACT_WORK:
        return np.array([_hv(f, ref) if len(f) else 0.0 for f in fronts])
    rows = np.flatnonzero(inside)
    volume, first = _estimate(pts[rows], ref)
    # A sample is dominated from its first dominating point on: count those before each end.
    dominated = np.searchsorted(np.sort(first), np.searchsorted(rows, ends))
    hv = volume * dominated / SAMPLES
    if _work(len(front), k) <= EXACT_WORK:
        hv[-1] = _hv(front, ref)
    return hv


def _inside(pts: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """The rows that beat the reference in every objective."""
    return np.all(pts < ref, axis=1) & np.all(np.isfinite(pts), axis=1)


def _work(m: int, k: int) -> int:
    """The steps of the exact hypervolume of ``m`` front points in ``k`` objectives."""
    return 0 if k <= 2 else m ** (k - 1)


def _hv(pts: np.ndarray, ref: np.ndarray) -> float:
    if pts.shape[1] == 1:
        return float(ref[0] - pts[:, 0].min())
    if pts.shape[1] == 2:
        # Dominated points change nothing here: the running minimum steps over them.
        order = np.lexsort((pts[:, 1], pts[:, 0]))
        x, y = pts[order, 0], pts[order, 1]
        best = np.minimum.accumulate(y)
        widths = np.diff(np.append(x, ref[0]))
        return float(np.sum(widths * (ref[1] - best)))
    order = np.argsort(pts[:, -1], kind="stable")
    pts = pts[order]
    total = 0.0
    for i in range(len(pts)):
        top = pts[i + 1, -1] if i + 1 < len(pts) else ref[-1]
        height = top - pts[i, -1]
        if height > 0:
            head = pts[: i + 1, :-1]
            if head.shape[1] > 2:
                head = head[pareto_mask(head)]
            total += _hv(head, ref[:-1]) * height
    return total


def _estimate(rows: np.ndarray, ref: np.ndarray) -> tuple[float, np.ndarray]:
    """The volume of the box between the best of ``rows`` (each inside ``ref``) and ``ref``,
    and for each of :data:`SAMPLES` uniform points of it, the first row that dominates it
    (``len(rows)``: none)."""
    ideal = rows.min(axis=0)
    volume = 1.0
    for width in ref - ideal:  # in order, as hypervolume.ts multiplies them
        volume *= float(width)
    samples = ideal + _uniform(SAMPLES, len(ref)) * (ref - ideal)
    first = np.full(SAMPLES, len(rows))
    left = np.arange(SAMPLES)
    # Rows a block at a time against the samples not dominated yet: len(left) x 64 booleans.
    for start in range(0, len(rows), 64):
        block, s = rows[start:start + 64], samples[left]
        hit = block[:, 0] <= s[:, :1]
        for d in range(1, len(ref)):
            hit &= block[:, d] <= s[:, d:d + 1]
        found = hit.any(axis=1)
        first[left[found]] = start + hit[found].argmax(axis=1)
        left = left[~found]
    return volume, first


def _uniform(n: int, k: int) -> np.ndarray:
    """``n`` x ``k`` numbers in (0, 1), always the same: a 32-bit integer hash (lowbias32) of
    the counters SEED, SEED + 1, ... (``hypervolume.ts`` computes the same numbers)."""
    x = np.arange(SEED, SEED + n * k, dtype=np.uint32)
    x ^= x >> 16
    x *= np.uint32(0x7FEB352D)
    x ^= x >> 15
    x *= np.uint32(0x846CA68B)
    x ^= x >> 16
    return ((x + 0.5) / 2.0**32).reshape(n, k)


def default_reference(values: np.ndarray, directions: Sequence[str | Direction]) -> np.ndarray:
    """The reference point of a study's hypervolume, in objective units: the nadir (worst value
    of each objective over ``values``) moved 10 % of that objective's range further towards
    worse (10 % of its size, or 1, when the range is 0).

    Examples
    --------
    >>> ref = default_reference(np.array([[0.9, 10.0], [0.5, 2.0]]), ["maximize", "minimize"])
    >>> ref.round(6).tolist()
    [0.46, 10.8]
    """
    signs = np.array([Direction(d).sign for d in directions], dtype=float)
    losses = np.asarray(values, dtype=float).reshape(-1, len(signs)) * signs
    worst, best = losses.max(axis=0), losses.min(axis=0)
    span = worst - best
    margin = np.where(span > 0, 0.1 * span, np.where(worst != 0, 0.1 * np.abs(worst), 1.0))
    return (worst + margin) * signs


def losses_of(trials: Iterable[Any], directions: Sequence[str | Direction]) -> np.ndarray:
    """The values of ``trials`` as a loss matrix (one row per trial)."""
    signs = np.array([Direction(d).sign for d in directions], dtype=float)
    rows = [list(t.values) for t in trials]
    return np.asarray(rows, dtype=float).reshape(len(rows), len(signs)) * signs


def pareto_front(trials: Iterable[Trial], directions: Sequence[str | Direction]) -> list[Trial]:
    """The complete, feasible trials that no other one dominates, best first in the first
    objective (ties by trial number). With one objective: the trials with the best score.

    A trial counts when it is complete, not marked infeasible (``feasible is False``) and has
    a finite value for every objective.
    """
    k = len(directions)
    done = [t for t in trials if t.state is TrialState.COMPLETE and t.feasible is not False
            and t.values is not None and len(t.values) == k]
    if not done:
        return []
    losses = losses_of(done, directions)  # a missing value (None) is NaN here
    finite = np.flatnonzero(np.isfinite(losses).all(axis=1))
    front = finite[pareto_mask(losses[finite])]
    numbers = np.array([done[i].number for i in front])
    order = np.lexsort((numbers, *losses[front].T[::-1]))
    return [done[i] for i in front[order]]
