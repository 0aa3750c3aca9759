"""The live dashboard on large studies: bounded updates, their budget, an exact final update.

A fake clock stands in for time: an output that "takes" time advances it, so the budget is
checked without timing anything.
"""

from __future__ import annotations

import json

import pytest

from hpt_magic import Float, Study
from hpt_magic import display as hd
from hpt_magic.notebook import _dashboard as dm
from hpt_magic.visualization import _document

MIME = "application/vnd.hpt-magic.study+json"


class FakeClock:
    """Hundredths of a second, advanced by hand: no float drift."""

    def __init__(self):
        self.ticks = 0

    def __call__(self):
        return self.ticks / 100

    def advance(self, seconds):
        self.ticks += round(seconds * 100)


def live_run(n, *, steps=3, trial_seconds=0.01, update_seconds=0.0, image_seconds=0.0,
             min_interval=0.5):
    """A live dashboard over ``n`` trials; each update costs its seconds on the fake clock.

    Returns the study, the dashboard and ``(end time, bundle, drew an image)`` per update.
    """
    clock = FakeClock()
    sent = []

    def output(bundle):
        drawn = "image/png" in bundle and (not sent or bundle["image/png"] !=
                                           sent[-1][1].get("image/png"))
        clock.advance(image_seconds if drawn else update_seconds)
        sent.append((clock(), bundle, drawn))

    study = Study(space={"x": Float(0, 1)}, seed=0)
    dash = hd.Dashboard(study, n_trials=n, clock=clock, output=output, min_interval=min_interval)

    def objective(trial):
        for step in range(steps):
            trial.report(trial.params["x"] * (step + 1), step)
        clock.advance(trial_seconds)
        return trial.params["x"]

    study.optimize(objective, n_trials=n)
    dash.close()
    return study, dash, sent


def test_a_live_update_of_a_large_study_stays_small():
    study, _, sent = live_run(2000, steps=60)
    everything = len(json.dumps(hd.study_json(study)))
    live = [b for _, b, _ in sent if b[MIME]["progress"]["status"] == "running"]
    last = live[-1][MIME]
    assert last["progress"]["done"] > 1900
    assert len(last["trials"]) <= dm.LIVE_TRIALS
    known = sum(last["progress"]["counts"].values())
    assert last["progress"]["sampled"] == known - len(last["trials"])
    assert all(len(t["curve"]) <= dm.LIVE_CURVE_POINTS for t in last["trials"])
    # A quarter of the LIVE_TRIALS sample: all 2000 trials, or twice the sample, would not fit.
    assert max(len(json.dumps(b[MIME])) for b in live) < everything / 4


def test_each_update_brings_the_trials_finished_since_the_last():
    _, _, sent = live_run(1500)
    live = [b[MIME] for _, b, _ in sent if b[MIME]["progress"]["status"] == "running"]
    pairs = [(a, b) for a, b in zip(live, live[1:]) if b["progress"]["done"] > 0]
    assert len(pairs) > 10
    for before, after in pairs:
        shown = {t["number"]: t for t in after["trials"]}
        for number in range(before["progress"]["done"], after["progress"]["done"]):
            assert shown[number]["state"] == "complete"


def test_the_final_update_converts_only_the_newest_trials(monkeypatch):
    converted = []
    trial_json = _document.trial_json

    def counting(trial):
        converted.append(trial.number)
        return trial_json(trial)

    monkeypatch.setattr(dm, "trial_json", counting)
    monkeypatch.setattr(_document, "trial_json", counting)
    clock = FakeClock()
    sent = []
    study = Study(space={"x": Float(0, 1)}, seed=0)
    dash = hd.Dashboard(study, clock=clock, output=sent.append, min_interval=0.5)
    for _ in range(1200):
        clock.advance(0.01)
        trial = study.ask()
        study.tell(trial, trial.params["x"])
    before = sent[-1][MIME]["progress"]["done"]
    converted.clear()
    dash.close()
    assert sent[-1][MIME]["progress"]["done"] == 1200
    # Every trial is converted once, at the first update after it finished.
    assert sorted(converted) == list(range(before, 1200))


def test_the_final_update_sends_every_trial_exactly():
    study, _, sent = live_run(1200, steps=60)
    final = sent[-1][1][MIME]
    assert final["progress"]["status"] == "finished"
    assert final["progress"]["sampled"] == 0
    assert final["trials"] == hd.study_json(study)["trials"]
    assert max(len(t["curve"]) for t in final["trials"]) == 60


def test_live_updates_stay_within_their_budget_at_every_moment():
    _, dash, sent = live_run(1000, trial_seconds=0.05, update_seconds=0.05, image_seconds=0.3)
    live = sent[1:-1]  # without the update at creation and the final one
    first_image = next(i for i, (_, _, drawn) in enumerate(live) if drawn)
    light = drawing = 0.0
    for i, (at, _, drawn) in enumerate(live):
        if drawn:
            drawing += 0.3
        else:
            light += 0.05
        # The update's own cost is inside its share, as soon as it is made.
        assert light <= dm.LIGHT_BUDGET * at + 1e-9
        if i > first_image:
            assert drawing - 0.3 <= dm.BUDGET * at + 1e-9
        # Together under 3 % of the run, but for the first image (which does not wait).
        assert light + drawing - 0.3 <= 0.03 * at + 1e-9
    assert dash.updates - dash.drawings > 5
    assert dash.drawings - 2 >= 1, "an image between the first and the final one"


def test_the_first_image_comes_with_the_first_finished_trial_whatever_the_budget():
    _, _, sent = live_run(50, trial_seconds=0.05, update_seconds=0.2, image_seconds=0.3)
    at, bundle, drawn = next(u for u in sent if "image/png" in u[1])
    assert drawn and bundle[MIME]["progress"]["done"] == 1
    # At creation 0.2 s for the first light update: the light budget now waits 20 s.
    assert at == pytest.approx(0.2 + 0.05 + 0.3)


def test_an_update_ranks_the_trials_once(monkeypatch):
    calls = []

    def counting(trials, direction, k=None):
        calls.append(k)
        return dm_top_trials(trials, direction, k)

    dm_top_trials = dm.top_trials
    monkeypatch.setattr(dm, "top_trials", counting)
    study = Study(space={"x": Float(0, 1)}, seed=0)
    study.optimize(lambda t: t.params["x"], n_trials=20)
    dash = hd.Dashboard(study, clock=FakeClock(), output=lambda bundle: None, mode="final")
    calls.clear()
    dash.bundle(image=True)
    # The document and the history panel both ask for the best trial: ranked once.
    assert calls == [1]
    calls.clear()
    dash.bundle(image=True)
    assert calls == []
