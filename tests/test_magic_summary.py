"""The summary at the end of a %%tune cell, as the displays it publishes: the table of the top
trials is shown once, by the view's display when the view was shown, else by the summary."""

from __future__ import annotations

import threading

import pytest
from IPython.core.displaypub import CapturingDisplayPublisher

MIME = "application/vnd.hpt-magic.study+json"
CELL = "x = tune.uniform(0, 1)\n(x - 0.3) ** 2\n"


def published(shell, line, cell=CELL):
    """Run a %%tune cell and return every display it published (a background run included)."""
    publisher = CapturingDisplayPublisher()
    old, shell.display_pub = shell.display_pub, publisher
    try:
        result = shell.run_cell(f"%%tune {line}\n{cell}")
        assert result.success, result.error_in_exec or result.error_before_exec
        for thread in threading.enumerate():
            if thread.name.startswith("hpt-study-"):
                thread.join()  # a background run ends by updating its summary
    finally:
        shell.display_pub = old
    return [(o["data"], (o["transient"] or {}).get("display_id")) for o in publisher.outputs]


def in_a_kernel(monkeypatch):
    """The dashboard behaves as in a Jupyter kernel: one display updated in place, with PNG."""
    import hpt_magic.notebook._dashboard as dashboard

    monkeypatch.setattr(dashboard, "in_kernel", lambda: True)


def has_table(text):
    return "Top 5 trials:" in text


def test_the_view_carries_the_table_and_the_summary_does_not_repeat_it(shell, monkeypatch):
    in_a_kernel(monkeypatch)
    outputs = published(shell, "--trials 6 --study v --seed 0")
    views = [data for data, _ in outputs if MIME in data]
    *live, final = views
    # The final view: JupyterLab renders the study JSON (its own table); other front ends
    # render the HTML fallback, the image and then the table.
    assert {MIME, "image/png", "text/html", "text/plain"} <= set(final)
    fallback = final["text/html"]
    assert fallback.index('<img src="data:image/png;base64,') < fallback.index("<table>")
    assert final["image/png"] in fallback and has_table(fallback)
    assert fallback.count("<tr>") == 6
    assert final["text/plain"].startswith("Finished: 6/6 trials") and has_table(final["text/plain"])
    # While running, the front ends without the extension show the bare image.
    assert live and all("text/html" not in data for data in live)
    summary, _ = outputs[-1]
    assert set(summary) == {"text/html", "text/plain"}
    assert "Study &#x27;v&#x27;: 6 complete" in summary["text/html"]
    assert "<table>" not in summary["text/html"] and not has_table(summary["text/plain"])
    assert sum("<table>" in data.get("text/html", "") for data, _ in outputs) == 1


@pytest.mark.parametrize("line", ["--plot none", "--quiet"])
def test_without_the_view_the_summary_has_the_table(shell, monkeypatch, line):
    in_a_kernel(monkeypatch)
    outputs = published(shell, f"--trials 6 --study q --seed 0 {line}")
    assert [data for data, _ in outputs if MIME in data] == []
    (summary, _), = outputs
    assert "Study &#x27;q&#x27;: 6 complete" in summary["text/html"]
    assert has_table(summary["text/html"]) and summary["text/html"].count("<tr>") == 6
    assert has_table(summary["text/plain"])


@pytest.mark.parametrize("view", [True, False])
def test_a_background_run_ends_with_the_same_summary(shell, view):
    line = "--trials 6 --study bg --seed 0 --background" + ("" if view else " --plot none")
    outputs = published(shell, line)
    waiting = next(i for i, (data, _) in enumerate(outputs)
                   if data == {"text/plain": "running in the background..."})
    display_id = outputs[waiting][1]
    summary, updated = outputs[-1]
    assert display_id is not None and updated == display_id and waiting < len(outputs) - 1
    assert set(summary) == {"text/html", "text/plain"}
    assert '<div class="hpt-summary"><p>Study &#x27;bg&#x27;: 6 complete' in summary["text/html"]
    assert summary["text/plain"].startswith("Study 'bg': 6 complete")
    # As in the foreground: the table once, in the view's display when it was shown.
    assert has_table(summary["text/html"]) is not view
    assert has_table(summary["text/plain"]) is not view
    views = [data for data, _ in outputs if MIME in data]
    assert bool(views) is view
    if view:
        assert has_table(views[-1]["text/plain"])


