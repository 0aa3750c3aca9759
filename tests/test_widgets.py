"""Manual tuning with widgets: controls per distribution, Run / Suggest / Best, warm start."""

import math
import sys
import threading

import ipywidgets as w
import pytest

from hpt_magic import Choice, Float, Int, Study, TrialState, TuneError, tune
from hpt_magic.display import MIME
from hpt_magic.notebook._widget_controls import option_labels
from hpt_magic.notebook._widget_space import literal_space
from hpt_magic.samplers import SAMPLERS
from hpt_magic.widgets import ManualTuner

SPACE = {"lr": Float(1e-4, 1e-1, log=True, default=1e-2), "hidden": Int(8, 256, log=True),
         "act": Choice(["relu", "tanh"])}


def objective(trial):
    """A cheap stand-in for a training run, written with tune.* calls like a cell body."""
    lr = tune.loguniform(1e-4, 1e-1, default=1e-2, name="lr")
    hidden = tune.int(8, 256, log=True, name="hidden")
    act = tune.choice(["relu", "tanh"], name="act")
    print(f"training with lr={lr:.3g}")
    return -((math.log10(lr) + 2) ** 2) - abs(math.log2(hidden) - 6) + (act == "tanh")


def sqlite_study(tmp_path, **kwargs):
    kwargs.setdefault("direction", "maximize")
    return Study(name="mlp", storage=tmp_path / "studies.db", **kwargs)


def texts(output):
    return "".join(o.get("text", "") for o in output.outputs)


@pytest.mark.parametrize("dist, cls, attrs, value", [
    (Float(1e-4, 1e-1, log=True, default=1e-2), w.FloatLogSlider,
     {"min": -4, "max": -1, "base": 10}, 1e-2),
    (Float(-1, 3), w.FloatSlider, {"min": -1, "max": 3}, 1.0),
    (Float(0, 1, step=0.25), w.FloatSlider, {"min": 0, "max": 1, "step": 0.25}, 0.5),
    (Int(1, 10, step=3, default=4), w.IntSlider, {"min": 1, "max": 10, "step": 3}, 4),
    (Int(8, 256, log=True, default=64), w.FloatLogSlider,
     {"min": math.log10(8), "max": math.log10(256), "base": 10}, 64),
    (Choice(["relu", "tanh"]), w.ToggleButtons, {"index": 0}, "relu"),
    (Choice(["a", "b", "c", "d", "e"], default="c"), w.Dropdown, {"index": 2}, "c"),
])
def test_control_per_distribution(dist, cls, attrs, value):
    tuner = ManualTuner(Study(space={"p": dist}), objective, dashboard=False)
    control = tuner.controls["p"]
    assert type(control.widget) is cls
    for name, expected in attrs.items():
        assert getattr(control.widget, name) == pytest.approx(expected)
    assert control.value == (value if isinstance(value, str) else pytest.approx(value))
    assert type(control.value) is type(value)
    assert repr(dist) in control.widget.tooltip
    assert "log scale" in control.row.children[1].value or not dist.log


def test_choice_keeps_options_that_compare_equal_apart():
    tuner = ManualTuner(Study(space={"p": Choice([1, True, "1"])}), objective, dashboard=False)
    for option in (True, "1", 1):
        tuner.set_values({"p": option})
        assert type(tuner.values()["p"]) is type(option)
    # ... and shows them apart: a widget whose labels repeat highlights the wrong button.
    labels = [label for label, _ in tuner.controls["p"].widget.options]
    assert labels == ["1", "True", "'1'"]


def test_options_that_print_alike_get_numbered_labels():
    class Model:
        def __repr__(self):
            return "Model()"

    labels = option_labels([Model(), Model(), "Model()"])
    assert labels == ["Model() (1)", "Model() (2)", "'Model()'"]


def test_controls_start_at_the_best_trial(tmp_path):
    study = sqlite_study(tmp_path, space=SPACE)
    study.tell(study.ask(params={"lr": 0.05, "hidden": 100, "act": "tanh"}), 1.0)
    study.tell(study.ask(params={"lr": 0.001, "hidden": 10, "act": "relu"}), 0.5)
    tuner = ManualTuner(study, objective, dashboard=False)
    assert tuner.values() == {"lr": pytest.approx(0.05), "hidden": 100, "act": "tanh"}
    assert "1 (trial 0" in tuner.best_text.value


