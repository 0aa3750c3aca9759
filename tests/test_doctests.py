"""The examples in the docstrings run, as they read."""

import doctest
import importlib
import pkgutil

import pytest

import hpt_magic

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _with_examples():
    finder = doctest.DocTestFinder()
    for info in sorted(pkgutil.walk_packages(hpt_magic.__path__, "hpt_magic."),
                       key=lambda m: m.name):
        module = importlib.import_module(info.name)
        if any(t.examples for t in finder.find(module)):
            yield info.name


@pytest.mark.parametrize("name", list(_with_examples()))
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=FLAGS)
    assert result.failed == 0
