import json
import multiprocessing as mp
import sqlite3
import time

import pytest

from hpt_magic import (
    Choice,
    Float,
    InMemoryStorage,
    Int,
    SpaceError,
    SQLiteStorage,
    StorageError,
    Study,
    TrialState,
    TuneError,
    load_study,
    tune,
)
from hpt_magic.executors._processes import main_module_spec
from hpt_magic.study._storage import StorageRegistry, make_storage


def objective(trial):
    x = tune.uniform(-2, 2, name="x")
    for step in tune.steps(3):
        tune.report(x * step)
    return x * x


def test_studies_persist_and_resume(tmp_path):
    path = tmp_path / "s.db"
    study = Study(name="a", storage=path, seed=0)
    study.optimize(objective, n_trials=5)
    again = Study(name="a", storage=SQLiteStorage(path), seed=0)
    assert again.resumed
    assert [t.params for t in again.trials] == [t.params for t in study.trials]
    assert again.trials[2].intermediate == study.trials[2].intermediate
    assert again.best_value == study.best_value
    again.optimize(objective, n_trials=3)
    assert [t.number for t in again.trials] == list(range(8))


def test_a_resumed_seeded_study_does_not_repeat_its_parameters(tmp_path):
    path = tmp_path / "s.db"
    Study(name="a", storage=path, seed=7).optimize(objective, n_trials=5)
    resumed = Study(name="a", storage=SQLiteStorage(path), seed=7)
    resumed.optimize(objective, n_trials=5)
    xs = [t.params["x"] for t in resumed.trials]
    assert len(set(xs)) == 10


def test_every_state_and_the_output_round_trip(tmp_path):
    path = tmp_path / "s.db"
    study = Study(space={"x": Float(0, 1)}, name="a", storage=path)

    def obj(trial):
        print("out", trial.number)
        if trial.number == 1:
            raise RuntimeError("bad")
        return 1.0

    study.optimize(obj, n_trials=2)
    t = study.ask()
    study.tell(t, state="pruned")
    loaded = Study(space={"x": Float(0, 1)}, name="a", storage=SQLiteStorage(path))
    assert [t.state for t in loaded.trials] == [TrialState.COMPLETE, TrialState.FAILED,
                                                TrialState.PRUNED]
    assert loaded.trials[1].error == "RuntimeError: bad"
    assert loaded.trials[1].output == "out 1\n"
    assert "RuntimeError" in loaded.trials[1].traceback


def test_a_running_trial_is_committed_before_it_finishes(tmp_path):
    path = tmp_path / "s.db"
    study = Study(space={"x": Float(0, 1)}, name="a", storage=path)
    trial = study.ask()
    trial.report(0.5, 0)
    other = Study(space={"x": Float(0, 1)}, name="a", storage=SQLiteStorage(path))
    assert other.trials[0].state is TrialState.RUNNING
    assert other.trials[0].intermediate == {0: 0.5}
    assert other.trials[0].params == trial.params


def test_new_renames_the_old_study_and_keeps_it(tmp_path):
    path = tmp_path / "s.db"
    Study(name="a", storage=path).optimize(objective, n_trials=2)
    fresh = Study(name="a", storage=path, new=True)
    assert fresh.trials == [] and fresh.previous_name.startswith("a~")
    names = {s["name"] for s in make_storage(path).list_studies()}
    assert names == {"a", fresh.previous_name}


def test_an_edited_space_continues_and_a_new_type_or_scale_is_refused(tmp_path):
    path = tmp_path / "s.db"
    Study(space={"x": Float(0, 1)}, name="a", storage=path).optimize(
        lambda t: t.params["x"], n_trials=2)
    for refused in (Int(0, 1), Float(0.1, 1, log=True)):
        with pytest.raises(SpaceError, match="type or a scale"):
            Study(space={"x": refused}, name="a", storage=path)
    assert len(load_study("a", path).trials) == 2  # refused before anything was stored
    wider = Study(space={"x": Float(0, 2)}, name="a", storage=path)
    assert wider.space_changes == ["x widened to [0, 2]",
                                   "2 earlier trials, 2 inside the new space"]
    wider.optimize(lambda t: t.params["x"], n_trials=1)
    assert wider.trials[-1].user_attrs["space_version"] == 1
    grown = Study(space={"x": Float(0, 2), "n": Int(1, 3)}, name="a", storage=path)
    assert grown.space_changes[0] == "new parameter n"
    grown.optimize(lambda t: t.params["x"], n_trials=1)
    assert set(grown.trials[-1].params) == {"x", "n"}
    assert grown.trials[-1].user_attrs["space_version"] == 2
    dropped = Study(space={"n": Int(1, 3)}, name="a", storage=path)
    assert dropped.space_changes[0] == "x removed (earlier trials keep it)"
    assert set(dropped.search_space()) == {"n"}


