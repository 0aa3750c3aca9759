import pytest
from IPython.core.error import UsageError

from hpt_magic import Float, SQLiteStorage, Study, TrialState
from hpt_magic.notebook._cell import parse_cell
from hpt_magic.notebook._options import default_storage
from hpt_magic.study._export import list_studies

SVC_CELL = """
C = tune.loguniform(1e-3, 1e3, default=1.0)
kernel = tune.choice(["rbf", "sigmoid"])
model = (C, kernel)
print("training", C)
-abs(math.log10(C)) - (kernel == "sigmoid")
"""


def run(shell, line, cell=SVC_CELL):
    result = shell.run_cell(f"%%tune {line}\n{cell}")
    return result


def error_of(result):
    err = result.error_in_exec or result.error_before_exec
    return err


def test_a_cell_becomes_a_study(shell, capsys):
    shell.run_cell("import math")
    r = run(shell, "--trials 12 --sampler random --maximize --study s --seed 0 --plot none")
    assert r.success, error_of(r)
    study = shell.user_ns["study"]
    assert isinstance(study, Study)
    assert len(study.trials) == 12
    assert all(t.state is TrialState.COMPLETE for t in study.trials)
    assert set(study.trials[0].params) == {"C", "kernel"}
    best = study.best_trial
    # The notebook holds the variables as the best trial left them.
    assert shell.user_ns["model"] == (best.params["C"], best.params["kernel"])
    assert shell.user_ns["C"] == best.params["C"]
    out = capsys.readouterr().out
    assert "new study 's'" in out
    assert "12 complete" in out and "Best max score" in out
    assert "training" not in out  # trial prints are captured, not poured into the cell
    assert study.trials[0].output.startswith("training")


def test_without_the_magic_the_cell_runs_on_defaults(shell):
    shell.run_cell("import math")
    r = shell.run_cell(SVC_CELL)
    assert r.success
    assert shell.user_ns["C"] == 1.0 and shell.user_ns["kernel"] == "rbf"
    assert r.result == 0


def test_one_trial_is_counted_in_the_singular(shell, capsys):
    cell = "x = tune.uniform(0, 1)\nx\n"
    run(shell, "--trials 1 --study one --plot none", cell)
    assert "\nTop 1 trial:\n" in capsys.readouterr().out
    run(shell, "--trials 1 --study one --plot none", cell)
    assert capsys.readouterr().out.startswith("continuing study 'one': 1 earlier trial, best")


def test_rerunning_continues_the_study_and_says_so(shell, capsys, tmp_path):
    shell.run_cell("import math")
    run(shell, "--trials 3 --study s --seed 0 --plot none")
    capsys.readouterr()
    run(shell, "--trials 4 --study s --seed 0 --plot none")
    out = capsys.readouterr().out
    assert out.startswith("continuing study 's': 3 earlier trials, best")
    study = shell.user_ns["study"]
    assert len(study.trials) == 7
    assert len({t.params["C"] for t in study.trials}) == 7
    stored = Study(name="s", storage=SQLiteStorage(tmp_path / "hpt_studies.db"))
    assert len(stored.trials) == 7


def test_an_unnamed_cell_is_named_after_its_body(shell, capsys):
    shell.run_cell("import math")
    run(shell, "--trials 2 --plot none")
    out = capsys.readouterr().out
    assert "named after this cell" in out
    name = shell.user_ns["study"].name
    run(shell, "--trials 2 --plot none")
    assert capsys.readouterr().out.startswith(f"continuing study {name!r}")


def test_new_starts_afresh_and_keeps_the_old_trials(shell, capsys):
    shell.run_cell("import math")
    run(shell, "--trials 2 --study s --plot none")
    run(shell, "--trials 1 --study s --new --plot none")
    study = shell.user_ns["study"]
    assert len(study.trials) == 1
    assert "kept as 's~" in capsys.readouterr().out


