"""The one base class that every sampler subclasses."""

from __future__ import annotations

import functools
import zlib
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.random.bit_generator import ISpawnableSeedSequence

from ..distributions import Distribution
from ..trial import Trial, TrialState

if TYPE_CHECKING:
    from ..study._study import Study

__all__ = ["Sampler", "failed_points", "observations", "telling_failure"]

_MASK64 = (1 << 64) - 1
#: Mixed into the streams of a redrawn trial (any constant no crc32 of a salt is likely to be).
_REDRAW = 0x5EED << 32


class _StreamKey(ISpawnableSeedSequence):
    """The seed of one random stream, from a few integers, by SplitMix64 (Steele et al., 2014).

    numpy takes it in place of a ``SeedSequence``, whose hashing of the same integers costs
    more than everything else a random-search trial does; the streams are as independent as
    the generator needs (distinct inputs give unrelated 256-bit PCG64 states).
    """

    __slots__ = ("_state", "_spawned")

    def __init__(self, *ints: int) -> None:
        state = 0x6A09E667F3BCC909  # any fixed start
        for value in ints:
            state = _splitmix(state ^ (value & _MASK64))[1]
        self._state = state
        self._spawned = 0

    def spawn(self, n_children: int) -> list[_StreamKey]:
        """Independent child keys (scipy spawns them from a generator it is given)."""
        first, self._spawned = self._spawned, self._spawned + n_children
        return [_StreamKey(self._state, 0x5EED, first + i) for i in range(n_children)]

    def generate_state(self, n_words: int, dtype: Any = np.uint32) -> np.ndarray:
        """``n_words`` words of ``dtype`` (``uint32`` or ``uint64``), as numpy asks."""
        dtype = np.dtype(dtype)
        n64 = n_words if dtype == np.uint64 else (n_words + 1) // 2
        state, words = self._state, [0] * n64  # (filled in place: no append call a word)
        for i in range(n64):
            state, words[i] = _splitmix(state)
        return np.array(words, dtype=np.uint64).view(dtype)[:n_words]


@functools.lru_cache(maxsize=4096)
def _salt_key(salt: str) -> int:
    """The integer a salt (a parameter's name) adds to a stream's key; kept, as it is asked
    for every parameter of every trial."""
    return zlib.crc32(salt.encode())


def _splitmix(state: int) -> tuple[int, int]:
    """One step of SplitMix64: the next state and its output."""
    state = (state + 0x9E3779B97F4A7C15) & _MASK64
    z = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return state, z ^ (z >> 31)


class Sampler(ABC):
    """Base class of samplers.

    A sampler proposes parameters in two ways. ``sample_joint`` is called once when a trial
    starts, for the space known at that moment (the study's fixed space, or the parameters that
    earlier trials used); it may return values for all, some or none of them.
    ``sample_one`` is called for every parameter the joint step did not cover (new names,
    conditional branches).

    Randomness comes from :meth:`rng`, derived from the seed *and the trial number*, so a resumed
    study does not repeat the parameters it already tried.

    Parameters
    ----------
    seed : int, optional
        Makes the sampler reproducible. ``None`` draws a fresh seed; a study passes its own seed
        to a sampler it builds by name.
    """

    #: Name used by ``Study(sampler=...)`` and ``%%tune --sampler``.
    name = "base"
    #: Whether it can search a study with several objectives (a study refuses it otherwise).
    multi_objective = True

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed if seed is not None else int(np.random.SeedSequence().entropy % 2**63)

    def rng(self, number: int, *salt: str) -> np.random.Generator:
        """A generator that depends only on the seed, the trial number, how many times the
        trial was redrawn (:meth:`redraw`) and ``salt``."""
        keys = list(map(_salt_key, salt))
        if self._redrawn:
            redrawn = self._redrawn.get(number)
            if redrawn:
                keys.append(_REDRAW + redrawn)
        return np.random.Generator(np.random.PCG64(_StreamKey(self.seed, number, *keys)))

    #: How many times each trial was redrawn; the shared empty default is read-only, and
    #: :meth:`redraw` gives a sampler its own (samplers need not call ``__init__``).
    _redrawn: Mapping[int, int] = MappingProxyType({})

    def redraw(self, number: int) -> None:
        """Make trial ``number``'s next proposal come from fresh random streams (its last one
        repeated a finished trial: ``on_repeat="skip"``)."""
        redrawn = self.__dict__.setdefault("_redrawn", {})
        redrawn[number] = redrawn.get(number, 0) + 1

    def sample_joint(self, study: Study, trial: Trial,
                     space: Mapping[str, Distribution]) -> dict[str, Any]:
        """Propose values for several parameters at once (default: none)."""
        return {}

    @abstractmethod
    def sample_one(self, study: Study, trial: Trial, name: str, dist: Distribution) -> Any:
        """Propose a value for one parameter."""

    def draw(self, trial: Trial, space: Mapping[str, Distribution]) -> dict[str, Any]:
        """Independent random values for ``space``, the ones ``sample_one`` draws at random.

        Returned by ``sample_joint`` where a sampler proposes at random (random search, a
        model's start-up trials): decided when the trial is asked, a repeat of a tried point
        is seen before the objective runs (``on_repeat``).
        """
        return {name: dist.sample(self.rng(trial.number, name)) for name, dist in space.items()}

    def exhausted(self, study: Study) -> bool:
        """Whether the sampler has nothing left to propose (grid search)."""
        return False

    def check_space(self, space: Mapping[str, Distribution]) -> None:
        """Raise a :class:`~hpt_magic.exceptions.SpaceError` when the sampler cannot search
        ``space`` (default: it can search any); front ends call it with the parameters they
        know before the study is stored, so that a refused space leaves nothing behind.

        Parameters
        ----------
        space : dict of str -> Distribution
            The parameters known so far (a define-by-run objective may add more).
        """
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(seed={self.seed})"