def test_direction_mismatch_is_refused(tmp_path):
    Study(name="a", storage=tmp_path / "s.db")
    with pytest.raises(TuneError, match="created to minimize"):
        Study(name="a", storage=tmp_path / "s.db", direction="maximize")


def test_a_file_that_is_not_a_database_is_refused_and_untouched(tmp_path):
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my precious notes, not a database" * 50)
    before = path.read_bytes()
    with pytest.raises(StorageError, match="not a study database"):
        SQLiteStorage(path)
    assert path.read_bytes() == before


def test_another_programs_sqlite_file_is_refused(tmp_path):
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE customers (id INTEGER)")
    con.commit()
    con.close()
    with pytest.raises(StorageError, match="another program"):
        SQLiteStorage(path)


def test_a_locked_file_waits_then_fails_clearly(tmp_path):
    path = tmp_path / "s.db"
    SQLiteStorage(path).close()
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StorageError, match="stayed locked"):
            Study(name="a", storage=SQLiteStorage(path, timeout=0.2))
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


def _writer(path, n):
    study = Study(name="shared", storage=SQLiteStorage(path, timeout=30), seed=n)
    study.optimize(lambda t: tune.uniform(0, 1, name="x"), n_trials=15)


def test_two_processes_write_the_same_study(tmp_path):
    path = str(tmp_path / "s.db")
    Study(name="shared", storage=SQLiteStorage(path))
    main_module_spec()  # IPython shells of earlier tests leave a __main__ without __spec__
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, n)) for n in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    study = Study(name="shared", storage=SQLiteStorage(path))
    assert sorted(t.number for t in study.trials) == list(range(30))
    assert all(t.state is TrialState.COMPLETE for t in study.trials)


def test_enqueued_points_are_stored_until_tried(tmp_path):
    path = tmp_path / "s.db"
    Study(space={"lr": Float(1e-4, 1e-1, log=True)}, name="q", storage=path).enqueue(
        {"lr": 0.01})
    later = Study(space={"lr": Float(1e-4, 1e-1, log=True)}, name="q",
                  storage=SQLiteStorage(path))
    assert later.ask().params == {"lr": 0.01}
    again = Study(space={"lr": Float(1e-4, 1e-1, log=True)}, name="q",
                  storage=SQLiteStorage(path))
    assert again.ask().params != {"lr": 0.01}


def _queued(path, name="q"):
    with sqlite3.connect(path) as conn:
        (attrs,) = conn.execute("SELECT attrs FROM studies WHERE name=?", (name,)).fetchone()
    return [point["x"] for point in json.loads(attrs)["queue"]]


def test_two_kernels_take_each_queued_point_once_and_keep_each_others(tmp_path):
    # Two Study objects with a connection each: two kernels on one file.
    path = tmp_path / "s.db"
    a = Study(space={"x": Float(0, 1)}, name="q", storage=SQLiteStorage(path), seed=0)
    a.enqueue({"x": 0.1})
    a.enqueue({"x": 0.2})
    b = Study(space={"x": Float(0, 1)}, name="q", storage=SQLiteStorage(path), seed=1)
    a.enqueue({"x": 0.3})  # queued after b loaded the study
    taken = [b.ask(), a.ask(), b.ask()]
    assert [t.params["x"] for t in taken] == [0.1, 0.2, 0.3]
    assert all(t.user_attrs["enqueued"] for t in taken)
    assert _queued(path) == []
    assert "enqueued" not in a.ask().user_attrs