def test_run_clicks_record_manual_trials_in_sqlite(tmp_path):
    study = sqlite_study(tmp_path)
    seen = []
    tuner = ManualTuner(study, objective, space=SPACE, dashboard=False,
                        callbacks=[lambda s, t: seen.append((s, t.number))])
    assert tuner.values() == {"lr": pytest.approx(1e-2), "hidden": 45, "act": "relu"}
    tuner.run_button.click()
    tuner.set_values({"lr": 0.02, "hidden": 64, "act": "tanh"})
    tuner.run_button.click()
    stored = Study(name="mlp", storage=tmp_path / "studies.db", direction="maximize").trials
    assert [t.manual for t in stored] == [True, True]
    assert seen == [(study, 0), (study, 1)]
    assert [t.state for t in stored] == [TrialState.COMPLETE] * 2
    assert stored[1].params == {"lr": pytest.approx(0.02), "hidden": 64, "act": "tanh"}
    assert stored[1].value == pytest.approx(objective_value(0.02, 64, "tanh"))
    assert "training with lr=0.02" in texts(tuner.output)
    assert "Best:" in tuner.best_text.value and "trial 1, manual" in tuner.best_text.value


def objective_value(lr, hidden, act):
    return -((math.log10(lr) + 2) ** 2) - abs(math.log2(hidden) - 6) + (act == "tanh")


def test_failing_run_is_stored_failed_and_widgets_stay_usable(tmp_path):
    study = sqlite_study(tmp_path, space={"x": Float(0, 1)})

    def body(trial):
        if trial.params["x"] > 0.5:
            raise RuntimeError("diverged")
        return trial.params["x"]

    tuner = ManualTuner(study, body, dashboard=False)
    tuner.set_values({"x": 0.9})
    tuner.run_button.click()
    assert study.trials[0].state is TrialState.FAILED
    assert "RuntimeError: diverged" in texts(tuner.output)
    assert "failed" in tuner.message.value
    assert not tuner.run_button.disabled and not tuner.suggest_button.disabled
    tuner.set_values({"x": 0.25})
    tuner.run_button.click()
    assert study.trials[1].state is TrialState.COMPLETE and study.best_value == 0.25
    assert "diverged" not in texts(tuner.output)


def test_the_message_of_a_failed_run_is_one_short_line():
    def body(trial):
        raise RuntimeError("\x1b[31m<b>bad</b>\n" + "E" * 100_000)

    tuner = ManualTuner(Study(space={"x": Float(0, 1)}), body, dashboard=False)
    tuner.run_button.click()
    assert "RuntimeError: &lt;b&gt;bad&lt;/b&gt; EEE" in tuner.message.value
    assert len(tuner.message.value) < 500 and "\x1b" not in tuner.message.value
    assert "E" * 100_000 in texts(tuner.output)  # the full text is below


def test_out_of_range_values_are_refused_or_clamped():
    study = Study(space={"x": Float(0, 1), "n": Int(1, 5), "c": Choice(["a", "b"])})
    tuner = ManualTuner(study, lambda t: 0.0, dashboard=False)
    before = tuner.values()
    with pytest.raises(TuneError, match=r"1\.5 is outside x's range"):
        tuner.set_values({"n": 2, "x": 1.5})
    with pytest.raises(TuneError, match="'z' is outside"):
        tuner.set_values({"c": "z"})
    with pytest.raises(TuneError, match="No control for"):
        tuner.set_values({"y": 0.5})
    assert tuner.values() == before
    tuner.controls["x"].widget.value = 7.0  # what a slider does with a typed value
    tuner.controls["n"].widget.value = -3
    assert tuner.values()["x"] == 1.0 and tuner.values()["n"] == 1
    tuner.run_button.click()
    assert study.trials[0].params == {"x": 1.0, "n": 1, "c": "a"}


