"""Faults on disk: each gives a clear error before any training, or a documented recovery.

- a truncated or corrupted record, tuner, oracle or trial file, or a started trial's missing
  file: refused, naming the file, the problem and the fix;
- a directory written by an autonas of another record format: refused, naming both versions;
- a completed trial's missing weights file: a warning naming it, and the search goes on (the
  winner's architecture is trained again when its model is kept);
- a read-only directory: refused before anything is written;
- two `fit`s on one directory at once: the second is refused, naming the first's process; a lock
  file left by a dead process does not stop the next `fit`;
- an export interrupted at any step (an exception, a full disk, SIGKILL) leaves the old model or
  the new one at its path, never a half-written directory, and the next export cleans up;
- Ctrl-C (SIGINT) during a search leaves it resumable: run again, it ends as an uninterrupted one.

Subprocess runs (SIGKILL, SIGINT, a second process holding the lock) are `scaleout`; see
`disk_fault_runs.py`.
"""
import contextlib
import errno
import json
import os
import shutil
import signal
import subprocess
import sys

import keras
import numpy as np
import pytest

from autonas import ImageSearchClassifier
from autonas import export as export_module
from autonas.engine import project_files
from autonas.engine.project_files import DamagedSearchFile, SearchDirectoryNotWritable
from autonas.engine.resume import FORMAT, record_path
from autonas.engine.search_lock import SearchDirectoryBusy, lock_path, search_lock
from autonas.export import export_saved_model, install_directory, recover_interrupted_export
from autonas.oracles.recovery import write_json_atomically
from test_resume import _contents, _copy  # noqa: I100  (tests/ is on the path, as pytest runs them)

RUNS = os.path.join(os.path.dirname(__file__), "disk_fault_runs.py")
TINY = dict(max_trials=1, epochs=1, final_epochs=1, num_blocks=1, search_filters=4, final_filters=4,
            operations=["conv_3x3", "max_pool_3x3", "identity"], batch_size=32, verbose=0, seed=0,
            retrain=False, oracle="evolution")
PROJECT = ImageSearchClassifier.project_name


# -- helpers ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def searched(tmp_path_factory, digits):
    """A finished one-trial search and its data: copy the directory before touching it."""
    images, labels = digits[0][:300], digits[1][:300]
    directory = tmp_path_factory.mktemp("searched")
    ImageSearchClassifier(**TINY, directory=str(directory)).fit(images, labels)
    return directory, images, labels


@pytest.fixture
def no_training(monkeypatch):
    """Make any training fail the test: the faults must be found before it."""
    def fit(*args, **kwargs):
        raise AssertionError("a model was trained before the fault was reported")

    monkeypatch.setattr(keras.Model, "fit", fit)


def _mount_tmpfs(path, size):
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    return mounted.returncode == 0


@contextlib.contextmanager
def _read_only(path, fill=None):
    """`path` made read-only for real, with `fill(path)` run first: by its mode for a user, on a
    read-only tmpfs for root (whom modes do not stop); skipped where neither can be had."""
    if os.geteuid() != 0:
        path.mkdir(parents=True, exist_ok=True)
        if fill:
            fill(path)
        folders = [path] + [p for p in path.rglob("*") if p.is_dir()]
        for folder in folders:
            folder.chmod(0o555)
        try:
            yield path
        finally:
            for folder in folders:
                folder.chmod(0o755)
        return
    if not _mount_tmpfs(path, "16m"):
        pytest.skip("root, and no tmpfs can be mounted: no way to make a read-only directory here")
    try:
        if fill:
            fill(path)
        subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


def _tiny_model():
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])


PROBE = np.ones((2, 3), np.float32)


def _export(model, path, version, **kwargs):
    return export_saved_model(model, path, metadata={"version": version}, probe_inputs=PROBE, overwrite=True,
                              **kwargs)


def _exported_version(path):
    """The metadata version of the complete export at `path` (its SavedModel must be whole)."""
    assert (path / "saved_model.pb").is_file() and (path / "variables").is_dir(), sorted(os.listdir(path))
    return json.loads((path / "autonas.json").read_text())["version"]


# -- damaged files ------------------------------------------------------------------------------------

