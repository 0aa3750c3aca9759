import ast
import os
import signal
import subprocess
import sys
import threading
import time

import cloudpickle
import pytest

from hpt_magic import Choice, Float, Scheduler, Study, TrialState, TuneError, load_study, tune
from hpt_magic.study._optimize import optimize

# Ship this module's objectives by value, as cloudpickle does for a notebook's functions.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(params=["processes", "dask"])
def executor(request):
    """``optimize`` keywords for two local processes, or the two-worker Dask cluster."""
    if request.param == "processes":
        yield {"n_jobs": 2}
        return
    client = request.getfixturevalue("client")
    yield {"dask": client}
    client.wait_for_workers(2, timeout=30)  # a worker a test killed is back for the next one


def curve(trial):
    lr = tune.loguniform(1e-3, 1.0, name="lr")
    act = tune.choice(["relu", "tanh"], name="act")
    for step in tune.steps(3):
        tune.report(lr * (step + 1), step)
    print(f"trial {trial.number} done with {act}")
    return lr


class StopAtTwo(Scheduler):
    def on_report(self, study, trial, step, value):
        return "stop" if step >= 2 else "continue"


def long_curve(trial):
    x = tune.uniform(0, 1, name="x")
    for step in tune.steps(20):
        tune.report(x + step, step)
        print("step", step)
    return x


def kill_trial_one(trial):
    if trial.number == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return trial.params["x"]


def test_define_by_run_trials_report_and_complete(executor, tmp_path):
    path = tmp_path / "s.db"
    study = Study(seed=0, name="par", storage=path)
    study.optimize(curve, n_trials=6, **executor)
    assert study.counts()["complete"] == 6 and len(study.trials) == 6
    for t in study.trials:
        assert 1e-3 <= t.params["lr"] <= 1.0 and t.params["act"] in ("relu", "tanh")
        assert t.value == t.params["lr"]
        assert t.intermediate == {s: pytest.approx(t.params["lr"] * (s + 1)) for s in range(3)}
        assert t.output == f"trial {t.number} done with {t.params['act']}\n"
    stored = load_study("par", path)
    assert [t.intermediate for t in stored.trials] == [t.intermediate for t in study.trials]
    assert [t.params for t in stored.trials] == [t.params for t in study.trials]


def test_scheduler_stop_reaches_the_worker(executor):
    study = Study(seed=1, scheduler=StopAtTwo())
    study.optimize(long_curve, n_trials=4, **executor)
    assert study.counts()["pruned"] == 4
    for t in study.trials:
        assert sorted(t.intermediate) == [0, 1, 2]
        assert t.output.splitlines() == ["step 0", "step 1", "step 2"]


def test_killed_worker_fails_its_trial_only(executor):
    study = Study(space={"x": Float(0, 1)}, seed=0)
    study.optimize(kill_trial_one, n_trials=5, **executor)
    assert study.trial(1).state is TrialState.FAILED
    assert "worker" in study.trial(1).error and "died" in study.trial(1).error
    assert study.counts()["complete"] == 4 and len(study.trials) == 5
    study.optimize(kill_trial_one, n_trials=2, **executor)  # the pool recovered
    assert study.counts()["complete"] == 6


def nap(trial):
    time.sleep(0.1)  # long enough for both workers to hold a trial at once
    return trial.params["x"]


def test_each_trial_records_the_worker_that_ran_it(executor, tmp_path):
    from hpt_magic.display import plot_timeline

    path = tmp_path / "w.db"
    study = Study(space={"x": Float(0, 1)}, seed=0, name="lanes", storage=path)
    study.optimize(nap, n_trials=6, **executor)
    workers = [t.user_attrs["worker"] for t in load_study("lanes", path).trials]
    assert set(workers) <= {0, 1} and len(workers) == 6
    ax = plot_timeline(study).axes[0]
    assert ax.get_title(loc="left") == f"Timeline: 6 trials on {max(workers) + 1} lanes"
    if "dask" in executor:
        addresses = {t.user_attrs["worker_name"] for t in study.trials}
        assert addresses <= set(executor["dask"].scheduler_info()["workers"])
        assert len(addresses) == len(set(workers))  # one number per address
        assert {t.get_text() for t in ax.get_yticklabels()} == {
            a.removeprefix("tcp://") for a in addresses}
    else:
        assert set(workers) == {0, 1}  # two trials in flight from the start, one per process
        assert "worker_name" not in study.trials[0].user_attrs