def test_report_without_a_final_expression(shell):
    cell = "x = tune.uniform(0, 1)\nfor step in tune.steps(3):\n    tune.report(x + step)\n"
    r = run(shell, "--trials 3 --plot none --study r", cell)
    assert r.success, error_of(r)
    study = shell.user_ns["study"]
    for t in study.trials:
        assert t.value == pytest.approx(t.params["x"] + 2)
        assert len(t.intermediate) == 3


@pytest.mark.parametrize("cell, fragment", [
    ("x = tune.uniform(0, 1)\ny = x * 2\n", "no score" if False else "never calls"),
    ("values = [tune.uniform(0, 1)]\nvalues[0]\n", "Line 1: tune.uniform"),
    ("tune = 3\n1\n", "assigns the name 'tune'"),
    ("study = 3\nstudy\n", "assigns the name 'study'"),
    ("x = tune.uniform(0, 1)\nx +\n", "syntax error on line 2"),
    ("   \n", "empty"),
    ("x = tune.uniform(1, 0)\nx\n", "Line 1: Float: low=1 must be smaller"),
    ("x = tune.uniform(0, 1)\nk = tune.choice([])\nx\n", "Line 2: Choice: the list of options"),
    ("x = tune.uniform(0)\nx\n", "Line 1: tune.uniform() missing 1 required"),
])
def test_bad_cells_get_one_clear_error_before_any_trial(shell, cell, fragment, tmp_path):
    r = run(shell, "--trials 3 --study bad --plot none", cell)
    err = error_of(r)
    assert isinstance(err, UsageError), err
    assert fragment in str(err)
    assert not (tmp_path / "hpt_studies.db").exists() or "bad" not in [
        s["name"] for s in SQLiteStorage(tmp_path / "hpt_studies.db").list_studies()]


@pytest.mark.parametrize("line, fragment", [
    ("--trials many", "invalid int value"),
    ("--bogus", "unrecognized arguments"),
    ("--sampler nope", "Unknown sampler"),
    ("--out 1x", "not a valid variable name"),
    ("--enqueue '{bad'", "not valid JSON"),
    ("--scheduler-args 'oops'", "key=value"),
])
def test_bad_options_get_one_clear_error(shell, line, fragment):
    r = run(shell, line + " --plot none", "x = tune.uniform(0, 1)\nx\n")
    err = error_of(r)
    assert isinstance(err, UsageError)
    assert fragment in str(err)


def test_out_refuses_to_overwrite_a_user_variable(shell):
    shell.run_cell("study = [1, 2, 3]")
    r = run(shell, "--plot none", "x = tune.uniform(0, 1)\nx\n")
    assert "would overwrite" in str(error_of(r))
    assert shell.user_ns["study"] == [1, 2, 3]
    r = run(shell, "--plot none --out s2 --trials 2", "x = tune.uniform(0, 1)\nx\n")
    assert r.success and isinstance(shell.user_ns["s2"], Study)


def test_an_empty_parameter_name_is_refused_naming_the_cell_line(shell):
    r = run(shell, "--plot none", "x = 1\ny = tune.uniform(0, 1, name='')\ny\n")
    text = str(error_of(r))
    assert text.startswith("Line 2: tune.uniform(0, 1) has name='', and a parameter needs a name")
    assert "hpt_magic" not in text  # no file of ours named as the place of the mistake


def test_failing_trials_are_recorded_and_summarised(shell, capsys):
    cell = "x = tune.uniform(0, 1)\nif x > 0.5:\n    raise ValueError('too big')\nx\n"
    r = run(shell, "--trials 10 --seed 1 --plot none --study f", cell)
    assert r.success
    study = shell.user_ns["study"]
    failed = study.get_trials(["failed"])
    assert failed and all(t.error == "ValueError: too big" for t in failed)
    out = capsys.readouterr().out
    assert "trial(s) failed this run" in out and "ValueError: too big" in out


