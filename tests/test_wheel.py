"""The release wheel (``make dist``): a production bundle of the JupyterLab extension, and in a
fresh virtual environment with no Node on PATH, JupyterLab finds the extension enabled.

Slow when the wheel must be built (``make dist``: about 1.5-2 minutes, most of it installing the
isolated build environment); it reuses ``build/dist`` when that wheel is newer than the
extension's sources. Set ``HPT_MAGIC_SKIP_WHEEL=1`` to leave it out of a quick run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DIST = REPO / "build" / "dist"
SOURCES = [*REPO.glob("labextension/src/*.ts"), *REPO.glob("labextension/style/*"),
           REPO / "labextension" / "package.json", REPO / "pyproject.toml"]

pytestmark = [
    pytest.mark.timeout(900),
    pytest.mark.skipif(os.environ.get("HPT_MAGIC_SKIP_WHEEL") == "1",
                       reason="HPT_MAGIC_SKIP_WHEEL=1"),
]


@pytest.fixture(scope="module")
def wheel() -> Path:
    """The wheel of ``make dist``, built unless a current one is there."""
    built = sorted(DIST.glob("hpt_magic-*.whl"))
    newest_source = max(p.stat().st_mtime for p in SOURCES if p.exists())
    if not built or built[-1].stat().st_mtime < newest_source:
        if shutil.which("make") is None or shutil.which("npm") is None:
            pytest.skip("building the wheel needs make and npm")
        done = subprocess.run(["make", "dist"], cwd=REPO, capture_output=True, text=True,
                              timeout=840)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        built = sorted(DIST.glob("hpt_magic-*.whl"))
    return built[-1]


def test_wheel_ships_a_production_bundle(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        names = [i.filename for i in z.infolist()]
        ext = [n for n in names if "/share/jupyter/labextensions/hpt-magic/" in n]
        scripts = {n: z.read(n).decode("utf-8") for n in ext if n.endswith(".js")}
    assert any(n.endswith("/install.json") for n in ext)
    assert any("/static/remoteEntry." in n for n in ext)
    assert not [n for n in ext if n.endswith(".map") or n.endswith("build_log.json")]
    # Minified: the view's code is one long line (a development build of it has thousands),
    # and the whole bundle is well under the development build's size (about 230 kB).
    largest = max(scripts.values(), key=len)
    assert largest.count("\n") < len(largest) / 1000, "the largest script is not minified"
    total = sum(len(text) for text in scripts.values())
    assert total < 150_000, f"the bundle is {total} bytes: a development build?"


def test_fresh_venv_without_node_finds_the_extension_enabled(wheel: Path,
                                                             tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel],
                   check=True, timeout=300)
    # JupyterLab itself comes from this test's environment (appended after the fresh
    # site-packages, without its .pth files: our editable install stays out of sight).
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, check=True).stdout.strip()
    ours = subprocess.run([sys.executable, "-c",
                           "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "zz_test_jupyterlab.pth").write_text(ours + "\n")
    path = str(env_dir / "bin")
    assert shutil.which("node", path=path) is None
    home = tmp_path / "home"
    env = {"PATH": path, "HOME": str(home), "JUPYTER_CONFIG_DIR": str(home / "config"),
           "JUPYTER_DATA_DIR": str(home / "data"), "JUPYTER_RUNTIME_DIR": str(home / "run"),
           "JUPYTER_PATH": "", "JUPYTER_PREFER_ENV_PATH": "1"}
    # Run away from the repository, whose hpt_magic/ would be imported first.
    where = subprocess.run([python, "-c", "import hpt_magic; print(hpt_magic.__file__)"],
                           capture_output=True, text=True, env=env, check=True,
                           cwd=tmp_path).stdout
    assert where.startswith(site)
    listed = subprocess.run([python, "-m", "jupyterlab.labextensions", "list"],
                            capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    out = listed.stdout + listed.stderr
    section = out.split(str(env_dir / "share" / "jupyter" / "labextensions"), 1)
    assert len(section) == 2, out
    line = next(x for x in section[1].splitlines() if "hpt-magic" in x)
    assert "enabled" in line and "OK" in line and "(python, hpt-magic)" in line, out