def test_taking_a_queued_point_keeps_what_another_kernel_edited(tmp_path):
    path = tmp_path / "s.db"
    a = Study(space={"x": Float(0, 1)}, name="q", storage=SQLiteStorage(path), seed=0)
    a.optimize(lambda t: t.params["x"], n_trials=1)
    a.enqueue({"x": 0.5})
    b = Study(space={"x": Float(0, 1)}, name="q", storage=SQLiteStorage(path), seed=1)
    widened = Study(space={"x": Float(0, 2)}, name="q", storage=SQLiteStorage(path))
    assert widened.space_version == 1
    assert b.ask().params == {"x": 0.5}
    assert load_study("q", SQLiteStorage(path)).space_version == 1


def test_the_queue_of_a_study_in_memory_is_taken_in_order():
    storage = InMemoryStorage()
    a = Study(space={"x": Float(0, 1)}, name="q", storage=storage)
    a.enqueue({"x": 0.1})
    b = Study(space={"x": Float(0, 1)}, name="q", storage=storage)
    b.enqueue({"x": 0.2})
    assert [a.ask().params, b.ask().params] == [{"x": 0.1}, {"x": 0.2}]
    assert "enqueued" not in a.ask().user_attrs


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_asks_with_nothing_queued_leave_the_attributes_alone(tmp_path, kind):
    # Every ask looks for queued points: with none, it must not copy or write the attributes
    # (the cost of the lifecycle), yet a point another kernel queues is still taken next.
    storage = InMemoryStorage() if kind == "memory" else SQLiteStorage(tmp_path / "s.db")
    other = storage if kind == "memory" else SQLiteStorage(tmp_path / "s.db")
    a = Study(space={"x": Float(0, 1)}, name="q", storage=storage, seed=0)
    writes = []
    change_attrs = storage.change_attrs
    storage.change_attrs = lambda *args, **kw: writes.append(1) or change_attrs(*args, **kw)
    for _ in range(3):
        a.tell(a.ask(), 0.5)
    assert writes == []
    Study(space={"x": Float(0, 1)}, name="q", storage=other).enqueue({"x": 0.25})
    queued = len(writes)  # the enqueue's own write, when both share one storage object
    assert a.ask().params == {"x": 0.25} and len(writes) == queued + 1
    assert "enqueued" not in a.ask().user_attrs and len(writes) == queued + 1


def test_attributes_that_are_not_json_are_reported_at_the_next_ask(tmp_path):
    path = tmp_path / "s.db"
    study = Study(space={"x": Float(0, 1)}, name="q", storage=SQLiteStorage(path))
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE studies SET attrs='{not json'")
    with pytest.raises(StorageError, match="cannot be decoded"):
        study.ask()


def test_a_closed_storage_is_reopened_by_the_next_study(tmp_path):
    path = tmp_path / "s.db"
    study = Study(name="a", storage=path)
    study.optimize(objective, n_trials=2)
    study.storage.close()
    with pytest.raises(StorageError, match="was closed. Open the file again"):
        study.ask()
    again = Study(name="a", storage=path)
    assert again.storage is not study.storage and len(again.trials) == 2
    again.optimize(objective, n_trials=1)


def test_a_deleted_file_is_created_again_on_the_next_open(tmp_path):
    path = tmp_path / "s.db"
    Study(name="a", storage=path).optimize(objective, n_trials=2)
    for leftover in tmp_path.glob("s.db*"):
        leftover.unlink()
    fresh = Study(name="a", storage=path)
    assert path.exists() and fresh.trials == [] and not fresh.resumed
    fresh.optimize(objective, n_trials=1)
    assert len(Study(name="a", storage=SQLiteStorage(path)).trials) == 1


def test_each_registry_owns_its_storages(tmp_path):
    path = tmp_path / "s.db"
    mine, theirs = StorageRegistry(), StorageRegistry()
    assert mine.open(path) is mine.open(str(path))
    assert mine.open(path) is not theirs.open(path)
    mine.close_all()
    assert theirs.open(path).writable


def test_creating_a_study_is_get_or_create_and_says_which_call_created_it(tmp_path):
    # A second creation (another process that looked at the same instant) gets the stored
    # study, whose direction and space it does not change: the Study then continues it.
    for storage in (SQLiteStorage(tmp_path / "s.db"), InMemoryStorage()):
        sid, created = storage.create_study("a", "minimize", {"seed": 1}, {"x": [0, 1]})
        assert created and storage.create_study("a", "maximize", {}, {"y": [2]}) == (sid, False)
        rec = storage.get_study("a")
        assert (rec["direction"], rec["attrs"], rec["space"]) == (
            "minimize", {"seed": 1}, {"x": [0, 1]})
    with pytest.raises(TuneError, match="was created to minimize, not to maximize"):
        Study(name="a", storage=tmp_path / "s.db", direction="maximize")


