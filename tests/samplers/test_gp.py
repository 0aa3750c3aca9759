
import numpy as np
import pytest
from sampler_cases import PLANE, SPACE, quadratic, score
from scipy.stats import norm

from hpt_magic import Choice, Float, Int, Study, Trial, TuneError
from hpt_magic._encoding import Encoding
from hpt_magic.samplers import SAMPLERS, GPSampler, make_sampler
from hpt_magic.samplers._gp_acq import _log_h


def test_registered_by_name():
    assert SAMPLERS["gp"] is GPSampler
    sampler = make_sampler("gp", seed=3, acquisition="ucb", n_startup_trials=4)
    assert isinstance(sampler, GPSampler) and sampler.seed == 3
    assert sampler.acquisition == "ucb" and sampler.startup_trials(6) == 4
    assert GPSampler().startup_trials(1) == 7 and GPSampler().startup_trials(8) == 10


@pytest.mark.parametrize("kwargs", [{"acquisition": "lcb"}, {"n_startup_trials": 0},
                                    {"n_startup_trials": 2.5}, {"kappa": -1},
                                    {"n_candidates": 1}])
def test_bad_options_raise(kwargs):
    with pytest.raises(TuneError):
        GPSampler(**kwargs)


def test_rounding_matches_the_distributions():
    enc = Encoding(SPACE)
    U = np.random.default_rng(0).random((200, len(SPACE)))
    rounded = enc.round(U.copy())
    for j, dist in enumerate(enc.dists):
        expected = [dist.to_unit(dist.from_unit(u)) for u in U[:, j]]
        np.testing.assert_allclose(rounded[:, j], expected, atol=1e-12)
    for j in enc.enumerated:
        levels = enc.choices(j)
        assert len({enc.dists[j].from_unit(u) for u in levels}) == len(levels)
    logint = enc.names.index("logint")
    near = enc.levels_near(logint, rounded[:, logint])
    values = [[enc.dists[logint].from_unit(u) for u in row] for row in near[:20]]
    for row, u in zip(values, rounded[:20, logint]):
        centre = enc.dists[logint].from_unit(u)
        assert row == [min(500, max(2, centre + k)) for k in range(-3, 4)]


def test_log_ei_is_exact_near_and_finite_far_below_the_incumbent():
    z = np.array([-3.0, 0.0, 2.0])
    value, slope = _log_h(z)
    np.testing.assert_allclose(value, np.log(z * norm.cdf(z) + norm.pdf(z)))
    np.testing.assert_allclose(slope, norm.cdf(z) / np.exp(value))
    far, far_slope = _log_h(np.array([-30.0, -300.0, -3000.0]))
    assert np.all(np.isfinite(far)) and np.all(np.diff(far) < 0)
    # Far below, h(z) ~ phi(z) / z**2, so d log h / dz ~ -z.
    np.testing.assert_allclose(far_slope, [30.0, 300.0, 3000.0], rtol=1e-2)


def test_values_respect_bounds_steps_logs_and_choices():
    study = Study(space=SPACE, sampler=GPSampler(seed=1, n_startup_trials=6))
    study.optimize(lambda t: score(t.params), n_trials=30)
    for t in study.trials:
        for name, dist in SPACE.items():
            assert dist.contains(t.params[name]), (name, t.params[name])
        assert t.params["stepped"] in (0.0, 0.25, 0.5, 0.75, 1.0)
        assert isinstance(t.params["int"], int) and t.params["intstep"] % 5 == 0
    assert len({t.params["lin"] for t in study.trials}) > 15
    # The model finds the log-scale optimum (1e-2) of "log" and the best option.
    best = study.best_trial.params
    assert 1e-3 <= best["log"] <= 1e-1 and best["act"] == "tanh"
    assert study.best_value < 1


def test_same_seed_same_trials_other_seed_other_trials():
    def run(seed):
        study = Study(space=PLANE, sampler="gp", seed=seed,
                      sampler_args={"n_startup_trials": 4})
        study.optimize(quadratic, n_trials=10)
        return [t.params for t in study.trials]

    assert run(5) == run(5)
    assert run(5) != run(6)


@pytest.mark.parametrize("acquisition", ["ei", "pi", "ucb"])
def test_converges_on_a_quadratic(acquisition):
    study = Study(space=PLANE, sampler=GPSampler(seed=0, acquisition=acquisition))
    study.optimize(quadratic, n_trials=20)
    assert study.best_value < 0.05, (acquisition, study.best_params)