DAMAGES = {
    "truncated": lambda text: text[:len(text) // 2],
    "empty": lambda text: "",
    "garbage": lambda text: "\x00\x00 not json",
    "not an object": lambda text: "[1, 2]",
}
FILES = {"record": f"{PROJECT}.autonas.json", "tuner": f"{PROJECT}/tuner0.json", "oracle": f"{PROJECT}/oracle.json",
         "trial": f"{PROJECT}/trial_0/trial.json"}


@pytest.mark.parametrize("damage", DAMAGES)
@pytest.mark.parametrize("which", FILES)
def test_a_damaged_file_is_refused_naming_it_before_anything_is_written(searched, tmp_path, no_training, which,
                                                                         damage):
    directory = _copy(searched, tmp_path)
    path = directory / FILES[which]
    path.write_text(DAMAGES[damage](path.read_text()))
    before = _contents(directory)
    with pytest.raises(DamagedSearchFile) as raised:
        ImageSearchClassifier(**TINY, directory=str(directory)).fit(*searched[1:])
    message = str(raised.value)
    assert str(path) in message and "overwrite=True" in message
    expected = {"truncated": "truncated or corrupted", "empty": "is empty", "garbage": "truncated or corrupted",
                "not an object": "JSON list, not an object"}[damage]
    assert expected in message
    assert _contents(directory) == before


def test_a_started_trial_without_its_file_is_refused(searched, tmp_path, no_training):
    directory = _copy(searched, tmp_path)
    shutil.rmtree(directory / PROJECT / "trial_0")
    with pytest.raises(DamagedSearchFile, match=r"trial_0/trial.json \(the record of trial 0, which .*oracle.json "
                                                r"lists as started\) is missing"):
        ImageSearchClassifier(**TINY, directory=str(directory)).fit(*searched[1:])


def test_a_damaged_file_can_be_started_over_with_overwrite(searched, tmp_path):
    directory = _copy(searched, tmp_path)
    (directory / FILES["oracle"]).write_text("{")
    clf = ImageSearchClassifier(**TINY, directory=str(directory), overwrite=True).fit(*searched[1:])
    assert list(clf.leaderboard_["status"]) == ["COMPLETED"]


# -- another autonas version ------------------------------------------------------------------------


def test_the_record_names_the_autonas_that_wrote_it(searched):
    import autonas
    import keras_tuner

    with open(record_path(searched[0], PROJECT), encoding="utf-8") as handle:
        record = json.load(handle)
    assert record["format"] == FORMAT
    assert record["autonas_version"] == autonas.__version__
    assert record["keras_tuner_version"] == keras_tuner.__version__


@pytest.mark.parametrize("written_by", [(1, None), (FORMAT + 1, "9.0.0")])
def test_a_search_written_by_an_incompatible_autonas_is_refused(searched, tmp_path, no_training, written_by):
    import autonas

    directory = _copy(searched, tmp_path)
    path = record_path(directory, PROJECT)
    with open(path, encoding="utf-8") as handle:
        record = json.load(handle)
    record["format"], version = written_by
    if version is None:
        del record["autonas_version"]  # as the records of format 1 were written
    else:
        record["autonas_version"] = version
    write_json_atomically(path, record)
    with pytest.raises(ValueError) as raised:
        ImageSearchClassifier(**TINY, directory=str(directory)).fit(*searched[1:])
    message = str(raised.value)
    assert f"written by autonas {version or 'an earlier version of autonas'} (record format {written_by[0]}" in message
    assert f"autonas {autonas.__version__} resumes only searches of record format {FORMAT}" in message
    assert "overwrite=True" in message


# -- a missing weights file ---------------------------------------------------------------------------


def test_a_missing_weights_file_is_named_and_the_winner_trained_again(searched, tmp_path):
    directory = _copy(searched, tmp_path)
    weights = directory / PROJECT / "trial_0" / project_files.WEIGHTS_FILE
    weights.unlink()
    trained = []
    original_fit = keras.Model.fit

    def fit(model, *args, **kwargs):
        trained.append(kwargs.get("epochs"))
        return original_fit(model, *args, **kwargs)

    clf = ImageSearchClassifier(**TINY, directory=str(directory))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(keras.Model, "fit", fit)
        with pytest.warns(UserWarning, match=rf"have no weights file \({weights}\): the search resumes"):
            clf.fit(*searched[1:])
    # The trial was not run again (the search had ended); its architecture was trained once, for
    # the epochs the trial had, and the kept model predicts.
    assert list(clf.leaderboard_["trial"]) == ["0"] and len(trained) == 1
    assert clf.predict_proba(searched[1][:5]).shape == (5, 10)


# -- a read-only directory ------------------------------------------------------------------------------


def test_a_new_search_in_a_read_only_directory_is_refused(tmp_path, digits, no_training):
    with _read_only(tmp_path / "readonly") as directory:
        with pytest.raises(SearchDirectoryNotWritable, match=rf"Cannot write to the search directory {directory} "
                                                             r"\(.+\).*pass another directory="):
            ImageSearchClassifier(**TINY, directory=str(directory)).fit(digits[0][:300], digits[1][:300])
        assert os.listdir(directory) == []


def test_a_search_in_a_read_only_directory_is_not_resumed(searched, tmp_path, no_training):
    def fill(path):
        shutil.copytree(searched[0], path, dirs_exist_ok=True)

    with _read_only(tmp_path / "readonly", fill) as directory:
        before = _contents(directory)
        with pytest.raises(SearchDirectoryNotWritable, match="Cannot write to the search directory"):
            ImageSearchClassifier(**{**TINY, "max_trials": 2}, directory=str(directory)).fit(*searched[1:])
        assert _contents(directory) == before


# -- two fits on one directory ----------------------------------------------------------------------------


def test_a_second_fit_on_a_directory_in_use_is_refused(searched, tmp_path, no_training):
    directory = _copy(searched, tmp_path)
    with search_lock(directory):  # another open file: flock refuses it as it would another process
        before = _contents(directory)
        for overwrite in (False, True):
            with pytest.raises(SearchDirectoryBusy, match=rf"Another search is running in {directory} \(process pid "
                                                          rf"{os.getpid()} on .*\)\. Wait for it to end, or give"):
                ImageSearchClassifier(**TINY, directory=str(directory), overwrite=overwrite).fit(*searched[1:])
        assert _contents(directory) == before


def test_a_lock_file_left_by_a_dead_process_does_not_stop_a_fit(searched, tmp_path):
    directory = _copy(searched, tmp_path)
    with open(lock_path(directory), "w", encoding="utf-8") as handle:
        handle.write("pid 999999999 on elsewhere\n")  # as a killed holder leaves it
    clf = ImageSearchClassifier(**{**TINY, "max_trials": 2}, directory=str(directory)).fit(*searched[1:])
    assert list(clf.leaderboard_.sort_values("trial")["trial"]) == ["0", "1"]
    assert (directory / ".autonas.lock").read_text() == ""  # released


# -- exports interrupted ---------------------------------------------------------------------------------


def _folder(path, version):
    path.mkdir()
    (path / "autonas.json").write_text(json.dumps({"version": version}))
    (path / "saved_model.pb").write_text("x" * 1000)
    return path


def _version(path):
    return json.loads((path / "autonas.json").read_text())["version"]


STEPS = {  # a step of `install_directory` and the call that makes it
    "exchange": ("_exchange", 0), "aside": ("replace", 0), "swap": ("replace", 1), "delete old": ("rmtree", 0)}


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "rename-aside"])
@pytest.mark.parametrize("step", STEPS)
def test_install_interrupted_at_any_step_leaves_the_old_or_the_new_directory(tmp_path, monkeypatch, exchange, step):
    if step == "exchange" and not exchange or step in ("aside", "swap") and exchange:
        pytest.skip("not a step of this way of swapping")
    target, staging = _folder(tmp_path / "model", 1), _folder(tmp_path / ".model.partial-1-x", 2)
    name, index = STEPS[step]
    owner = {"_exchange": export_module, "replace": os, "rmtree": shutil}[name]
    original = getattr(owner, name) if exchange or name != "_exchange" else (lambda *args: False)
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(args)
        if len(calls) - 1 == index:
            raise KeyboardInterrupt  # stands for any interruption at this step
        return original(*args, **kwargs)

    if not exchange:
        monkeypatch.setattr(export_module, "_exchange", lambda *args: False)
    monkeypatch.setattr(owner, name, interrupted)
    with pytest.raises(KeyboardInterrupt):
        install_directory(str(staging), str(target))
    monkeypatch.undo()
    # Where the process would have died: a whole directory is at the path, old or new, except
    # in the one window of the rename-aside swap that the next export repairs.
    if target.exists():
        assert _version(target) in (1, 2)
    else:
        assert not exchange and step == "swap"
    # The next export, or this one's clean-up after an exception, puts things right.
    recover_interrupted_export(str(target))
    assert _version(target) == (2 if step == "delete old" else 1)
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name not in ("model", staging.name))
    assert leftovers == []