def test_a_cell_with_a_bug_stops_after_five_trials_and_the_summary_says_why(shell):
    outputs = published(shell, "--trials 20 --study bug --plot none",
                        "x = tune.uniform(0, 1)\nmodle.fit(x)\n")
    text = outputs[-1][0]["text/plain"]
    assert "5 failed" in text
    assert ("Stopped: the first 5 trials of this run all failed with NameError: name 'modle' "
            "is not defined.") in text
    assert shell.user_ns["study"].counts()["failed"] == 5


def test_a_bug_with_a_huge_message_is_named_in_one_short_line(shell):
    shell.run_cell("def fail(message):\n    raise ValueError(message)")
    outputs = published(shell, "--trials 20 --study bug --plot none",
                        "x = tune.uniform(0, 1)\nfail('\\x1b[1m' + 'E' * 10**5)\nx\n")
    text = outputs[-1][0]["text/plain"]
    assert "all failed with ValueError: EEE" in text
    assert len(text) < 2000 and "\x1b" not in text


MO_CELL = "w = tune.int(1, 64)\nd = tune.int(1, 8)\ndict(acc=1 - 1 / (w * d), ms=w * d / 100)\n"
MO_LINE = "--maximize acc --minimize ms --plot none --seed 0 --storage mo.db --study mo"


def test_a_multi_objective_summary_says_whose_variables_the_notebook_keeps(shell):
    shell.user_ns["w"] = "before"
    text = published(shell, f"--trials 3 {MO_LINE} --background", MO_CELL)[-1][0]["text/plain"]
    # A background run leaves the notebook's variables alone, and its summary says so.
    picked = max(shell.user_ns["study"].best_trials, key=lambda t: t.values[0]).number
    assert shell.user_ns["w"] == "before"
    assert "The notebook keeps" not in text
    assert f"Trial {picked} is the front's best acc" in text and "--background" in text
    # When the picked trial ran in this run, its variables are in the notebook.
    text = published(shell, f"--trials 1 {MO_LINE} --pick ms --enqueue '{{\"w\": 1, \"d\": 1}}'",
                     MO_CELL)[-1][0]["text/plain"]
    assert shell.user_ns["w"] == 1
    assert "The notebook keeps the variables of trial 3, the front's best ms" in text
    # Continued in another kernel (a fresh namespace), the front's best trial ran before this
    # run: the notebook holds none of its variables, and the summary does not say it does.
    shell.user_ns.pop("w")
    text = published(shell, f"--trials 1 {MO_LINE} --enqueue '{{\"w\": 2, \"d\": 1}}'",
                     MO_CELL)[-1][0]["text/plain"]
    assert "w" not in shell.user_ns and "The notebook keeps" not in text
    assert f"Trial {picked} is the front's best acc" in text and "earlier run" in text
    # Trials in worker processes hand no variables back either.
    text = published(shell, "--trials 2 --maximize acc --minimize ms --plot none --seed 0 "
                     "--storage mo.db --study par --jobs 2", MO_CELL)[-1][0]["text/plain"]
    assert "w" not in shell.user_ns and "The notebook keeps" not in text
    assert "is the front's best acc: trials run in worker processes (--jobs" in text


def test_patience_with_several_objectives_says_no_trial_joined_the_front(shell):
    # It said "the best score stopped improving": a multi-objective study has no best score.
    cell = "x = tune.uniform(0, 1, name='x')\n{'acc': 0.5, 'ms': 1.0}\n"
    text = published(shell, "--trials 10 --maximize acc --minimize ms --patience 2 --plot none "
                     "--storage memory --seed 0", cell)[-1][0]["text/plain"]
    assert len(shell.user_ns["study"].trials) == 3
    assert "Stopped: no trial joined the Pareto front in the last --patience trials." in text
    assert "best score" not in text


def test_a_failure_whose_message_ends_a_sentence_is_not_followed_by_a_second_full_stop(shell):
    # A dict reported to a study whose one objective has no name is refused with a TuneError
    # (its message a sentence of its own).
    text = published(shell, "--trials 1 --maximize --plot none --study d",
                     "x = tune.uniform(0, 1)\ntune.report({'acc': x})\n")[-1][0]["text/plain"]
    assert "(%%tune --maximize NAME / --minimize NAME). Full text: study.trial(0)" in text


def test_a_parallel_run_says_the_notebooks_variables_are_not_the_best_trials(shell):
    # After --jobs the notebook's `model` is still what it was before the run: say so, or a
    # user takes that stale object for the best trial's.
    shell.user_ns["model"] = "before"
    text = published(shell, "--trials 2 --plot none --seed 0 --storage memory --jobs 2",
                     "x = tune.uniform(0, 1)\nmodel = ('fitted', x)\nx")[-1][0]["text/plain"]
    best = shell.user_ns["study"].best_trial.number
    assert shell.user_ns["model"] == "before"
    assert f"The notebook's variables are not trial {best}'s: trials run in worker" in text
    assert "study.best_params" in text