def test_a_huge_coloured_error_is_one_short_line_of_the_summary(shell, capsys):
    # The message may be anything a library raised: megabytes, many lines, ANSI colours.
    cell = ("x = tune.uniform(0, 1)\n"
            "raise ValueError('\\x1b[31mfirst\\x1b[0m\\n' + 'E' * 100_000)\nx\n")
    r = run(shell, "--trials 2 --plot none --study huge", cell)
    assert r.success
    assert len(shell.user_ns["study"].trial(0).error) > 100_000  # kept whole on the trial
    out = capsys.readouterr().out
    assert "first: trial 0: ValueError: first EEE" in out
    assert len(out) < 2000 and "\x1b" not in out


def test_the_failure_line_counts_this_runs_failures_beside_reused_repeats(shell, capsys):
    # Reused repeats are trials of the run that did not run: the count and the first failed
    # trial must not be read off the last trials of the study.
    cell = "a = tune.int(0, 2)\nb = tune.choice(['p', 'q'])\nif a == 0 and b == 'p':\n" \
           "    1 / 0\na\n"
    r = run(shell, "--trials 10 --sampler random --seed 0 --plot none --study fw", cell)
    assert r.success
    study = shell.user_ns["study"]
    failed = study.get_trials(["failed"])
    assert any("repeat_of" in t.user_attrs for t in study.trials)
    out = capsys.readouterr().out
    assert (f"{len(failed)} trial(s) failed this run; first: trial {failed[0].number}: "
            "ZeroDivisionError") in out


#: Options refused before anything is stored: by themselves, or against the study they would
#: open (its objectives, the sampler's grid, the study to warm-start from).
REFUSED = ["--patience 0", "--jobs 0", "--trials -1", "--trial-timeout -1", "--log bogus",
           "--warm-start nosuch", """--enqueue '{"x": 5}'""",
           "--maximize a --minimize b --pick nosuch", "--pick acc", "--maximize --pick acc",
           "--directions max,min --pick acc", "--maximize a --minimize b --patience auto",
           "--directions max,min --patience auto", "--retries -1", "--sampler grid",
           "--warm-start empty", "--dask local:x", "--dask tcp://127.0.0.1"]


@pytest.mark.parametrize("bad", REFUSED)
def test_a_bad_run_option_leaves_the_notebook_and_the_file_as_they_were(shell, bad):
    cell = "x = tune.uniform(0, 1)\nx\n"
    assert run(shell, "--plot none --quiet --study good --trials 2", cell).success
    Study(name="empty", storage=SQLiteStorage(default_storage()))  # no trial to start from
    before = list_studies(default_storage())
    r = run(shell, f"--plot none --quiet --study typo --trials 2 {bad}", cell)
    assert isinstance(error_of(r), UsageError)
    assert shell.user_ns["study"].name == "good"
    assert list_studies(default_storage()) == before
    assert [s["name"] for s in before] == ["good", "empty"]


@pytest.mark.parametrize("bad", ["--pick acc", "--directions max,min --patience auto",
                                 "--sampler grid", "--retries -1"])
def test_a_refused_new_keeps_the_old_study_under_its_name(shell, bad):
    cell = "x = tune.uniform(0, 1)\nx\n"
    assert run(shell, "--plot none --quiet --study good --trials 2", cell).success
    before = list_studies(default_storage())
    r = run(shell, f"--plot none --quiet --study good --new --trials 2 {bad}", cell)
    assert isinstance(error_of(r), UsageError)
    assert list_studies(default_storage()) == before
    assert [(s["name"], s["n_trials"]) for s in before] == [("good", 2)]


def test_a_value_jobs_cannot_send_leaves_the_notebook_and_the_file_as_they_were(shell):
    cell = "x = tune.uniform(0, 1)\nx\n"
    assert run(shell, "--plot none --quiet --study good --trials 2", cell).success
    before = list_studies(default_storage())
    shell.run_cell("import threading\nlock = threading.Lock()")
    for line in ("--study other", "--study good --new"):
        r = run(shell, f"--plot none --quiet --trials 2 --jobs 2 {line}",
                "x = tune.uniform(0, 1)\nwith lock:\n    y = x\ny\n")
        assert isinstance(error_of(r), UsageError) and "'lock'" in str(error_of(r))
        assert shell.user_ns["study"].name == "good" and len(shell.user_ns["study"].trials) == 2
        assert list_studies(default_storage()) == before


