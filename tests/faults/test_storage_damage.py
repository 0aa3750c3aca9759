"""Damaged study files: a zeroed page, flipped bytes, a truncated file, and salvage."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import traceback
import warnings

import pytest
from storage_helpers import beside, flip, pages_of, study_file, zero_page

import hpt_magic
from hpt_magic import SQLiteStorage, StorageError, Study, load_study
from hpt_magic.study._export import list_studies

N_TRIALS = 300


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return study_file(tmp_path_factory.mktemp("clean") / "s.db", N_TRIALS)


@pytest.fixture
def copy(clean, tmp_path):
    path = tmp_path / "s.db"
    shutil.copy(clean, path)
    return path


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def damaged_paragraph(path, text: str) -> None:
    assert re.search(r"is damaged .*hpt_magic\.salvage\(", text), text
    assert str(path) in text and "\n" not in text


def assert_refused_without_writing(path) -> list:
    """Reading gives what is still readable, with the damaged paragraph as a warning (as the
    error when nothing can be read); writing is refused with it; the file is not written to.
    Returns the trials read."""
    before = digest(path)
    trials = []
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            trials = load_study("a", path).trials
            list_studies(path)
        except StorageError as exc:
            damaged_paragraph(path, str(exc))
            assert "DatabaseError" not in "".join(traceback.format_exception(exc))
        else:
            assert len(seen) == 1, [str(w.message) for w in seen]  # once per file opened
            damaged_paragraph(path, str(seen[0].message))
    for attempt in (lambda: Study(name="a", storage=path).ask(),
                    lambda: Study(name="b", storage=path)):
        with pytest.raises(StorageError) as info:
            attempt()
        damaged_paragraph(path, str(info.value))
        assert "DatabaseError" not in "".join(traceback.format_exception(info.value))
    assert digest(path) == before
    assert beside(path) == []
    return trials


def test_a_zeroed_page_in_the_middle_is_refused_with_the_way_out(copy):
    leaves = pages_of(copy, "trials")
    zero_page(copy, leaves[len(leaves) // 2])
    trials = assert_refused_without_writing(copy)
    assert 0 < len(trials) < N_TRIALS  # the rows on the other pages are read


def test_a_damaged_index_hides_no_trial(copy):
    # SQLite would answer through the damaged index and find no row of the study.
    zero_page(copy, pages_of(copy, "sqlite_autoindex_trials_1")[0])
    trials = assert_refused_without_writing(copy)
    assert [t.number for t in trials] == list(range(N_TRIALS))
    # The readable copy lives outside the file's folder and goes with the storage.
    storage = SQLiteStorage(copy)
    assert os.path.isdir(storage._copy_dir)
    storage.close()
    assert not os.path.exists(storage._copy_dir)


def test_flipped_bytes_in_a_page_header_are_found_when_the_file_is_opened(copy):
    leaf = pages_of(copy, "trials")[3]
    flip(copy, (leaf - 1) * 4096 + 3, n=2)  # the page's count of cells
    with pytest.raises(StorageError, match="is damaged"):
        SQLiteStorage(copy).new_trial(1, hpt_magic.Trial(-1))
    assert_refused_without_writing(copy)


def test_flipped_bytes_in_stored_text_are_reported_and_nothing_is_written(copy):
    # quick_check does not read the text inside rows: reading the trial finds it.
    data = copy.read_bytes()
    offset = data.index(b'{"x": ', len(data) // 2)
    flip(copy, offset + 7, n=4)
    before = digest(copy)
    with pytest.raises(StorageError, match=r"is damaged .*salvage"):
        Study(name="a", storage=copy)
    with pytest.raises(StorageError, match="is damaged"):
        list(load_study("a", copy).trials)
    assert digest(copy) == before


def test_a_truncated_file_is_refused_and_nothing_appears_beside_it(copy):
    with open(copy, "r+b") as f:
        f.truncate(os.path.getsize(copy) // 2)
    assert_refused_without_writing(copy)


def test_salvage_copies_what_is_readable_into_a_new_file_that_works(copy, tmp_path):
    leaves = pages_of(copy, "trials")
    zero_page(copy, leaves[len(leaves) // 2])
    report = hpt_magic.salvage(copy, tmp_path / "saved.db")
    assert report["studies"] == 1 and report["studies_lost"] == 0
    assert 0 < report["trials_lost"] < N_TRIALS // 4
    assert report["trials"] + report["trials_lost"] == N_TRIALS
    assert report["reports"] == 2 * report["trials"]
    saved = Study(name="a", storage=tmp_path / "saved.db")
    assert len(saved.trials) == report["trials"]
    assert all(len(t.intermediate) == 2 for t in saved.trials)
    trial = saved.ask()
    assert trial.number == N_TRIALS  # numbers go on after the highest saved one
    saved.tell(trial, 1.0)


def test_salvage_skips_a_row_whose_text_no_longer_decodes(copy, tmp_path):
    data = copy.read_bytes()
    offset = data.index(b'{"x": ', len(data) // 2)
    flip(copy, offset + 7, n=4)
    report = hpt_magic.salvage(copy, tmp_path / "saved.db")
    assert (report["trials"], report["trials_lost"]) == (N_TRIALS - 1, 1)


def test_salvage_never_overwrites(copy, tmp_path):
    taken = tmp_path / "taken.db"
    taken.write_bytes(b"precious")
    with pytest.raises(StorageError, match="never overwrites"):
        hpt_magic.salvage(copy, taken)
    assert taken.read_bytes() == b"precious"