# The tables of the previous version (schema "1", no owner or heartbeat columns).
_VERSION_1 = """
CREATE TABLE hpt_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE studies (
    id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, direction TEXT NOT NULL,
    space TEXT NOT NULL DEFAULT '{}', attrs TEXT NOT NULL DEFAULT '{}', created REAL NOT NULL);
CREATE TABLE trials (
    id INTEGER PRIMARY KEY, study_id INTEGER NOT NULL REFERENCES studies(id),
    number INTEGER NOT NULL,
    state TEXT NOT NULL, value REAL, params TEXT NOT NULL DEFAULT '{}', started REAL,
    finished REAL, error TEXT, traceback TEXT, output TEXT NOT NULL DEFAULT '',
    manual INTEGER NOT NULL DEFAULT 0, attrs TEXT NOT NULL DEFAULT '{}',
    UNIQUE (study_id, number));
CREATE TABLE reports (
    trial_id INTEGER NOT NULL REFERENCES trials(id), step INTEGER NOT NULL, value REAL,
    PRIMARY KEY (trial_id, step));
INSERT INTO hpt_meta VALUES ('schema', '1');
INSERT INTO studies VALUES (1, 'old', 'minimize',
    '{"x": {"type": "float", "low": 0.0, "high": 1.0, "log": false, "step": null}}', '{}',
    1700000000);
INSERT INTO trials (study_id, number, state, value, params, started, finished)
    VALUES (1, 0, 'complete', 0.5, '{"x": 0.5}', 1700000000, 1700000001),
           (1, 1, 'running', NULL, '{"x": 0.25}', 1700000002, NULL);
INSERT INTO reports VALUES (1, 0, 0.75);
"""


def test_a_file_of_the_previous_version_opens_and_is_upgraded_in_place(tmp_path):
    path = tmp_path / "v1.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(_VERSION_1)
    storage = SQLiteStorage(path)
    study = Study(name="old", storage=storage)
    assert [(t.number, t.state.value) for t in study.trials] == [(0, "complete"), (1, "running")]
    assert study.trials[0].intermediate == {0: 0.75}
    # Its running trial has no recorded owner: it may belong to a live kernel of that version.
    assert storage.recover_orphans(study._id, grace=0.0) == []
    study.tell(study.ask({"x": 0.1}), 0.1)
    with sqlite3.connect(path) as conn:
        meta = dict(conn.execute("SELECT key, value FROM hpt_meta"))
        columns = {row[1] for row in conn.execute("PRAGMA table_info(trials)")}
    assert meta == {"schema": "1", "revision": "3"}
    assert {"owner_host", "owner_pid", "owner_token", "heartbeat", "trial_values", "metrics",
            "feasible"} <= columns


def test_the_first_report_stores_the_parameters_with_it(tmp_path):
    # A kernel that dies after a trial's first report leaves its parameters in the file (the
    # next kernel re-runs the trial with them), written in the same transaction as the report.
    import sqlite3

    from hpt_magic import Float, Study

    db = tmp_path / "s.db"
    study = Study(name="s", storage=str(db), seed=0)
    trial = study.ask()
    trial.suggest("x", Float(0, 1))  # define-by-run: stored by nothing but the report
    study.storage.set_params = None  # the first report must not need a separate write
    trial.report(0.5, step=0)
    with sqlite3.connect(db) as conn:
        params, = conn.execute("SELECT params FROM trials WHERE id=?",
                               (trial.trial_id,)).fetchone()
        reports = conn.execute("SELECT step, value FROM reports").fetchall()
    assert '"x"' in params and reports == [(0, 0.5)]


# -- options that JSON cannot hold -------------------------------------------------------------
class Forest:
    """An option a notebook defines, as in ``tune.choice([RandomForestClassifier, SVC])``."""


class Boosting:
    pass


def _stored_params(path):
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT params FROM trials ORDER BY number")]


