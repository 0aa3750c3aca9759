CELL = """
x = tune.uniform(0, 1)
try:
    for epoch in tune.steps(9):
        tune.report(x * (epoch + 1))
    seen.append(epoch)
except BaseException as exc:
    seen.append(type(exc).__name__)
    raise
"""


def test_a_pruned_trial_loop_ends_without_an_exception_in_the_cell(shell):
    shell.user_ns["seen"] = []
    shell.run_cell_magic("tune", "--trials 12 --scheduler asha --max-steps 9 --maximize "
                                 "--storage memory --seed 0", CELL)
    study = shell.user_ns["study"]
    assert study.counts()["pruned"] > 0
    assert len(shell.user_ns["seen"]) == 12
    assert all(isinstance(s, int) for s in shell.user_ns["seen"])


def test_scheduler_args_from_the_magic(shell):
    shell.user_ns["seen"] = []
    shell.run_cell_magic("tune", "--trials 3 --scheduler early-stop --scheduler-args patience=2 "
                                 "--storage memory --seed 0", CELL.replace("x * (epoch + 1)", "x"))
    study = shell.user_ns["study"]
    assert study.scheduler.patience == 2
    assert all(t.last_step == 2 and t.state.value == "complete" for t in study.trials)