def test_no_catch_raises_the_trial_error(shell):
    r = run(shell, "--no-catch --plot none --study nc", "x = tune.uniform(0, 1)\n1/0\n")
    assert isinstance(error_of(r), ZeroDivisionError)
    # Shown from the cell down: the frames of ours that are left are hidden from IPython's
    # display (__tracebackhide__), the runner's are gone.
    tb, frames = error_of(r).__traceback__, []
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    ours = [f for f in frames if f.f_globals.get("__name__", "").startswith("hpt_magic.")]
    assert ours and all("__tracebackhide__" in f.f_locals for f in ours)
    assert frames[-1].f_code.co_filename.startswith("<tune-cell")


def test_trial_namespaces_do_not_leak_into_each_other(shell):
    shell.run_cell("counter = 0")
    cell = "x = tune.uniform(0, 1)\ncounter = counter + 1\ncounter\n"
    run(shell, "--trials 4 --plot none --study leak", cell)
    study = shell.user_ns["study"]
    assert [t.value for t in study.trials] == [1, 1, 1, 1]


def test_interrupt_keeps_finished_trials_and_the_kernel(shell, capsys):
    cell = ("x = tune.uniform(0, 1)\n"
            "if tune.trial.number == 2:\n    raise KeyboardInterrupt\nx\n")
    r = run(shell, "--trials 10 --plot none --study intr", cell)
    assert r.success
    study = shell.user_ns["study"]
    assert [t.state.value for t in study.trials] == ["complete", "complete", "interrupted"]
    assert "Interrupted" in capsys.readouterr().out
    assert shell.run_cell("1 + 1").result == 2


def test_enqueue_and_grid(shell):
    cell = "a = tune.grid([1, 2, 3])\nb = tune.choice(['x', 'y'])\na\n"
    run(shell, "--sampler grid --plot none --study g --enqueue '{\"a\": 3, \"b\": \"y\"}'", cell)
    study = shell.user_ns["study"]
    assert study.trials[0].params == {"a": 3, "b": "y"}
    assert len(study.trials) == 6


def test_rerunning_a_cell_with_enqueue_does_not_run_its_point_again(shell):
    # The --enqueue option stays in the cell's line: each re-run queued the point anew, and
    # the first trial of the run (which always runs) ran the baseline once more.
    cell = "x = tune.uniform(0, 1)\nm = tune.choice([(1, 2), 'b'])\nx\n"
    line = """--trials 2 --plot none --study q --enqueue '{"x": 0.5, "m": [1, 2]}'"""
    for _ in range(3):
        assert run(shell, line, cell).success
    study = shell.user_ns["study"]
    assert len(study.trials) == 6
    assert [t.number for t in study.trials if t.params["x"] == 0.5] == [0]
    # --on-repeat run (a noisy score) runs it again.
    assert run(shell, line + " --on-repeat run", cell).success
    assert [t.number for t in shell.user_ns["study"].trials if t.params["x"] == 0.5] == [0, 6]


def test_memory_storage_and_tune_list(shell, capsys):
    run(shell, "--trials 2 --plot none --study m --storage memory", "x = tune.uniform(0, 1)\nx\n")
    run(shell, "--trials 2 --plot none --study d", "x = tune.uniform(0, 1)\nx\n")
    capsys.readouterr()
    shell.run_line_magic("tune_list", "")
    out = capsys.readouterr().out
    assert "d " in out and "m " not in out


