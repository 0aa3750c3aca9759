"""The samplers' random streams: reproducible, independent, and usable by scipy."""

from __future__ import annotations

import numpy as np
from scipy.stats import qmc

from hpt_magic.samplers import RandomSampler


def test_a_stream_depends_only_on_seed_trial_and_salt():
    a, b = RandomSampler(seed=7), RandomSampler(seed=7)
    assert np.array_equal(a.rng(3, "x").random(5), b.rng(3, "x").random(5))
    draws = [RandomSampler(seed=s).rng(n, salt).random(5)
             for s in (7, 8) for n in (3, 4) for salt in ("x", "y")]
    assert len({d.tobytes() for d in draws}) == len(draws)


def test_streams_of_neighbouring_trials_are_uncorrelated():
    sampler = RandomSampler(seed=0)
    first = np.array([sampler.rng(n, "x").random() for n in range(2000)])
    second = np.array([sampler.rng(n + 1, "x").random() for n in range(2000)])
    assert abs(np.corrcoef(first, second)[0, 1]) < 0.1
    assert abs(first.mean() - 0.5) < 0.03


def test_scipy_can_spawn_children_from_a_sampler_stream():
    rng = RandomSampler(seed=1).rng(5, "qmc")
    points = qmc.Sobol(d=2, rng=rng).random(8)
    again = qmc.Sobol(d=2, rng=RandomSampler(seed=1).rng(5, "qmc")).random(8)
    assert points.shape == (8, 2) and np.array_equal(points, again)