def test_maximize_and_the_design_phase():
    study = Study(space=PLANE, sampler=GPSampler(seed=2, n_startup_trials=6),
                  direction="maximize")
    study.optimize(lambda t: -quadratic(t), n_trials=18)
    assert study.best_value > -0.1
    # A Halton design (bases 2 and 3): every prefix is stratified in each coordinate, the
    # first six points fill the six cells of a 2 x 3 grid.
    unit = np.array([[(t.params["x"] + 5) / 10, (t.params["y"] + 5) / 10]
                     for t in study.trials[:6]])
    assert sorted((unit[:4, 0] * 4).astype(int).tolist()) == [0, 1, 2, 3]
    assert sorted((unit[:3, 1] * 3).astype(int).tolist()) == [0, 1, 2]
    cells = (unit[:, 0] * 2).astype(int) * 3 + (unit[:, 1] * 3).astype(int)
    assert sorted(cells.tolist()) == list(range(6))


def _seeded_study(points, values, **told):
    study = Study(space={"x": Float(0, 1)}, sampler=GPSampler(seed=0, n_startup_trials=4))
    for x, v in zip(points, values):
        study.tell(study.ask({"x": x}), v)
    for x, (state, curve) in told.items():
        trial = study.ask({"x": float(x[1:]) / 100})
        for step, v in enumerate(curve):
            trial.report(v, step)
        study.tell(trial, state=state)
    return study


def _propose(study):
    return study.sampler.sample_joint(study, Trial(50), study.search_space())["x"]


def test_pruned_trials_count_with_their_last_value():
    flat = [0.1, 0.3, 0.5, 0.7]
    study = _seeded_study(flat, [1.0] * 4, x90=("pruned", [2.0, 0.0]))
    assert _propose(study) > 0.75


def test_failed_trials_are_ignored():
    flat, values = [0.1, 0.35, 0.6, 0.9], [0.2, 0.5, 0.8, 1.1]
    plain = _seeded_study(flat, values)
    with_failed = _seeded_study(flat, values, x5=("failed", [9.0]), x50=("failed", []))
    assert _propose(plain) == _propose(with_failed) < 0.3


def test_pending_trials_are_not_proposed_again():
    study = Study(space=PLANE, sampler=GPSampler(seed=3, n_startup_trials=6))
    study.optimize(quadratic, n_trials=8)
    pending = [study.ask() for _ in range(3)]
    X = np.array([[t.params["x"], t.params["y"]] for t in pending])
    gaps = [np.abs(X[i] - X[j]).max() for i in range(3) for j in range(i)]
    assert min(gaps) > 1e-2, X


def test_define_by_run_with_a_conditional_branch():
    def objective(trial):
        kind = trial.suggest("kind", Choice(["a", "b"]))
        x = trial.suggest("x", Float(-3, 3))
        if kind == "a":
            return (x - 1) ** 2 + trial.suggest("extra", Int(0, 4)) * 0.1
        return x ** 2 + 1

    study = Study(sampler=GPSampler(seed=4, n_startup_trials=5))
    study.optimize(objective, n_trials=20)
    assert all(t.state.value == "complete" for t in study.trials)
    assert study.best_value < 0.3


def test_an_optimum_on_a_boundary_does_not_draw_every_proposal_back_to_it():
    from collections import Counter

    from hpt_magic import Float, Study

    study = Study(space={"x": Float(0, 1), "y": Float(0, 1)}, sampler="gp", seed=0)
    study.optimize(lambda t: t.params["x"] + t.params["y"], n_trials=40, on_repeat="run")
    seen = Counter(tuple(sorted(t.params.items())) for t in study.trials)
    assert max(seen.values()) == 1  # the GP used to propose (0, 0) about 30 times
    assert study.best_value < 0.05


def test_a_noisy_objective_may_be_tried_again_at_the_same_point():
    from collections import Counter

    from hpt_magic import Float, GPSampler, Study

    study = Study(space={"x": Float(0, 1)}, sampler=GPSampler(seed=0, noisy=True))
    study.optimize(lambda t: t.params["x"], n_trials=30, on_repeat="run")
    seen = Counter(t.params["x"] for t in study.trials)
    assert max(seen.values()) > 1
