"""Numbers and durations read the same in the summary, its table, the progress line and widgets."""

from __future__ import annotations

import math

import pytest

from hpt_magic import Choice, Float, Study
from hpt_magic import display as hd
from hpt_magic._format import (
    format_duration,
    format_number,
    format_params,
    format_value,
    text_width,
)
from hpt_magic.visualization._summary import summary_bundle


@pytest.mark.parametrize("seconds, text", [
    (0.0, "0 ms"), (0.4213, "421 ms"), (0.9996, "1.0 s"), (12.34, "12.3 s"),
    (59.94, "59.9 s"), (59.96, "1 min 00 s"), (119.4, "1 min 59 s"), (119.6, "2 min 00 s"),
    (245, "4 min 05 s"), (3599.4, "59 min 59 s"), (3599.6, "1 h 00 min"),
    (7380, "2 h 03 min"), (90000, "25 h 00 min"),
    (None, "?"), (math.inf, "?"), (math.nan, "?"),
])
def test_durations_round_to_the_unit_shown(seconds, text):
    assert format_duration(seconds) == text


def test_numbers_and_parameter_values():
    assert format_number(0.123456789) == "0.123457"
    assert format_number(0.123456789, 4) == "0.1235"
    assert format_number(None) == "n/a"
    # A negative zero (a negated loss of 0) reads 0; a tiny negative number keeps its sign.
    assert format_number(-0.0) == format_value(-0.0) == "0"
    assert format_number(-1e-20) == "-1e-20"
    assert format_value(1e-5 / 3) == "3.333e-06"
    assert format_value("relu") == "'relu'" and format_value("relu", quote=False) == "relu"
    assert format_value(3) == "3"
    assert format_params({"lr": 0.0123456, "act": "tanh"}) == "lr=0.01235, act='tanh'"


def test_summary_table_and_progress_line_agree_on_a_duration():
    study = Study(space={"act": Choice(["relu", "tanh"])}, seed=0, name="s")
    trial = study.ask()
    trial.started -= 119.6
    study.tell(trial, 0.25)
    trial.finished = trial.started + 119.6  # exact, whatever the clock did meanwhile
    assert study.summary(elapsed=119.6).startswith(
        "Study 's': 1 complete, 0 pruned, 0 failed in 2 min 00 s.\nBest min score 0.25 "
        "(trial 0): act=")
    table = hd.summary_text(study).split("Top 1 trial:\n")[1].splitlines()
    assert table[1].endswith("2 min 00 s")
    doc = hd.study_json(study, {"status": "running", "done": 1, "planned": 2,
                                "elapsed": 119.6, "eta": 59.96})
    assert hd.progress_line(doc).endswith("· 2 min 00 s, ETA 1 min 00 s")


def test_summary_parameters_use_the_shared_formats():
    study = Study(space={"lr": Float(0, 1)}, seed=0)
    study.tell(study.ask(params={"lr": 0.0123456}), 1 / 3)
    assert study.summary().splitlines()[1] == "Best min score 0.333333 (trial 0): lr=0.01235"
    row = hd.summary_text(study).splitlines()[-1].split()
    assert row[:3] == ["0", "0.3333", "0.01235"]


def test_a_name_or_value_that_could_reorder_the_line_is_isolated():
    # U+202E (right-to-left override) in a shared notebook's names would turn the rest of a
    # summary line around: such text is shut in U+2068 ... U+2069 without its own controls
    # (its own U+2069 would close the isolate early); plain names stay as they are.
    name = "lr\u2069\u202e"
    study = Study(space={name: Float(0, 1), "act": Choice(["relu", "שלום"])}, seed=0)
    study.tell(study.ask(params={name: 0.5, "act": "שלום"}), 1.0)
    best = study.summary().splitlines()[1]
    assert best.endswith("\u2068lr\u2069=0.5, act=\u2068'שלום'\u2069")
    header, row = hd.summary_text(study).splitlines()[-2:]
    assert header.split()[:4] == ["trial", "score", "\u2068lr\u2069", "act"]
    # The isolates take no room: the table's columns stay aligned.
    def column(line, text):
        return text_width(line[:line.index(text)])

    assert column(row, "\u2068שלום") == column(header, "act") and "0.5" in row
    html = summary_bundle(study, text=study.summary(), k=5)["text/html"]
    assert "<th>\u2068lr\u2069</th>" in html and "<td>\u2068שלום\u2069</td>" in html