def test_recovery_after_a_kill_puts_the_old_model_back_and_removes_dead_staging(tmp_path):
    # As a SIGKILL leaves them: the old model aside, and a staging directory of a dead process.
    _folder(tmp_path / ".model.previous", 1)
    _folder(tmp_path / ".model.partial-999999999-abc", 2)
    running = _folder(tmp_path / f".model.partial-{os.getpid()}-def", 3)  # an export still running: kept
    assert recover_interrupted_export(str(tmp_path / "model")) is True
    assert _version(tmp_path / "model") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["model", running.name])


def test_a_failed_export_leaves_the_old_model_and_no_staging(tmp_path):
    model, target = _tiny_model(), tmp_path / "model"
    _export(model, target, 1)
    original = model.export

    def full_disk(path, **kwargs):
        original(path, **kwargs)
        raise OSError(errno.ENOSPC, "No space left on device")

    model.export = full_disk
    with pytest.raises(OSError, match=rf"Could not write the export to {target} \(No space left on device\); the "
                                      rf"model already at {target} is unchanged") as raised:
        _export(model, target, 2)
    assert raised.value.errno == errno.ENOSPC
    assert _exported_version(target) == 1 and os.listdir(tmp_path) == ["model"]


def test_an_export_and_a_state_write_on_a_full_disk_leave_the_old_files(tmp_path):
    disk = tmp_path / "small"
    if not _mount_tmpfs(disk, "64k"):
        pytest.skip("no tmpfs can be mounted here (the patched full disk above stands in)")
    try:
        target = _folder(disk / "model", 1)
        state = disk / "oracle.json"
        write_json_atomically(str(state), {"version": 1})
        with pytest.raises(OSError, match="No space left on device"), open(disk / "filler", "wb") as handle:
            handle.write(b"x" * 2**20)  # fills the disk
            handle.flush()
        with pytest.raises(OSError, match=rf"Could not write the export to {target} .*; the model already at "
                                          rf"{target} is unchanged") as raised:
            _export(_tiny_model(), target, 2)
        assert raised.value.errno == errno.ENOSPC
        with pytest.raises(OSError, match=rf"Could not write {state} \(No space left on device\); the file there, "
                                          "if any, is unchanged") as raised:
            write_json_atomically(str(state), {"version": 2, "padding": "x" * 2**16})
        assert raised.value.errno == errno.ENOSPC
        assert _version(target) == 1 and json.loads(state.read_text()) == {"version": 1}
        assert sorted(os.listdir(disk)) == ["filler", "model", "oracle.json"]
    finally:
        subprocess.run(["umount", str(disk)], check=True)