def test_a_message_that_ends_with_a_stop_is_not_given_a_second(shell):
    # tune.*_callback without its framework: "... then restart the kernel." was followed by
    # the summary's own full stop ("restart the kernel..").
    cell = ("x = tune.uniform(0, 1)\n"
            "if x < 2:\n    raise ValueError('Install it, then restart.')\nx\n")
    text = published(shell, "--trials 20 --study stop --plot none", cell)[-1][0]["text/plain"]
    assert "all failed with ValueError: Install it, then restart. That looks like" in text
    assert ".." not in text


def test_no_such_note_when_the_best_trial_ran_in_the_foreground_before(shell):
    # The best trial is an earlier run's, whose variables the notebook holds: nothing to say.
    cell = "x = tune.uniform(0, 1)\nmodel = ('fitted', x)\nx"
    published(shell, "--trials 1 --plot none --seed 0 --study s --enqueue '{\"x\": 0.0}'", cell)
    assert shell.user_ns["model"] == ("fitted", 0.0)
    text = published(shell, "--trials 2 --plot none --seed 0 --study s --jobs 2",
                     cell)[-1][0]["text/plain"]
    assert shell.user_ns["study"].best_trial.number == 0
    assert "The notebook's variables are not" not in text


def test_a_scheduler_whose_trials_never_report_is_noted_after_the_run(shell, capsys):
    # The cell calls a function of the notebook, which might report: no note before the run.
    # Its trials reported nothing, so the summary says the scheduler had nothing to act on.
    shell.run_cell("def fit(x):\n    return (x - 0.3) ** 2\n"
                   "def fit_reporting(x):\n"
                   "    for step in tune.steps(3):\n        tune.report((x - 0.3) ** 2)\n"
                   "    return (x - 0.3) ** 2\n")
    capsys.readouterr()
    line = "--trials 3 --plot none --seed 0 --storage memory --scheduler asha --max-steps 3"
    text = published(shell, line, "x = tune.uniform(0, 1)\nfit(x)\n")[-1][0]["text/plain"]
    assert "nothing to act on" not in capsys.readouterr().err
    assert ("Note: --scheduler asha had nothing to act on: no trial of this run reported a "
            "learning curve") in text
    text = published(shell, line, "x = tune.uniform(0, 1)\nfit_reporting(x)\n")[-1][0]
    assert "nothing to act on" not in text["text/plain"]


def test_the_full_text_is_offered_only_where_there_is_more_to_read(shell):
    # A score of the wrong type fails without a traceback: its short message is all there is.
    text = published(shell, "--trials 2 --plot none --study s", "x = tune.uniform(0, 1)\n'high'"
                     )[-1][0]["text/plain"]
    first = shell.user_ns["study"].trial(0)
    assert first.traceback is None and first.error in text
    assert "2 trial(s) failed this run; first: trial 0:" in text and "Full text" not in text
    # A long one is cut in the summary, and its full text is on the trial.
    text = published(shell, "--trials 1 --plot none --study long",
                     "x = tune.uniform(0, 1)\nif x < 2:\n    raise ValueError('x' * 500)\nx"
                     )[-1][0]["text/plain"]
    assert "Full text: study.trial(0).traceback" in text


def test_a_long_error_without_a_traceback_points_to_the_trials_error():
    from hpt_magic import Float, Study
    from hpt_magic.notebook._run_summary import _summary
    from hpt_magic.study._stopping import RunInfo

    study = Study(space={"x": Float(0, 1)})
    info = RunInfo(1, None)
    trial = study.tell(study.ask(), state="failed", error="lost: " + "w" * 500)
    info.failed.append(trial.number)
    text = _summary(study, info, None)
    assert trial.traceback is None and trial.error not in text
    assert "Full text: study.trial(0).error" in text


def test_trials_an_interrupt_cut_short_are_new_this_run():
    # It said "2 interrupted (0 new this run)" after a run whose two trials were interrupted.
    from hpt_magic import Float, Study
    from hpt_magic.notebook._run_summary import _summary
    from hpt_magic.study._stopping import RunInfo

    study = Study(space={"x": Float(0, 1)})
    study.tell(study.ask(), 0.5)  # an earlier run's
    info = RunInfo(None, None)
    info.done = 1
    study.tell(study.ask(), 0.4)
    for _ in range(2):
        study.tell(study.ask(), state="interrupted")
    text = _summary(study, info, None)
    assert "2 complete, 0 pruned, 0 failed, 2 interrupted (3 new this run)" in text