def test_suggest_stores_nothing_and_proposes_the_next_point(tmp_path):
    study = sqlite_study(tmp_path, space=SPACE, seed=3)
    tuner = ManualTuner(study, objective, dashboard=False)
    for values in ({"lr": 0.01, "hidden": 64, "act": "tanh"},
                   {"lr": 0.001, "hidden": 16, "act": "relu"}):
        tuner.set_values(values)
        tuner.run_button.click()
    defaults = tuner.values()
    tuner.suggest_button.click()
    suggested = tuner.values()
    assert suggested != defaults
    assert all(SPACE[n].contains(v) for n, v in suggested.items())
    assert len(study.trials) == 2
    assert len(Study(name="mlp", storage=tmp_path / "studies.db",
                     direction="maximize").trials) == 2
    assert study.ask().params == pytest.approx(suggested)
    assert "Suggested by the random sampler" in tuner.message.value


def test_suggest_again_moves_on():
    study = Study(space={"x": Float(0, 1)}, seed=0)
    tuner = ManualTuner(study, lambda t: t.params["x"], dashboard=False)
    assert tuner.suggest() != tuner.suggest()
    assert study.trials == []


def test_best_moves_the_controls_back(tmp_path):
    study = sqlite_study(tmp_path, space=SPACE)
    tuner = ManualTuner(study, objective, dashboard=False)
    tuner.best_button.click()
    assert "no complete trial yet" in tuner.message.value
    for values in ({"lr": 0.01, "hidden": 64, "act": "tanh"},
                   {"lr": 0.0001, "hidden": 200, "act": "relu"}):
        tuner.set_values(values)
        tuner.run_button.click()
    tuner.best_button.click()
    assert tuner.values() == {"lr": pytest.approx(0.01), "hidden": 64, "act": "tanh"}
    assert "trial 0" in tuner.best_text.value


def test_conditional_parameter_gets_its_control_when_its_branch_runs():
    def body(trial):
        kind = tune.choice(["linear", "tree"], name="kind")
        if kind == "tree":
            return tune.int(1, 12, name="depth")
        return 0

    study = Study(direction="maximize")
    tuner = ManualTuner(study, body, space={"kind": Choice(["linear", "tree"])},
                        dashboard=False)
    tuner.run_button.click()
    assert list(tuner.controls) == ["kind"]
    tuner.set_values({"kind": "tree"})
    tuner.run_button.click()
    assert list(tuner.controls) == ["kind", "depth"]
    assert tuner.values()["depth"] == study.trials[1].params["depth"]
    tuner.set_values({"depth": 9})
    tuner.run_button.click()
    assert study.trials[2].params == {"kind": "tree", "depth": 9}


def test_a_new_study_without_space_shows_its_controls_after_the_first_run():
    study = Study(space=None)
    tuner = ManualTuner(study, lambda t: tune.uniform(0, 1, name="x"), dashboard=False)
    assert tuner.controls == {} and "Run once" in tuner.message.value
    tuner.run_button.click()
    assert list(tuner.controls) == ["x"]


def test_a_second_click_during_a_run_does_not_start_another():
    study = Study(space={"x": Float(0, 1)})
    nested = []
    tuner = ManualTuner(study, lambda t: nested.append(tuner.run()) or 1.0, dashboard=False)
    tuner.run_button.click()
    assert nested == [None] and len(study.trials) == 1

    started, release = threading.Event(), threading.Event()

    def slow(trial):
        started.set()
        release.wait(10)
        return 2.0

    tuner.objective = slow
    worker = threading.Thread(target=tuner.run)
    worker.start()
    started.wait(10)
    assert tuner.run_button.disabled
    assert tuner.run() is None
    release.set()
    worker.join(10)
    assert len(study.trials) == 2 and not tuner.run_button.disabled


def test_trials_of_other_runs_update_the_best_text():
    study = Study(space={"x": Float(0, 1)}, seed=0)
    tuner = ManualTuner(study, lambda t: t.params["x"], dashboard=False)
    study.optimize(lambda t: t.params["x"], n_trials=5)
    assert f"{study.best_value:.6g}" in tuner.best_text.value
    assert "automated" in tuner.best_text.value
    tuner.close()
    study.optimize(lambda t: t.params["x"] - 10, n_trials=1)
    assert f"{study.best_value:.6g}" not in tuner.best_text.value