# -- subprocesses: SIGKILL, SIGINT, another process ----------------------------------------------------------


def _run(*args, timeout=600):
    return subprocess.run([sys.executable, RUNS, *map(str, args)], env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.scaleout
def test_export_killed_at_each_step_leaves_the_old_or_the_new_model(tmp_path):
    """One SIGKILLed export per step (the good exports around them run in this process)."""
    target, version = tmp_path / "model", 1
    _export(_tiny_model(), target, version)
    for kill, exchange in [("export", True), ("swapped", True), ("aside", False), ("swapped", False)]:
        killed = _run("export", target, version + 1, "--kill", kill, *([] if exchange else ["--no-exchange"]))
        assert killed.returncode == -signal.SIGKILL, (kill, exchange, killed.stderr[-3000:])
        if kill == "aside":
            assert not target.exists()  # the window of the rename-aside swap; the next export repairs it
        else:
            assert _exported_version(target) == (version if kill == "export" else version + 1)
        recover_interrupted_export(target)
        version += kill == "swapped"
        assert _exported_version(target) == version, (kill, exchange)
        assert os.listdir(tmp_path) == ["model"]
    _export(_tiny_model(), target, version + 1)
    assert _exported_version(target) == version + 1


@pytest.mark.scaleout
def test_a_fit_is_refused_while_another_process_searches_and_runs_once_it_is_killed(searched, tmp_path):
    directory = _copy(searched, tmp_path)
    holder = subprocess.Popen([sys.executable, RUNS, "hold-lock", str(directory)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(SearchDirectoryBusy, match=rf"\(process pid {holder.pid} on "):
            ImageSearchClassifier(**TINY, directory=str(directory)).fit(*searched[1:])
    finally:
        holder.kill()
        holder.wait()
    assert "pid" in (directory / ".autonas.lock").read_text()  # the file is left, its lock is not
    clf = ImageSearchClassifier(**{**TINY, "max_trials": 2}, directory=str(directory)).fit(*searched[1:])
    assert list(clf.leaderboard_.sort_values("trial")["trial"]) == ["0", "1"]


@pytest.mark.scaleout
def test_a_search_interrupted_by_ctrl_c_resumes_as_an_uninterrupted_one(tmp_path):
    whole = _run("search", tmp_path / "whole", tmp_path / "whole.json")
    assert whole.returncode == 0, whole.stderr[-3000:]
    interrupted = _run("search", tmp_path / "broken", tmp_path / "broken.json", "--interrupt", "in-trial:2")
    assert interrupted.returncode == -signal.SIGINT, interrupted.stderr[-3000:]
    assert "KeyboardInterrupt" in interrupted.stderr and not (tmp_path / "broken.json").exists()
    resumed = _run("search", tmp_path / "broken", tmp_path / "broken.json")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    expected = json.loads((tmp_path / "whole.json").read_text())
    got = json.loads((tmp_path / "broken.json").read_text())
    # Only the trial interrupted while it trained ran twice.
    assert expected["runs"] == ["0", "1", "2", "3"] and got["runs"] == ["0", "1", "2", "2", "3"]
    for key in ["trials", "start_order", "end_order", "oracle_state", "seed_state", "best", "best_score", "trial_dirs"]:
        assert got[key] == expected[key], key
