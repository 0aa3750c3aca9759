"""Start-up of the notebook front end: ``import hpt_magic`` stays light, ``%load_ext`` imports
what the first run needs in a background thread, and a run imports matplotlib only for its
first image (issue 18). Each test runs in a fresh interpreter: this one has loaded everything.

Timings are in ``benchmarks/startup.py``; these tests pin the mechanism.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

FRONT_END = ("IPython", "ipywidgets", "matplotlib", "scipy")

#: A fresh shell with the extension loaded, the preload thread found on the magics.
SHELL = """\
import sys, threading
from IPython.core.interactiveshell import InteractiveShell
from hpt_magic.notebook import _extension

shell = InteractiveShell.instance()
"""
LOAD = """\
shell.run_line_magic("load_ext", "hpt_magic")
thread = shell.magics_manager.registry["TuneMagics"].preload
"""
CELL = "x = tune.uniform(0, 1)\n(x - 0.3) ** 2\n"


def run(code: str, cwd=None) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (fail on a non-zero exit)."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=300, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return done


def python(code: str, cwd=None) -> str:
    """Run ``code`` in a fresh interpreter; its stdout."""
    return run(code, cwd).stdout


def loaded(names) -> str:
    return f"print(sorted(m for m in {tuple(names)!r} if m in sys.modules))"


def test_import_hpt_magic_loads_no_front_end_library_nor_scipy():
    assert python(f"import sys, hpt_magic\n{loaded(FRONT_END)}").strip() == "[]"


def test_load_ext_imports_what_the_first_run_needs_in_a_daemon_thread():
    out = python(SHELL + LOAD + f"""\
print(thread.name, thread.daemon)
thread.join(120)
print(thread.is_alive())
{loaded(_modules())}
""")
    name_daemon, alive, modules = out.splitlines()
    assert name_daemon == "hpt_magic-preload True"
    assert alive == "False"
    assert modules == str(sorted(_modules()))


def _modules() -> list[str]:
    from hpt_magic.notebook._extension import PRELOAD

    # What those modules stand for: the default sampler's scipy and the image's matplotlib.
    return [*PRELOAD, "scipy.stats", "scipy.optimize", "matplotlib.backends.backend_agg"]


def test_a_failing_background_import_shows_nothing_and_the_others_go_on():
    done = run(SHELL + """\
errors = []
threading.excepthook = errors.append
_extension.PRELOAD = ("hpt_magic_no_such_module", "hpt_magic.visualization._figures")
""" + LOAD + """\
thread.join(120)
print(errors, "matplotlib" in sys.modules)
""")
    assert (done.stdout.strip(), done.stderr) == ("[] True", "")


def test_a_cell_run_while_the_preload_is_busy_works(tmp_path):
    # The thread waits at a module of its own until the cell has run: the cell imports what
    # it needs itself, and the thread's later imports find them done.
    (tmp_path / "gate_module.py").write_text(
        "import builtins\nbuiltins.gate.wait(60)\n")
    out = python(SHELL + f"""\
import builtins
builtins.gate = threading.Event()
sys.path.insert(0, {str(tmp_path)!r})
_extension.PRELOAD = ("gate_module", *_extension.PRELOAD)
""" + LOAD + f"""\
result = shell.run_cell('''%%tune --trials 3 --storage memory --plot none\n{CELL}''')
print(thread.is_alive(), result.success, len(shell.user_ns["study"].trials))
builtins.gate.set()
thread.join(120)
print(thread.is_alive())
""", cwd=tmp_path)
    assert out.splitlines()[-2:] == ["True True 3", "False"]


def test_a_run_without_a_dashboard_does_not_import_matplotlib(tmp_path):
    out = python(SHELL + """\
_extension.PRELOAD = ()
""" + LOAD + f"""\
result = shell.run_cell('''%%tune --trials 3 --storage memory --plot none\n{CELL}''')
print(result.success, "matplotlib" in sys.modules)
""", cwd=tmp_path)
    assert out.splitlines()[-1] == "True False"


def test_the_default_samplers_design_trials_import_no_scipy(tmp_path):
    # The GP sampler's first trials are its Halton design: a cell run at once after
    # %load_ext starts its first trial without waiting for scipy (about a second).
    out = python(SHELL + """\
_extension.PRELOAD = ()
""" + LOAD + f"""\
result = shell.run_cell('''%%tune --trials 5 --storage memory --plot none\n{CELL}''')
study = shell.user_ns["study"]
print(result.success, type(study.sampler).__name__, len(study.trials), "scipy" in sys.modules)
""", cwd=tmp_path)
    assert out.splitlines()[-1] == "True GPSampler 5 False"


def test_the_live_dashboard_imports_matplotlib_for_its_first_image_not_before():
    out = python("""\
import sys
from hpt_magic import Float, Study
from hpt_magic.notebook._dashboard import Dashboard

study = Study({"x": Float(0, 1)}, seed=0)
bundles = []
dashboard = Dashboard(study, n_trials=2, output=bundles.append)
trial = study.ask()
before = "matplotlib" in sys.modules, [sorted(b) for b in bundles]
study.tell(trial, 0.5)
print(before)
print("matplotlib" in sys.modules, "image/png" in bundles[-1])
""")
    before, after = out.splitlines()
    assert before == "(False, [['application/vnd.hpt-magic.study+json', 'text/plain']])"
    assert after == "True True"


def test_in_a_kernel_a_first_cell_at_once_shows_its_dashboard_and_no_noise(tmp_path,
                                                                          monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    cells = ["%load_ext hpt_magic",
             f"%%tune --trials 3 --storage memory\n{CELL}",
             "preload = get_ipython().magics_manager.registry['TuneMagics'].preload\n"
             "preload.join(60)\nprint(preload.is_alive(), len(study.trials))"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, kernel_name="python3", timeout=120,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in nb.cells for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error" or o.get("name") == "stderr"]
    assert any("image/png" in o.get("data", {}) for o in nb.cells[1].outputs)
    assert nb.cells[2].outputs[0].text == "False 3\n"