@pytest.mark.skipif("tpe" not in SAMPLERS, reason="the TPE sampler is not registered")
def test_automated_search_continues_from_manual_trials(tmp_path):
    points = [{"lr": 10 ** -e, "hidden": h, "act": a}
              for e, h, a in [(1, 8, "relu"), (2, 64, "tanh"), (3, 32, "relu"),
                              (2.5, 128, "tanh"), (1.5, 16, "relu")]]
    tpe = {"sampler": "tpe", "seed": 7, "sampler_args": {"n_startup_trials": 5}}
    manual = sqlite_study(tmp_path, **tpe)
    tuner = ManualTuner(manual, objective, space=SPACE, dashboard=False)
    for p in points:
        tuner.set_values(p)
        tuner.run_button.click()
    suggested = tuner.suggest()

    # The same five trial numbers without usable results: only the observations differ.
    cold = Study(direction="maximize", **tpe)
    for p in points:
        cold.tell(cold.ask(params=p, manual=True), state="failed")
    warm = sqlite_study(tmp_path, **tpe)
    assert [t.manual for t in warm.trials] == [True] * 5
    warm.optimize(objective, n_trials=3)
    cold.optimize(objective, n_trials=3)
    assert warm.trials[5].params == pytest.approx(suggested)
    assert [t.params for t in warm.trials[5:]] != [t.params for t in cold.trials[5:]]


def test_enqueued_point_is_tried_first(tmp_path):
    study = sqlite_study(tmp_path, space=SPACE, seed=0)
    study.enqueue({"lr": 0.03, "act": "tanh"})
    study.optimize(objective, n_trials=2)
    first, second = study.trials
    assert first.params["lr"] == pytest.approx(0.03) and first.params["act"] == "tanh"
    assert first.user_attrs.get("enqueued") and not second.user_attrs.get("enqueued")
    with pytest.raises(TuneError, match="outside"):
        study.enqueue({"lr": 5.0})


def test_literal_space_reads_unconditional_parameters():
    space = literal_space(
        "lr = tune.loguniform(1e-4, 1e-1, default=1e-2)\n"
        "hidden = tune.int(8, 256, log=True)\n"
        "tune.choice(['a', 'b'], name='opt')\n"
        "width = tune.uniform(0, n)\n"
        "if lr > 0.01:\n    momentum = tune.uniform(0.5, 0.99)\n"
        "lr * hidden\n")
    assert space == {"lr": Float(1e-4, 1e-1, log=True), "hidden": Int(8, 256, log=True),
                     "opt": Choice(["a", "b"])}
    assert space["lr"].default == 1e-2
    assert literal_space("x = (") == {}


def test_study_view_beside_the_controls_is_redrawn_after_each_run():
    study = Study(space={"x": Float(0, 1)}, seed=0, name="by-hand")
    tuner = ManualTuner(study, lambda t: t.params["x"])
    # Before any run: no "finished · 0 / 1 trials".
    assert tuner.view["text/plain"] == "Manual tuning of study 'by-hand': no trial yet"
    progress = tuner.view[MIME]["progress"]
    assert progress["status"] == "manual" and progress["done"] == 0
    assert progress["planned"] is None
    tuner.run_button.click()
    data = tuner.view
    assert {"image/png", MIME} <= set(data)
    assert "1 trial, 1 complete" in data["text/plain"]
    assert data[MIME]["trials"][0]["manual"] is True
    assert data[MIME]["progress"]["done"] == 1


def test_the_study_view_is_its_own_output_next_to_the_widget(shell):
    # A reload without kernel or an HTML export has no widget state: the study must be in an
    # output of its own, updated in place after each run.
    from IPython.core.displaypub import CapturingDisplayPublisher

    study = Study(space={"x": Float(0, 1)}, seed=0, name="export-me")
    tuner = ManualTuner(study, lambda t: t.params["x"])
    publisher = CapturingDisplayPublisher()
    old, shell.display_pub = shell.display_pub, publisher
    try:
        shell.display_formatter.format(tuner)  # what the cell's last expression does
        tuner.run_button.click()
    finally:
        shell.display_pub = old
    widget, view, update = publisher.outputs
    assert "application/vnd.jupyter.widget-view+json" in widget["data"]
    assert widget["data"]["text/plain"].startswith("Manual tuning panel of study 'export-me'")
    assert view["data"][MIME]["trials"] == [] and "image/png" in view["data"]
    assert update["update"] and update["transient"] == view["transient"]
    assert update["data"][MIME]["trials"][0]["manual"] is True