def test_tune_list_takes_a_quoted_path_as_storage_does(shell, capsys, tmp_path):
    # %%tune --storage needs the quotes around a path with spaces; %tune_list looked for a
    # file whose name began with the quote.
    (tmp_path / "my dir é").mkdir()  # the shell works in tmp_path
    path = "my dir é/stüdies ✓.db"
    assert run(shell, f"--trials 1 --plot none --study naïve --storage '{path}'",
               "x = tune.uniform(0, 1)\nx\n").success
    capsys.readouterr()
    for line in (f"'{path}'", f'"{path}"', path):
        shell.run_line_magic("tune_list", line)
        assert "naïve" in capsys.readouterr().out


def test_help_lists_the_options(shell):
    doc = shell.find_cell_magic("tune").__doc__
    for option in ("--trials", "--timeout", "--sampler", "--maximize", "--study", "--storage",
                   "--seed", "--out", "--no-catch", "--quiet", "--new"):
        assert option in doc


def test_manual_mode_binds_the_study_and_shares_it_with_automated_runs(shell, monkeypatch):
    shown = []
    monkeypatch.setattr("hpt_magic.notebook._magic.display", lambda obj, **kw: shown.append(obj))
    cell = "lr = tune.loguniform(1e-4, 1e-1, default=1e-2)\nact = tune.choice(['relu', 'tanh'])\n" \
           "-abs(math.log10(lr) + 2)\n"
    shell.run_cell("import math")
    r = run(shell, "--manual --study mlp --maximize --plot none", cell)
    assert r.success, error_of(r)
    tuner = shown[-1]
    assert type(tuner).__name__ == "ManualTuner"
    assert tuner.values() == {"lr": pytest.approx(1e-2), "act": "relu"}
    tuner.run()
    study = shell.user_ns["study"]
    assert len(study.trials) == 1 and study.trials[0].manual
    assert shell.user_ns["lr"] == pytest.approx(1e-2)
    run(shell, "--study mlp --maximize --trials 3 --sampler random --plot none", cell)
    continued = shell.user_ns["study"]
    assert len(continued.trials) == 4 and continued.trials[0].manual


@pytest.mark.parametrize("line, cell, expected", [
    ("--trials 30", "x = tune.uniform(0, 1)\nx\n", "gp"),
    ("--trials 500", "x = tune.uniform(0, 1)\nx\n", "tpe"),
    ("--timeout 0.5", "x = tune.uniform(0, 1)\nx\n", "tpe"),
    ("--trials 30", "k = tune.choice(['a', 'b'])\nif k == 'a':\n    x = tune.uniform(0, 1)\n"
                    "else:\n    x = 2\nx\n", "tpe"),
    ("--trials 30 --sampler random", "x = tune.uniform(0, 1)\nx\n", "random"),
])
def test_default_sampler_follows_budget_and_space(shell, line, cell, expected):
    r = run(shell, f"{line} --plot none --quiet --storage memory", cell)
    assert r.success, error_of(r)
    assert shell.user_ns["study"].sampler.name == expected


def test_jobs_ship_the_cell_and_name_what_cannot_travel(shell):
    shell.run_cell("import math\nimport threading\nscale = 2.0\nlock = threading.Lock()")
    cell = "x = tune.uniform(0, 1)\nfor step in tune.steps(2):\n    tune.report(x * scale)\n" \
           "print('in a worker')\nx * scale\n"
    r = run(shell, "--trials 4 --jobs 2 --plot none --study par --sampler random --seed 0", cell)
    assert r.success, error_of(r)
    study = shell.user_ns["study"]
    assert [t.state.value for t in study.trials] == ["complete"] * 4
    assert all(t.output == "in a worker\n" and len(t.intermediate) == 2 for t in study.trials)
    r = run(shell, "--trials 2 --jobs 2 --plot none --study par2",
            "x = tune.uniform(0, 1)\nwith lock:\n    y = x\ny\n")
    err = error_of(r)
    assert isinstance(err, UsageError) and "'lock'" in str(err)
    # A function of the notebook that uses the lock: the error names the lock, which the
    # cell does not show.
    shell.run_cell("def guarded(v):\n    with lock:\n        return v")
    r = run(shell, "--trials 2 --jobs 2 --plot none --study par3",
            "x = tune.uniform(0, 1)\nguarded(x)\n")
    assert "'guarded' (function), which cannot be sent to worker processes: its `lock` " \
           "(lock) cannot be pickled" in str(error_of(r))