def test_a_killed_trial_is_retried_once(executor, tmp_path):
    marker = tmp_path / "killed-once"

    def kill_first_attempt(trial):
        if trial.number == 0 and not marker.exists():
            marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        return trial.params["x"]

    study = Study(space={"x": Float(0, 1)}, seed=0)
    info = optimize(study, kill_first_attempt, n_trials=3, retries=1, **executor)
    assert marker.exists() and info.done == 3 and info.reason == "done"
    assert study.counts()["complete"] == 3
    assert study.trial(0).user_attrs["retried"] == 1
    assert study.trial(0).user_attrs["worker"] in (0, 1)
    if "dask" in executor:  # the worker that finished it, not the one that died
        assert study.trial(0).user_attrs["worker_name"] in executor["dask"].scheduler_info()[
            "workers"]


def grow(trial):
    lr = tune.loguniform(0.01, 1.0, name="lr")
    state = tune.restore({"w": 0.0})
    for step in tune.steps(8):
        state = {"w": state["w"] + lr}
        tune.report(state["w"], step, checkpoint=state)
    return state["w"]


def test_pbt_checkpoints_travel_to_workers():
    study = Study(seed=0, direction="maximize", scheduler="pbt", max_steps=8,
                  scheduler_args={"population_size": 4, "interval": 2})
    # 20 trials: under two workers which trials pause depends on their timing; over seeds
    # 0-4 this gave 3 to 7 children (12 trials sometimes gave none).
    study.optimize(grow, n_trials=20, n_jobs=2)
    children = [t for t in study.trials if "parent" in t.user_attrs]
    assert children
    for child in children:
        parent = study.trial(child.user_attrs["parent"])
        start = child.user_attrs["resume_step"]
        assert min(child.intermediate) == start
        assert child.intermediate[start] == pytest.approx(
            parent.intermediate[start - 1] + child.params["lr"])


def test_stop_lets_running_trials_finish():
    study = Study(space={"x": Float(0, 1)})
    info = optimize(study, long_curve, n_trials=20, n_jobs=2,
                    callbacks=[lambda s, t: s.stop()])
    assert info.reason == "stopped" and info.done == len(study.trials) == 2
    assert study.counts()["complete"] == 2


def test_no_more_worker_processes_than_trials():
    # --jobs 1000 --trials 2 started 1000 processes (half a minute on two cores) for two.
    import multiprocessing

    def workers(study, trial):
        seen.append(sum(p.name == "hpt-worker" for p in multiprocessing.active_children()))

    seen: list[int] = []
    study = Study(space={"x": Float(0, 1)})
    study.optimize(lambda t: t.params["x"], n_trials=2, n_jobs=8, callbacks=[workers])
    assert study.counts()["complete"] == 2 and seen and max(seen) == 2


def print_variable(trial):
    print(os.environ.get("HPT_TEST_LATER"))
    return trial.params["x"]


def test_workers_see_the_environment_variables_the_kernel_has_now(monkeypatch):
    # The fork server keeps the environment it started with (at %load_ext); a variable set in
    # a later cell (CUDA_VISIBLE_DEVICES, an API key) must reach the trials as it does
    # sequential ones.
    study = Study(space={"x": Float(0, 1)})
    study.optimize(print_variable, n_trials=1, n_jobs=2)  # the fork server runs from here on
    monkeypatch.setenv("HPT_TEST_LATER", "set in a later cell")
    study.optimize(print_variable, n_trials=2, n_jobs=2)
    assert [t.output for t in study.trials] == ["None\n"] + ["set in a later cell\n"] * 2


