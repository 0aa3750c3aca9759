"""What all framework callbacks share: lazy imports, and a clear error without the framework."""

import subprocess
import sys

import pytest

from hpt_magic import TuneError, tune

FRAMEWORKS = ["keras", "xgboost", "lightgbm", "lightning"]


def test_import_hpt_magic_imports_no_framework():
    code = ("import sys, hpt_magic; hpt_magic.tune.xgboost_callback; "
            f"print(sorted(m for m in {FRAMEWORKS + ['torch']!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_without_the_framework_the_error_names_the_extra(framework, monkeypatch):
    monkeypatch.setitem(sys.modules, framework, None)  # makes `import framework` fail
    with pytest.raises(TuneError) as info:
        getattr(tune, f"{framework}_callback")()
    message = str(info.value)
    assert f"pip install hpt_magic[{framework}]" in message
    assert f"tune.{framework}_callback needs the {framework!r} package" in message
    assert "\n" not in message