def test_jobs_ship_a_notebook_variable_the_cell_reassigns(shell):
    # `X = X[:50]` and `n += 1` read the notebook's value before the trial's own: a worker
    # needs it as a sequential trial has it.
    # A comprehension's own name is not the notebook's: an unpicklable notebook `f` (a closed
    # file) is not sent and does not refuse the cell.
    shell.run_cell("X = list(range(100))\nn = 10\nf = open(__file__ if '__file__' in "
                   "globals() else 'x.txt', 'a')\nf.close()")
    cell = ("x = tune.uniform(0, 1)\nX = (\n    X[:50]\n)\nn += 1\n"
            "k = len([f for f in 'ab'])\nx + len(X) + n + k\n")
    # A name the cell binds and only may read first is left out when it cannot be sent.
    # (get reads f only when called, after the cell has bound it)
    guess = "def get():\n    return f\nf = 0\nn += get()\n"
    assert "f" in parse_cell(cell.replace("n += 1\n", "n += 1\n" + guess)).rebinds
    cell = cell.replace("n += 1\n", "n += 1\n" + guess)
    r = run(shell, "--trials 2 --jobs 2 --plot none --study rebind --sampler random", cell)
    assert r.success, error_of(r)
    study = shell.user_ns["study"]
    assert [t.state.value for t in study.trials] == ["complete"] * 2, study.trials[0].error
    assert all(63 <= t.value <= 64 for t in study.trials)


def test_log_tensorboard_writes_one_run_per_trial(shell, tmp_path):
    pytest.importorskip("tensorboardX")
    logdir = tmp_path / "runs"
    line = f"--trials 3 --plot none --study tb --log tensorboard --log-args logdir={logdir}"
    r = run(shell, line, "x = tune.uniform(0, 1)\ntune.report(x, 0)\nx\n")
    assert r.success, error_of(r)
    runs = sorted(p.name for p in (logdir / "tb").iterdir())
    assert runs == ["trial-0000", "trial-0001", "trial-0002"]


def test_a_corrupt_study_file_is_one_clear_error(shell, tmp_path):
    (tmp_path / "notes.db").write_text("my notes, not a database\n" * 100)
    r = run(shell, "--storage notes.db --plot none", "x = tune.uniform(0, 1)\nx\n")
    err = error_of(r)
    assert isinstance(err, UsageError) and "not a study database" in str(err)
    assert (tmp_path / "notes.db").read_text().startswith("my notes")


def test_tune_list_shows_when_each_study_was_created(shell, capsys):
    run(shell, "--trials 1 --plot none --quiet --study a", "x = tune.uniform(0, 1)\nx\n")
    capsys.readouterr()
    shell.run_line_magic("tune_list", "")
    header, row = capsys.readouterr().out.splitlines()
    assert header.split() == ["study", "direction", "trials", "complete", "created", "best"]
    created = list_studies(default_storage())[0]["created"].strftime("%Y-%m-%d %H:%M")
    assert created in row
    # Columns line up with their headers even for a name shorter than "study".
    assert row.index("minimize") == header.index("direction")
    assert row.index(created) == header.index("created")


def test_tune_list_shows_any_study_name_on_one_aligned_line(shell, capsys):
    # A stored name is anyone's: a line break, a terminal escape or a U+202E in it must not
    # break the table or turn the rest of its row around.
    for name in ("a\nb\x1b[31m", "\u202eevil", "plain"):
        Study(name=name, storage=default_storage(), space={"x": Float(0, 1)}).optimize(
            lambda t: t.params["x"], n_trials=1)
    capsys.readouterr()
    shell.run_line_magic("tune_list", "")
    header, *rows = capsys.readouterr().out.splitlines()
    assert [r.split("  ")[0] for r in rows] == ["a b", "\u2068evil\u2069", "plain"]
    for row in rows:  # (the isolates take no column)
        assert row.replace("\u2068", "").replace("\u2069", "").index("minimize") == \
            header.index("direction")