def test_same_seed_same_suggestions_as_sequential():
    space = {"x": Float(-1, 1), "c": Choice(["a", "b", "c"])}
    runs = []
    for n_jobs in (1, 2):
        study = Study(space=space, seed=3)
        study.optimize(lambda t: t.params["x"], n_trials=6, n_jobs=n_jobs)
        runs.append(sorted((t.number, t.params["x"], t.params["c"]) for t in study.trials))
    assert runs[0] == runs[1]


def test_unpicklable_objective_is_named_before_trials_start():
    lock = threading.Lock()

    def uses_a_lock(trial):
        with lock:
            return trial.params["x"]

    study = Study(space={"x": Float(0, 1)})
    with pytest.raises(TuneError, match=r"`lock` \(lock\) cannot be pickled"):
        study.optimize(uses_a_lock, n_trials=2, n_jobs=2)
    assert study.trials == []


class _Unloadable:
    def __call__(self, trial):
        return 0.0

    def __reduce__(self):
        return (_fail_to_load, ())


def _fail_to_load():
    raise ImportError("No module named 'only_in_the_kernel'")


def test_objective_that_workers_cannot_load(executor):
    study = Study(space={"x": Float(0, 1)})
    with pytest.raises(TuneError, match="only_in_the_kernel"):
        study.optimize(_Unloadable(), n_trials=2, **executor)
    assert all(t.state is TrialState.INTERRUPTED for t in study.trials)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_only_the_kernel_opens_the_sqlite_file(tmp_path):
    def open_study_files(trial):
        fds = f"/proc/{os.getpid()}/fd"
        links = []
        for fd in os.listdir(fds):
            try:
                links.append(os.readlink(os.path.join(fds, fd)))
            except OSError:  # the descriptor listdir itself used
                pass
        return sum(str(tmp_path) in link for link in links)

    study = Study(space={"x": Float(0, 1)}, storage=tmp_path / "s.db", name="w")
    study.optimize(open_study_files, n_trials=4, n_jobs=2)
    assert [t.value for t in study.trials] == [0, 0, 0, 0]
    assert len(load_study("w", tmp_path / "s.db").trials) == 4


_KILLED_KERNEL_SCRIPT = """
import os, sys, time
from hpt_magic import Float, Study
FOLDER = sys.argv[1]
def objective(trial):
    with open(os.path.join(FOLDER, f"worker.{trial.number}"), "w") as f:
        f.write(str(os.getpid()))
    time.sleep(60)
    return 1.0
if __name__ == "__main__":
    Study(space={"x": Float(0, 1)}).optimize(objective, n_trials=2, n_jobs=2)
"""