def observations(
    study: Study, space: Mapping[str, Distribution], *, include_pruned: bool = True,
    trials: Sequence[Trial] | None = None,
) -> tuple[np.ndarray, np.ndarray, list[Trial]]:
    """Finished trials as a unit-cube matrix and a loss vector (lower is better).

    Only trials that have every parameter of ``space``, inside it, are used (after an edit of
    the space, earlier trials outside the new ranges or choices are left out; a parameter the
    edit removed is not in ``space``, so it is marginalised). Pruned trials count with
    their last reported value when ``include_pruned``; failed trials are ignored.

    Returns
    -------
    X : ndarray of shape (n, len(space))
    y : ndarray of shape (n,)
        ``value`` for a minimised study, ``-value`` for a maximised one.
    used : list of Trial
    """
    states = {TrialState.COMPLETE} | ({TrialState.PRUNED} if include_pruned else set())
    names = list(space)
    rows, ys, used = [], [], []
    for t in (study.trials if trials is None else trials):
        if t.state not in states:
            continue
        v = t.value
        if v is None and t.intermediate:
            v = t.intermediate[max(t.intermediate)]
        if v is None or not np.isfinite(v):
            continue
        row = _unit_row(t, space)
        if row is None:
            continue
        rows.append(row)
        ys.append(study.direction.to_loss(v))
        used.append(t)
    X = np.asarray(rows, dtype=float).reshape(len(rows), len(names))
    return X, np.asarray(ys, dtype=float), used


def _unit_row(trial: Trial, space: Mapping[str, Distribution]) -> list[float] | None:
    """``trial``'s values of ``space`` on the unit cube, or ``None`` when it lacks one, holds
    one outside ``space`` (made before the space was edited) or one that does not convert."""
    params = trial.params
    if any(n not in params or not d.contains(params[n]) for n, d in space.items()):
        return None
    try:
        return [d.to_unit(params[n]) for n, d in space.items()]
    except Exception:
        return None


#: Errors that say the code is wrong rather than the parameters: where they happened says
#: nothing about the space.
_CODE_ERRORS = frozenset({"NameError", "AttributeError", "ImportError", "ModuleNotFoundError",
                          "SyntaxError", "IndentationError", "UnboundLocalError"})
#: A run whose first this many trials all fail with one message stops: a bug in the objective.
BUG_STREAK = 5
#: The study attribute that lists the trials of such runs.
FAILED_ALIKE = "failed_alike"


def telling_failure(study: Study, trial: Trial) -> bool:
    """Whether ``trial`` failed in a way that tells something about its parameters: not an
    error of the code (a ``NameError``, an ``ImportError``...), and not one of a run whose
    first trials all failed alike (a bug, fixed since when the study goes on: the points
    that run happened to try say nothing about the space)."""
    return (trial.state is TrialState.FAILED
            and str(trial.error).split(":")[0] not in _CODE_ERRORS
            and trial.number not in study._attrs.get(FAILED_ALIKE, ())
            and trial.number not in getattr(study, "_bug_trials", ()))


def failed_points(study: Study, space: Mapping[str, Distribution]) -> np.ndarray:
    """The unit-cube points of the failed trials that have every parameter of ``space``,
    inside it, and whose failure tells something about them (:func:`telling_failure`):
    where the objective raised (an option that always fails, a region that runs out of
    memory). Shape ``(n, len(space))``."""
    rows = [row for t in study.trials
            if telling_failure(study, t) and (row := _unit_row(t, space)) is not None]
    return np.asarray(rows, dtype=float).reshape(len(rows), len(space))