def test_a_key_value_error_gives_an_example_of_its_own_option(shell):
    r = run(shell, "--plot none --log tensorboard --log-args runs", "x = tune.uniform(0, 1)\nx\n")
    assert "Example: --log-args 'logdir=runs'" in str(error_of(r))


def test_line_magics_open_a_study_whose_name_has_a_space(shell, capsys):
    from matplotlib.figure import Figure

    cell = "x = tune.uniform(0, 1)\nx\n"
    assert run(shell, "--plot none --quiet --study 'my study' --trials 2", cell).success
    assert run(shell, "--plot none --quiet --study other --trials 2", cell).success
    shown = []
    shell.display_formatter.formatters["image/png"].for_type(Figure, shown.append)
    try:
        shell.run_line_magic("tune_plot", "'my study' --kind edf")
        shell.run_line_magic("tune_compare", "\"my study\" other")
    finally:
        shell.display_formatter.formatters["image/png"].pop(Figure)
    assert len(shown) == 2
    with pytest.raises(UsageError, match="Close the quote"):
        shell.run_line_magic("tune_plot", "'my study")


CLASSES = "class Forest:\n    pass\nclass Boosting:\n    pass\n"
CHOICE_OF_CLASSES = ("est = tune.choice([Forest, Boosting])\nx = tune.uniform(0, 1)\n"
                     "x + (est is Forest)")


def test_a_choice_of_classes_runs_in_the_default_file_and_continues(shell, capsys):
    shell.run_cell(CLASSES)
    line = "--trials 4 --sampler random --seed 0 --study s --plot none"
    r = run(shell, line, CHOICE_OF_CLASSES)
    assert r.success, error_of(r)
    study = shell.user_ns["study"]
    assert study.counts()["complete"] == 4 and study.counts()["running"] == 0
    out = capsys.readouterr().out
    assert "est=Forest" in out or "est=Boosting" in out
    # The class cell run again defines other classes of the same names: no edit, and the
    # earlier trials hold the new classes.
    shell.run_cell(CLASSES)
    r = run(shell, line, CHOICE_OF_CLASSES)
    assert r.success, error_of(r)
    assert capsys.readouterr().out.startswith("continuing study 's': 4 earlier trials")
    study = shell.user_ns["study"]
    assert len(study.trials) == 8 and study.space_version == 0
    assert {t.params["est"] for t in study.trials} <= {shell.user_ns["Forest"],
                                                      shell.user_ns["Boosting"]}


def test_a_tune_error_in_plain_python_shows_the_cells_lines_and_the_message(shell, capsys):
    # A callback misused outside %%tune raises from deep inside XGBoost's training loop:
    # IPython shows the cell's own lines and the message, not the library frames between.
    pytest.importorskip("xgboost")
    shell.run_cell(
        "import numpy as np, xgboost as xgb\n"
        "d = xgb.DMatrix(np.arange(40.0).reshape(20, 2), label=np.arange(20) % 2)\n"
        "def train():\n"
        "    return xgb.train({}, d, 2, evals=[(d, 'valid')], verbose_eval=False,\n"
        "                     callbacks=[tune.xgboost_callback('valid-nope')])\n"
        "train()\n")
    shown = capsys.readouterr().out
    assert "Traceback (most recent call last):" in shown
    assert "train()" in shown and "return xgb.train(" in shown
    assert "'valid-nope' is not among the evaluation results" in shown
    assert "xgboost" not in shown.split("return xgb.train(")[1].split("TuneError")[0]
    assert "hpt_magic/" not in shown and "site-packages" not in shown