def _running(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")  # a dead process its new parent has not reaped yet


def test_workers_exit_when_their_kernel_is_killed(tmp_path):
    script = tmp_path / "kernel.py"
    script.write_text(_KILLED_KERNEL_SCRIPT)
    kernel = subprocess.Popen([sys.executable, str(script), str(tmp_path)])
    pids = []
    try:
        deadline = time.monotonic() + 60
        while len(pids) < 2:
            assert time.monotonic() < deadline and kernel.poll() is None
            time.sleep(0.05)
            pids = [int(p.read_text()) for p in tmp_path.glob("worker.*") if p.read_text()]
        kernel.kill()
        kernel.wait(timeout=10)
        deadline = time.monotonic() + 5
        while any(_running(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_running(pid) for pid in pids)
    finally:
        kernel.kill()
        for pid in pids:
            if _running(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_queued_value_outside_the_objectives_range_is_sampled_in_a_worker(executor):
    study = Study(seed=0)
    study.enqueue({"x": 5.0})
    with pytest.warns(UserWarning, match="Trial 0 did not use the queued value x = 5.0"):
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3, **executor)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 3
    assert 0 <= study.trials[0].params["x"] <= 1


def slow_but_first(trial):
    for step in tune.steps(1 if trial.number == 0 else 300):
        time.sleep(0.1)
        tune.report(1.0, step)
    return 1.0


def test_interrupt_keeps_finished_trials_and_cancels_running(executor):
    def interrupt(study, trial):
        raise KeyboardInterrupt

    study = Study(space={"x": Float(0, 1)})
    with pytest.raises(KeyboardInterrupt):
        study.optimize(slow_but_first, n_trials=4, callbacks=[interrupt], **executor)
    states = [t.state for t in study.trials]
    assert states[0] is TrialState.COMPLETE, [(t.state, t.error) for t in study.trials]
    assert states[1:] and all(s is TrialState.INTERRUPTED for s in states[1:])
    study.optimize(lambda t: 0.0, n_trials=2, **executor)  # the workers are free again
    assert study.counts()["complete"] == 3


_INTERRUPTED_SCRIPT = """
import sys, time
from hpt_magic import Float, Study
def objective(trial):
    time.sleep(0 if trial.number == 0 else 60)
    return 1.0
if __name__ == "__main__":
    study = Study(space={"x": Float(0, 1)})
    try:
        study.optimize(objective, n_trials=4, n_jobs=2,
                       callbacks=[lambda s, t: print("first", flush=True)])
    except KeyboardInterrupt:
        print("interrupted", [t.state.value for t in study.trials])
"""


def test_sigint_to_the_process_group_like_jupyter(tmp_path):
    # Jupyter's interrupt signals the kernel's whole process group, workers included.
    script = tmp_path / "interrupted.py"
    script.write_text(_INTERRUPTED_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    assert proc.stdout.readline() == "first\n"
    os.killpg(proc.pid, signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    word, states = out.split(" ", 1)
    assert word == "interrupted" and proc.returncode == 0
    # Trial 2 is asked right after "first" was printed, or not yet when the signal comes.
    assert ast.literal_eval(states) in (["complete", "interrupted"],
                                        ["complete", "interrupted", "interrupted"])


def test_catch_false_reraises_the_trial_error():
    def fails(trial):
        raise ArithmeticError("bad trial")

    study = Study(space={"x": Float(0, 1)})
    with pytest.raises(ArithmeticError, match="bad trial"):
        study.optimize(fails, n_trials=4, n_jobs=2, catch=False)
    assert study.trial(0).state is TrialState.FAILED or study.trial(1).state is TrialState.FAILED


def test_dask_local_cluster_is_started_and_closed():
    psutil = pytest.importorskip("psutil")
    pytest.importorskip("distributed")

    def workers():  # spawned processes, not multiprocessing's resource tracker
        return {p.pid for p in psutil.Process().children(recursive=True)
                if "spawn_main" in " ".join(p.cmdline())}

    before = workers()
    study = Study(space={"x": Float(0, 1)}, seed=0)
    study.optimize(lambda t: t.params["x"], n_trials=3, dask="local:1")
    assert study.counts()["complete"] == 3
    assert workers() <= before
    assert not [t for t in threading.enumerate() if t.name.startswith("hpt-dask")]


def test_bad_parallel_options():
    study = Study(space={"x": Float(0, 1)})
    with pytest.raises(TuneError, match="n_jobs"):
        study.optimize(lambda t: 0.0, n_trials=1, n_jobs=0)
    with pytest.raises(TuneError, match="local:N"):
        study.optimize(lambda t: 0.0, n_trials=1, dask="local:many")


def test_a_scheduler_address_is_checked_then_connected_to(client):
    from hpt_magic.executors._dask import check_dask

    address = client.scheduler.address  # as a user copies it from the scheduler's log
    assert address.startswith("tcp://")
    check_dask(address)

    def clients(dask_scheduler):
        return len(dask_scheduler.clients)

    study = Study(space={"x": Float(0, 1)}, seed=0)
    counts = []
    for _ in range(3):
        study.optimize(lambda t: t.params["x"], n_trials=2, dask=address)
        counts.append(client.run_on_scheduler(clients))
    assert study.counts()["complete"] == 6
    # The client a run makes from the address is closed with the run: one more per cell
    # otherwise, each reconnecting for ever once the scheduler goes. (The workers' own
    # clients, which the first run's tasks start, stay, as Dask keeps them.)
    wait = time.monotonic() + 10
    while client.run_on_scheduler(clients) != counts[0] and time.monotonic() < wait:
        time.sleep(0.1)
    assert client.run_on_scheduler(clients) == counts[0]


@pytest.mark.parametrize("address", ["tcp://127.0.0.1", "127.0.0.1", "tls://scheduler",
                                     "/tmp/scheduler.json"])
def test_a_scheduler_address_without_a_port_is_refused(address):
    # distributed.Client refuses it with a bare ValueError; here it is one paragraph, before
    # anything is stored.
    from hpt_magic.executors._dask import check_dask

    pytest.importorskip("distributed")
    with pytest.raises(TuneError, match="no scheduler address with a port: give the one"):
        check_dask(address)


def test_a_scheduler_still_starting_is_waited_for_and_a_silent_one_refused(monkeypatch):
    # A refused connection is tried again until the deadline, as the client does: a scheduler
    # started just before the cell may not listen yet.
    import asyncio
    import socket

    from hpt_magic.executors import _dask

    distributed = pytest.importorskip("distributed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started, checked = threading.Event(), threading.Event()

    async def scheduler():
        async with distributed.Scheduler(host="127.0.0.1", port=port, dashboard_address=":0"):
            started.set()
            while not checked.is_set():
                await asyncio.sleep(0.05)

    def listen_late():
        time.sleep(0.6)
        asyncio.run(scheduler())

    thread = threading.Thread(target=listen_late)
    thread.start()
    try:
        _dask.check_dask(f"tcp://127.0.0.1:{port}")
        assert started.is_set()
    finally:
        checked.set()
        thread.join()
    monkeypatch.setattr(_dask, "CONNECT_TIMEOUT", 0.5)
    with pytest.raises(TuneError, match="Could not connect to the Dask scheduler at .*refused"):
        _dask.check_dask(f"tcp://127.0.0.1:{port}")


@pytest.mark.parametrize("answer", [None, b"HTTP/1.1 400 Bad Request\r\n\r\n" * 4],
                         ids=["silent", "web-server"])
def test_an_address_where_no_scheduler_answers_is_refused(monkeypatch, answer):
    # The dashboard's port (8787) for the scheduler's (8786): distributed.Client waited for ever
    # on a server that says nothing, and raised a MemoryError on one that answers in its own
    # protocol, after the study had been opened.
    import socket

    from hpt_magic.executors import _dask

    pytest.importorskip("distributed")
    monkeypatch.setattr(_dask, "CONNECT_TIMEOUT", 1)
    monkeypatch.setattr(_dask, "_answer_seconds", lambda: 1.0)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()

        def serve():
            connections = []  # kept open until the test ends
            while True:
                try:
                    connections.append(server.accept()[0])
                except OSError:  # the test is over
                    return
                if answer:
                    connections[-1].sendall(answer)

        threading.Thread(target=serve, daemon=True).start()
        address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
        started = time.monotonic()
        with pytest.raises(TuneError, match="is (no|not answering as a) Dask scheduler: .*"
                                            "8787 is its dashboard"):
            _dask.check_dask(address)
        assert time.monotonic() - started < 5


def test_a_scheduler_is_asked_what_it_is_once_per_run(client, monkeypatch):
    # The magic checks the address before it opens the study; the run's connection right
    # after does not ask again (each asking costs a round trip, up to a connect timeout).
    from hpt_magic.executors import _dask

    asked = []
    real = _dask._identify
    monkeypatch.setattr(_dask, "_identify", lambda *a: asked.append(a) or real(*a))
    monkeypatch.setattr(_dask, "_IDENTIFIED", {})
    address = client.scheduler.address
    _dask.check_dask(address)
    _dask.check_dask(address)
    assert len(asked) == 1


def test_a_workers_address_is_refused_naming_it(client):
    from hpt_magic.executors._dask import check_dask

    worker = next(iter(client.scheduler_info()["workers"]))
    with pytest.raises(TuneError, match="is a Dask Worker, not the scheduler"):
        check_dask(worker)
