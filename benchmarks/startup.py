"""Start-up of the notebook front end in a real kernel: ``%load_ext hpt_magic`` and the first
``%%tune --trials 3`` cell of a warm kernel (issue 18: both within 0.5 s).

Each repeat starts a fresh kernel through ``jupyter_client``, warms it with one plain cell, then
times, inside the kernel:

- ``%load_ext hpt_magic``: wall time and the main thread's CPU time;
- the first ``%%tune --trials 3`` cell with a trivial objective, run ``--pause`` seconds after
  the ``%load_ext`` cell ended (0: at once; a few seconds: the time a user takes to type it),
  from the cell's start (IPython's ``pre_run_cell``) until its first trial starts and until the
  cell ends (``post_run_cell``), with the default live dashboard and with ``--plot none``.

All kernels share one configuration folder (matplotlib's font cache is built once, by an
unmeasured first kernel, as on a user's machine). Medians over ``--repeats`` kernels; the load
average of the shared machine is printed with them.

Run: ``.venv/bin/python benchmarks/startup.py [--repeats 5] [--pauses 0,3]``
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from jupyter_client import KernelManager

#: Cell-start and cell-end marks (wall, main-thread CPU), kept by IPython's events.
WARM_UP = """\
import time as _time
_marks, _first = [], []
def _mark(*_):
    _marks.append((_time.perf_counter(), _time.thread_time()))
get_ipython().events.register("pre_run_cell", _mark)
get_ipython().events.register("post_run_cell", _mark)
"""
OBJECTIVE = """\
x = tune.uniform(0.0, 1.0)
if not _first:
    _first.append((_time.perf_counter(), _time.thread_time()))
(x - 0.3) ** 2
"""
#: Run during the pause: when the ``%load_ext`` preload thread is done (-1: no such thread).
PRELOAD_DONE = """\
_preload = getattr(get_ipython().magics_manager.registry["TuneMagics"], "preload", None)
if _preload is not None:
    _preload.join()
print(_time.perf_counter() if _preload is not None else -1)
"""


class Kernel:
    """A fresh python3 kernel with its HOME in ``home`` and ``config`` shared between kernels."""

    def __init__(self, home: Path, config: Path) -> None:
        env = dict(os.environ, HOME=str(home), IPYTHONDIR=str(config / "ipython"),
                   JUPYTER_CONFIG_DIR=str(config / "jupyter"),
                   JUPYTER_DATA_DIR=str(config / "data"),
                   JUPYTER_RUNTIME_DIR=str(home / "runtime"),
                   MPLCONFIGDIR=str(config / "matplotlib"),
                   OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        env.pop("HPT_MAGIC_STORAGE", None)
        for name in ("ipython", "jupyter", "data", "matplotlib"):
            (config / name).mkdir(parents=True, exist_ok=True)
        self.km = KernelManager(kernel_name="python3")
        self.km.connection_file = str(home / f"kernel-{uuid.uuid4().hex[:8]}.json")
        self.km.start_kernel(env=env, cwd=str(home), stderr=subprocess.DEVNULL)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=120)

    def run(self, code: str) -> str:
        """Run ``code``, wait for it, return its stdout (raise on an error)."""
        reply = self.kc.execute_interactive(code, timeout=120, output_hook=self._hook)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"{code!r} failed: {reply['content'].get('evalue')}")
        out, self._out = getattr(self, "_out", ""), ""
        return out

    def _hook(self, msg: dict) -> None:
        if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
            self._out = getattr(self, "_out", "") + msg["content"]["text"]

    def value(self, expression: str):
        return json.loads(self.run(f"import json as _json; print(_json.dumps({expression}))"))

    def shutdown(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)
        self.km.cleanup_resources()


def one_kernel(root: Path, config: Path, plot: str, pause: float) -> dict[str, float]:
    """Times (ms) of ``%load_ext`` and of the first ``%%tune`` cell in a fresh kernel."""
    home = root / uuid.uuid4().hex[:8]
    home.mkdir()
    kernel = Kernel(home, config)
    try:
        kernel.run(WARM_UP)
        kernel.run("%load_ext hpt_magic")
        loaded = time.monotonic()
        # Waiting for the preload thread is part of the pause, when there is one.
        done = float(kernel.run(PRELOAD_DONE)) if pause else -1.0
        time.sleep(max(0.0, pause - (time.monotonic() - loaded)))
        kernel.run(f"%%tune --trials 3 --plot {plot} --storage memory\n{OBJECTIVE}")
        marks, first = kernel.value("_marks"), kernel.value("_first")[0]
    finally:
        kernel.shutdown()
    # marks: [warm-up end, load start, load end, ..., tune start, tune end, this read's start]
    # (the warm-up cell registered the events after its own start).
    (lw0, lc0), (lw1, lc1) = marks[1:3]
    (tw0, tc0), (tw1, tc1) = marks[-3:-1]
    return {"load_wall": lw1 - lw0, "load_cpu": lc1 - lc0,
            "preload_wall": done - lw1 if done > 0 else math.nan,
            "first_trial_wall": first[0] - tw0, "first_trial_cpu": first[1] - tc0,
            "cell_wall": tw1 - tw0, "cell_cpu": tc1 - tc0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pauses", default="0,3",
                        help="Seconds between %%load_ext and the first cell, comma-separated.")
    args = parser.parse_args()
    pauses = [float(p) for p in args.pauses.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        root, config = Path(tmp), Path(tmp) / "config"
        one_kernel(root, config, "live", 1.0)  # font cache, page cache: not measured
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        rows = {(pause, plot): [] for pause in pauses for plot in ("live", "none")}
        for _ in range(args.repeats):
            for key in rows:
                rows[key].append(one_kernel(root, config, key[1], key[0]))
        print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"\nmedians of {args.repeats} fresh kernels, ms (wall / main-thread CPU)")
    waits = [r["preload_wall"] for runs in rows.values() for r in runs
             if not math.isnan(r["preload_wall"])]
    if waits:
        print(f"the %load_ext preload thread ended {statistics.median(waits) * 1e3:.0f} ms "
              f"(median, max {max(waits) * 1e3:.0f}) after the %load_ext cell")
    print(f"{'pause':>5}  {'--plot':<6}  {'%load_ext':>11}  {'to 1st trial':>13}  "
          f"{'whole cell':>11}")
    for (pause, plot), runs in rows.items():
        def cell(name: str, runs=runs) -> str:
            wall = statistics.median(r[f"{name}_wall"] for r in runs) * 1e3
            cpu = statistics.median(r[f"{name}_cpu"] for r in runs) * 1e3
            return f"{wall:.0f} / {cpu:.0f}"
        print(f"{pause:>4g}s  {plot:<6}  {cell('load'):>11}  {cell('first_trial'):>13}  "
              f"{cell('cell'):>11}")


if __name__ == "__main__":
    main()