def test_classes_functions_and_sets_as_options_are_stored_by_their_labels(tmp_path):
    path = tmp_path / "s.db"
    space = {"est": Choice([Forest, Boosting, len, frozenset({2, 1})]), "x": Float(0, 1)}
    study = Study(space=space, name="a", storage=path, seed=0)
    study.optimize(lambda t: t.params["x"] + (t.params["est"] is Forest), n_trials=8)
    study.enqueue({"est": Boosting, "x": 0.5})
    assert study.counts()["complete"] == 8
    labels = {'{"hpt_option": "Forest"}', '{"hpt_option": "Boosting"}', '{"hpt_option": "len"}',
              '{"hpt_option": "frozenset({1, 2})"}'}
    assert all(any(label in params for label in labels) for params in _stored_params(path))

    # A kernel that defines the options gets its own objects back, and no edit.
    again = Study(space=space, name="a", storage=SQLiteStorage(path), seed=0)
    assert again.space_changes == []
    assert [t.params for t in again.trials] == [t.params for t in study.trials]
    assert again.best_params["est"] is study.best_params["est"]
    assert again.ask().params == {"est": Boosting, "x": 0.5}

    # A kernel that only reads the file sees the labels.
    reader = load_study("a", path)
    assert {repr(t.params["est"]) for t in reader.trials} <= {
        "Forest", "Boosting", "len", "frozenset({1, 2})"}
    assert repr(reader.search_space()["est"]) == \
        "Choice([Forest, Boosting, len, frozenset({1, 2})])"


def _forest_first(trial):
    return 1.0 if trial.suggest_choice("est", [Forest, Boosting, len]) is Forest else 2.0


def test_a_define_by_run_choice_of_classes_leaves_no_trial_running(tmp_path):
    path = tmp_path / "s.db"
    study = Study(name="a", storage=path, seed=0, sampler="grid")
    study.optimize(_forest_first, n_trials=2)
    assert study.counts() == {"waiting": 0, "running": 0, "complete": 2, "pruned": 0,
                              "failed": 0, "interrupted": 0}
    assert load_study("a", path).counts()["running"] == 0
    # A fixed space of classes is stored whole (it used to fail after storing the study).
    fixed = Study(space={"est": Choice([Forest, Boosting])}, name="fixed", storage=path)
    assert load_study("fixed", path).search_space() == fixed.search_space()

    reopened = Study(name="a", storage=SQLiteStorage(path), seed=0, sampler="grid")
    reopened.optimize(_forest_first, n_trials=5)
    assert reopened.counts()["complete"] == 3  # the last point of the space, then exhausted
    assert {t.params["est"] for t in reopened.trials} == {Forest, Boosting, len}


class _ShareGone(InMemoryStorage):
    """A storage of the user's that cannot write trial 0's result (not a StorageError)."""

    def finish_trial(self, trial):
        if trial.number == 0:
            raise OSError("the network share holding the study is gone")


def _first_ends_first(trial):
    time.sleep(0.05 if trial.number == 0 else 30)
    return trial.params["x"]


def test_a_write_that_fails_leaves_the_other_trials_of_the_run_finished():
    study = Study(space={"x": Float(0, 1)}, storage=_ShareGone())
    with pytest.raises(OSError, match="network share"):
        study.optimize(_first_ends_first, n_trials=2, n_jobs=2)
    # Trial 0 stays running, as its storage has it; trial 1 was still told.
    assert [t.state for t in study.trials] == [TrialState.RUNNING, TrialState.INTERRUPTED]
    time.sleep(1.0)  # a study takes in other writers' work at most once a second
    study.optimize(lambda t: t.params["x"], n_trials=1)  # trial 0 is tried again quietly
    assert study.trials[-1].state is TrialState.COMPLETE


def test_an_ask_sees_the_space_another_kernel_edited(tmp_path):
    path = tmp_path / "s.db"
    a = Study(name="s", storage=SQLiteStorage(path), seed=0)  # define-by-run, ask/tell

    def objective(trial):
        return tune.uniform(0, 1, name="x") + tune.uniform(0, 1, name="y")

    a.optimize(objective, n_trials=2)
    assert sorted(a.search_space()) == ["x", "y"]
    Study(space={"x": Float(0, 1)}, name="s", storage=SQLiteStorage(path))  # removes y
    a.tell(a.ask(), 0.5)
    assert sorted(a.search_space()) == ["x"] and a.space_version == 1