def test_without_the_display_module_the_summary_text_is_shown(monkeypatch):
    monkeypatch.setitem(sys.modules, "hpt_magic.notebook._dashboard", None)
    study = Study(space={"x": Float(0, 1)}, seed=0, name="plain")
    tuner = ManualTuner(study, lambda t: t.params["x"])
    tuner.run_button.click()
    assert tuner.view == {"text/plain": study.summary()}


def test_suggest_sampler_overrides_the_studys_and_the_tuner_displays_as_its_widget():
    study = Study(space={"n": Int(1, 50)}, sampler="grid", seed=0)
    tuner = ManualTuner(study, lambda t: t.params["n"], suggest_sampler="random",
                        dashboard=False)
    assert tuner.sampler.name == "random" and tuner.sampler.seed == 0
    tuner.suggest_button.click()
    assert "random sampler" in tuner.message.value and study.trials == []
    bundle = tuner._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == \
        tuner.widget.model_id


def test_rich_output_of_a_run_is_shown_with_its_text(shell):
    from IPython.display import HTML, display

    def body(trial):
        print("epoch 1")
        display(HTML("<b>confusion matrix</b>"))
        return trial.params["x"]

    tuner = ManualTuner(Study(space={"x": Float(0, 1)}), body, dashboard=False)
    tuner.run_button.click()
    kinds = [o.get("name") or "display" for o in tuner.output.outputs]
    assert kinds == ["stdout", "display"]
    assert tuner.output.outputs[1]["data"]["text/html"] == "<b>confusion matrix</b>"


def test_best_text_escapes_parameter_values():
    study = Study(space={"tag": Choice(["<b>bold</b> & co", "plain"])}, seed=0)
    tuner = ManualTuner(study, lambda t: 1.0, dashboard=False)
    tuner.set_values({"tag": "<b>bold</b> & co"})
    tuner.run_button.click()
    assert "<b>bold</b>" not in tuner.best_text.value
    assert "tag=&#x27;&lt;b&gt;bold&lt;/b&gt; &amp; co&#x27;" in tuner.best_text.value
    tuner.close()


@pytest.mark.parametrize("dist", [Float(0, 1), Int(1, 9), Choice(["a", "b"]),
                                  Choice(list("abcdef"))])
def test_a_long_parameter_name_leaves_its_slider_room(dist):
    # A 60-character name in the description column would squeeze every slider to nothing.
    long = "preprocessor__numeric__imputer__strategy_for_missing_values_"
    assert len(long) == 60
    tuner = ManualTuner(Study(space={"lr": Float(0, 1), long: dist}), lambda t: 1.0,
                        dashboard=False)
    for control in tuner.controls.values():
        assert control.widget.layout.width == "440px"
        assert control.widget.style.description_width == "3ch"  # the column of "lr"
    row = tuner.controls[long].row
    # Its description column stays (ipywidgets hides an empty one, and the slider would start
    # at the left edge), with nothing to read in it.
    assert tuner.controls[long].widget.description == "\u200b"
    # The whole name, on its own line above the control: plain text, never HTML or math.
    label, line = row.children
    assert type(label) is w.Label and label.value == long and long in label.tooltip
    assert tuner.controls[long].widget in line.children
    assert long in tuner.controls[long].widget.tooltip
    assert tuner.controls["lr"].widget.description == "lr"
    tuner.close()


def test_parameter_names_are_never_typeset_as_tex():
    # ipywidgets typesets a description and a Label with MathJax: "$...$" would be math,
    # \href a link. A short name is the slider's description, a long one a Label above it.
    short, name = r"$\alpha$ \(x\) a\$b", r"$\href{https://example.com}{click}$ \(x\) a\$b"
    tuner = ManualTuner(Study(space={short: Float(0, 1), name: Float(0, 1)}), lambda t: 1.0,
                        dashboard=False)
    assert tuner.controls[short].widget.description == r"\$\\alpha\$ \\(x\\) a\\\$b"
    assert tuner.controls[name].row.children[0].value == \
        r"\$\\href{https://example.com}{click}\$ \\(x\\) a\\\$b"
    tuner.close()
