"""Read-only study files and folders open for analysis and refuse new trials in one paragraph.

Tests run as root, whom chmod does not stop: the helpers use a read-only tmpfs mount (folder)
and a read-only bind mount (file), so the system really refuses writes.
"""

from __future__ import annotations

import pytest
from storage_helpers import beside, copy_into, read_only_file, read_only_folder, study_file

import hpt_magic.keras_tuner as kt
from hpt_magic import StorageError, Study, load_study
from hpt_magic.study._export import list_studies
from hpt_magic.study._storage import STORAGES


@pytest.fixture
def source(tmp_path):
    return study_file(tmp_path / "s.db", 12)


@pytest.fixture(autouse=True)
def _close_storages():
    # The mounts are detached lazily at the end of each test: release their files too.
    yield
    STORAGES.close_all()


def assert_open_for_analysis_only(path) -> None:
    study = load_study("a", path)
    assert len(study.trials) == 12 and study.best_value is not None
    assert study.trials[3].intermediate.keys() == {0, 1}
    assert [(r["name"], r["n_trials"]) for r in list_studies(path)] == [("a", 12)]
    with pytest.raises(StorageError, match="new trials cannot be written there") as info:
        study.ask()
    assert str(path) in str(info.value) and "--storage" in str(info.value)
    with pytest.raises(StorageError, match="new trials cannot be written there"):
        Study(name="another", storage=path)
    assert beside(path) == []


def test_a_study_in_a_read_only_folder_opens_for_analysis(source, tmp_path):
    with read_only_folder(tmp_path / "ro", copy_into(source)) as folder:
        assert_open_for_analysis_only(folder / "s.db")
        with pytest.raises(StorageError, match="cannot be created there .*read-only"):
            Study(name="a", storage=folder / "new.db")
        assert sorted(p.name for p in folder.iterdir()) == ["s.db"]


def test_a_read_only_file_in_a_writable_folder_opens_for_analysis(source):
    with read_only_file(source) as path:
        assert_open_for_analysis_only(path)


def test_the_file_becomes_writable_again_once_it_is_copied(source, tmp_path):
    with read_only_file(source) as path:
        with pytest.raises(StorageError, match="copy the file somewhere you can write"):
            load_study("a", path).ask()
        copy = tmp_path / "copy.db"
        copy.write_bytes(path.read_bytes())
    study = load_study("a", copy)
    study.tell(study.ask(), 1.0)
    assert len(load_study("a", copy).trials) == 13


def test_a_keras_tuner_project_in_a_read_only_file_opens_for_analysis(tmp_path):
    # A project stored before the tuners kept its hyperparameters= has none to compare: it
    # opens as it did.
    class Model(kt.HyperModel):
        def build(self, hp):
            return {"x": hp.Float("x", 0, 1), "y": hp.Float("y", 0, 1)}

    with read_only_file(study_file(tmp_path / "project.db", 3, name="project")) as path:
        tuner = kt.RandomSearch(Model(), objective=kt.Objective("score", "min"),
                                directory=path.parent, project_name="project")
        assert tuner.study.resumed and len(tuner.study.trials) == 3
        assert tuner.get_best_hyperparameters()[0].values == tuner.study.best_params
