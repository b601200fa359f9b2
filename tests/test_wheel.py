"""The wheel holds every package, and installed from it (no `-e`) autonas fits, predicts and exports,
and its `autonas` command fits a folder of PNGs and predicts it.

An editable install reads the source tree, so it hides a package folder that the wheel leaves out
(a folder without `__init__.py` is skipped by `find_packages`). This test builds the wheel,
installs it into a fresh virtual environment, and runs a tiny search there from another directory.
The fresh environment borrows this one's installed dependencies through a `.pth` line rather than
downloading TensorFlow again; autonas itself comes only from the wheel (checked).
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import venv
import zipfile

import pytest

from autonas.testing.image_folders import write_digit_folders

ROOT = pathlib.Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent("""
    import json, os, sys
    import numpy as np
    import tensorflow as tf
    from sklearn.datasets import load_digits
    import autonas

    digits = load_digits()
    x, y = (digits.images[:200] * 16).astype(np.uint8), digits.target[:200]
    clf = autonas.ImageSearchClassifier(max_trials=1, epochs=1, final_epochs=1, num_blocks=1, search_filters=4,
                                        final_filters=4, operations=["conv_3x3", "identity"], batch_size=32,
                                        verbose=0, seed=0)
    predictions = clf.fit(x, y).predict(x[:8])
    clf.export(sys.argv[1])
    loaded = tf.saved_model.load(sys.argv[1])  # kept: its functions reference its variables
    served = loaded.serve(tf.constant(x[:8])).numpy()
    print(json.dumps({"autonas": autonas.__file__, "predictions": len(predictions),
                      "served_matches": bool(np.allclose(served, clf.predict_proba(x[:8]), atol=1e-5))}))
""")


def _run(command, **options):
    result = subprocess.run(command, capture_output=True, text=True, **options)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    # From a copy without build outputs: setuptools reuses a stale `build/` and would hide a
    # package folder the source no longer ships.
    source = tmp_path_factory.mktemp("source") / "autonas"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv*", "build", "dist", "*.egg-info",
                                                                "__pycache__", ".pytest_cache", "autonas_runs"))
    dist = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(dist)], cwd=source)
    (path,) = dist.glob("autonas-*.whl")
    return path


def test_the_wheel_holds_every_package_folder(wheel):
    in_source = {str(p.parent.relative_to(ROOT)) for p in (ROOT / "autonas").rglob("*.py")
                 if "__pycache__" not in p.parts}
    in_wheel = {os.path.dirname(name) for name in zipfile.ZipFile(wheel).namelist() if name.endswith(".py")}
    assert in_source - in_wheel == set()
    for folder in in_source:
        assert (ROOT / folder / "__init__.py").exists(), f"{folder} has no __init__.py"


@pytest.mark.endtoend
def test_installed_from_the_wheel_it_fits_predicts_and_exports(wheel, tmp_path, digits):
    environment = tmp_path / "fresh"
    venv.EnvBuilder(with_pip=True).create(environment)
    python = environment / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)])
    fresh_site = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip()
    # Dependencies from this environment, after the fresh one's own site-packages on sys.path.
    pathlib.Path(fresh_site, "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    (tmp_path / "fit_predict_export.py").write_text(SCRIPT)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("PYTHONPATH", None)
    output = _run([str(python), "fit_predict_export.py", str(tmp_path / "served")], cwd=tmp_path, env=env)
    result = json.loads(output.strip().splitlines()[-1])
    assert result["autonas"].startswith(fresh_site), result["autonas"]
    assert result["predictions"] == 8 and result["served_matches"]
    # The console script the wheel declares, run from the fresh environment: fit a folder, predict it.
    command = str(environment / "bin" / "autonas")
    assert _run([command, "--help"], cwd=tmp_path, env=env).startswith("usage: autonas")
    write_digit_folders(str(tmp_path / "digits"), digits, per_class=20)
    _run([command, "fit", "digits", "--time-limit", "2m", "--max-trials", "1", "--epochs", "1", "--final-epochs", "1",
          "--seed", "0", "--export", "out"], cwd=tmp_path, env=env)
    _run([command, "predict", "out", "digits", "--out", "predictions.csv"], cwd=tmp_path, env=env)
    rows = (tmp_path / "predictions.csv").read_text().splitlines()
    assert rows[0] == "input,label,probability" and len(rows) == 1 + 3 * 20
