"""Resuming a search after the process was killed, and refusing to resume a changed one.

Three layers:
- every intermediate state a search leaves on disk (one snapshot after each file it writes)
  is resumed by a fresh tuner, which must end exactly as the uninterrupted search did and run
  again only the trial that had not reported (closed-form trials: fast);
- a real classifier search is SIGKILLed during a trial, between trials and during the final
  retraining, then run again to completion, and compared with an uninterrupted run (`scaleout`:
  one subprocess per run, see `resume_search.py`);
- `fit` on an existing project with a changed configuration raises before anything is written.
"""
import json
import os
import shutil
import signal
import subprocess
import sys

import keras_tuner
import pytest

from autonas import ImageSearchClassifier, kt_internals
from autonas.engine.resume import record_path
from autonas.engine.tuner import SearchTuner
from autonas.oracles import make_oracle
from autonas.oracles.evolution import RegularizedEvolutionOracle
from autonas.oracles.random_search import RandomSearchOracle
from autonas.oracles.recovery import write_json_atomically
from autonas.testing import strategy as st

PROBLEM = st.mixed_problem()
MAX_TRIALS = 8
HELPER = os.path.join(os.path.dirname(__file__), "resume_search.py")


# -- every write boundary, closed-form trials ---------------------------------------------------


class ClosedFormTuner(SearchTuner):
    """A SearchTuner whose trials score `PROBLEM` instead of training.

    Trials in `crash` raise; trials in `nan` report a NaN score (keras-tuner marks both INVALID).
    Each reports the epochs it would have trained (one, or its rung's), which successive halving
    promotes by.
    """

    def __init__(self, *, crash=(), nan=(), **kwargs):
        super().__init__(hypermodel=None, **kwargs)
        self.crash, self.nan = set(crash), set(nan)
        self.seen = []

    def run_trial(self, trial, *args, **kwargs):
        values = dict(trial.hyperparameters.values)
        self.seen.append(values)
        if trial.trial_id in self.crash:
            raise RuntimeError("this trial crashes on purpose")
        epochs = values.get("tuner/epochs", 1) - values.get("tuner/initial_epoch", 0)
        return {PROBLEM.metric: float("nan") if trial.trial_id in self.nan else PROBLEM.score(values), "epochs": epochs}


def _oracle(name, **options):
    if name == "evolution":
        # A population smaller than the search, so that it evolves.
        return RegularizedEvolutionOracle(objective=PROBLEM.objective(), max_trials=MAX_TRIALS, population_size=3,
                                          sample_size=2, seed=0, hyperparameters=PROBLEM.build_space(), **options)
    return make_oracle(name, objective=PROBLEM.objective(), max_trials=MAX_TRIALS, seed=0,
                       hyperparameters=PROBLEM.build_space(), **options)


def _history(tuner):
    """Trials (id, values, status, score), end order and autonas state, as JSON (NaN == NaN)."""
    oracle = tuner.oracle
    trials = [oracle.trials[t] for t in sorted(oracle.trials)]
    return json.dumps({
        "trials": [(t.trial_id, dict(t.hyperparameters.values), t.status, t.score) for t in trials],
        "end_order": list(oracle.end_order),
        "state": oracle.get_state().get("autonas"),
    })


class _Snapshots:
    """Copies the project after every file the tuner or its oracle writes (`taken`: path, trials run)."""

    def __init__(self, tuner, into):
        self.tuner, self.into, self.taken = tuner, into, []
        for owner, name in [(tuner.oracle, "save"), (tuner.oracle, "write_trial_file"), (tuner, "save")]:
            self._wrap(owner, name)

    def _wrap(self, owner, name):
        method = getattr(owner, name)

        def wrapper(*args, **kwargs):
            result = method(*args, **kwargs)
            path = self.into / f"{len(self.taken):03d}-{name}"
            shutil.copytree(self.tuner.project_dir, path / "search")
            self.taken.append((path, len(self.tuner.seen)))
            return result

        setattr(owner, name, wrapper)


def _assert_resumes_from_every_write(tmp_path, make_tuner, make_resumed=None):
    make_resumed = make_resumed or make_tuner
    whole = make_tuner(tmp_path / "whole")
    snapshots = _Snapshots(whole, tmp_path / "snapshots")
    whole.search(verbose=0)
    expected = _history(whole)
    assert len(snapshots.taken) > 5 * MAX_TRIALS
    wrong = []
    for path, runs_before in snapshots.taken:
        resumed = make_resumed(path)
        resumed.search(verbose=0)
        # Only trials that had not reported when the project was copied run (again).
        if _history(resumed) != expected or resumed.seen != whole.seen[runs_before:]:
            wrong.append(f"{path.name}: ran {len(resumed.seen)} trials, expected {len(whole.seen) - runs_before}")
    assert not wrong, "Resumed from these snapshots, the search did not end as the uninterrupted one:\n" + "\n".join(
        wrong)
    return expected


@pytest.mark.parametrize("name", ["evolution", "reinforce", "random"])
def test_search_resumes_exactly_from_every_state_written(tmp_path, name):
    def make_tuner(directory):
        return ClosedFormTuner(oracle=_oracle(name), directory=str(directory), project_name="search")

    expected = json.loads(_assert_resumes_from_every_write(tmp_path, make_tuner))
    assert [status for _, _, status, _ in expected["trials"]] == ["COMPLETED"] * MAX_TRIALS


@pytest.mark.parametrize("name", ["evolution", "reinforce", "random"])
def test_search_with_rungs_resumes_exactly_from_every_state_written(tmp_path, name):
    def make_tuner(directory):
        return ClosedFormTuner(oracle=_oracle(name, successive_halving=True), directory=str(directory),
                               project_name="search")

    expected = json.loads(_assert_resumes_from_every_write(tmp_path, make_tuner))
    # Of 8 trials, the 4th and the 8th were promoted (the best of the first three, then of six).
    promoted = [trial_id for trial_id, values, _, _ in expected["trials"] if "tuner/trial_id" in values]
    assert promoted == ["3", "7"]


@pytest.mark.filterwarnings("ignore:All-NaN:RuntimeWarning")  # keras-tuner scoring the NaN trial
def test_search_with_failing_and_retried_trials_resumes_exactly(tmp_path):
    def make_tuner(directory):
        oracle = _oracle("evolution", max_retries_per_trial=1)
        return ClosedFormTuner(oracle=oracle, crash={"2"}, nan={"5"}, directory=str(directory), project_name="search")

    expected = json.loads(_assert_resumes_from_every_write(tmp_path, make_tuner))
    statuses = [status for _, _, status, _ in expected["trials"]]
    assert statuses.count("FAILED") == 2 and statuses.count("COMPLETED") == MAX_TRIALS - 2


class KerasTunersRandomSearch(kt_internals.TrialFileHook, keras_tuner.oracles.RandomSearchOracle):
    """keras-tuner's own oracle, writing its files its own way; the hook only lets snapshots see them."""


def test_project_written_by_keras_tuners_own_oracle_resumes_exactly(tmp_path):
    # keras-tuner saves `oracle.json` in `end_trial` while the trial is still listed as running.
    def make_tuner(directory, oracle_class=KerasTunersRandomSearch):
        oracle = oracle_class(objective=PROBLEM.objective(), max_trials=MAX_TRIALS, seed=1,
                              hyperparameters=PROBLEM.build_space())
        return ClosedFormTuner(oracle=oracle, directory=str(directory), project_name="search")

    _assert_resumes_from_every_write(tmp_path, make_tuner, lambda path: make_tuner(path, RandomSearchOracle))


def test_interrupted_write_keeps_the_previous_file(tmp_path, monkeypatch):
    path = str(tmp_path / "state.json")
    write_json_atomically(path, {"version": 1})

    def killed(*args):
        raise KeyboardInterrupt  # stands for the process dying between writing and renaming

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        write_json_atomically(path, {"version": 2})
    with open(path, encoding="utf-8") as handle:
        assert json.load(handle) == {"version": 1}
    assert os.listdir(tmp_path) == ["state.json"]


# -- SIGKILL at chosen points, real training ---------------------------------------------------


def _run_helper(directory, oracle, output, kill=None):
    command = [sys.executable, HELPER, str(directory), oracle, str(output)] + (["--kill", kill] if kill else [])
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


# Real killed searches, with -m slow (about 100 s each): every oracle's resume is exact at every
# write boundary above (closed-form, fast), and CI kills real searches with Ctrl-C
# (tests/test_disk_faults.py), mid-export and as a dead worker (tests/test_multi_worker_search.py).
@pytest.mark.scaleout
@pytest.mark.slow
@pytest.mark.parametrize("oracle", ["evolution", "reinforce", "random"])
def test_search_killed_at_four_points_ends_as_an_uninterrupted_one(tmp_path, oracle):
    whole = _run_helper(tmp_path / "whole", oracle, tmp_path / "whole.json")
    assert whole.returncode == 0, whole.stderr[-3000:]
    # 4 trials (evolution: a population of 2, so trials 2 and 3 are evolved), killed during the
    # first batch of trial 2, after trial 2 ended, as trial 3 ends (its file written, not yet
    # the oracle's), and during the final retraining.
    for kill in ["in-trial:2", "after-trial:3", "ending:3", "retrain"]:
        killed = _run_helper(tmp_path / "broken", oracle, tmp_path / "broken.json", kill=kill)
        assert killed.returncode == -signal.SIGKILL, f"{kill}: exit {killed.returncode}\n{killed.stderr[-3000:]}"
        assert not (tmp_path / "broken.json").exists()
    resumed = _run_helper(tmp_path / "broken", oracle, tmp_path / "broken.json")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    with open(tmp_path / "whole.json", encoding="utf-8") as handle:
        expected = json.load(handle)
    with open(tmp_path / "broken.json", encoding="utf-8") as handle:
        got = json.load(handle)
    assert [t["status"] for t in got["trials"]] == ["COMPLETED"] * 4
    assert got["trial_dirs"] == ["trial_0", "trial_1", "trial_2", "trial_3"]
    # Only the trial killed while it trained ran twice; the one killed as it ended was not run again.
    assert expected["runs"] == ["0", "1", "2", "3"] and got["runs"] == ["0", "1", "2", "2", "3"]
    for key in ["trials", "start_order", "end_order", "oracle_state", "seed_state", "best", "best_score"]:
        assert got[key] == expected[key], key


# -- a changed configuration ---------------------------------------------------------------------

TINY = dict(max_trials=1, epochs=1, final_epochs=1, num_blocks=1, search_filters=4, final_filters=4,
            operations=["conv_3x3", "max_pool_3x3", "identity"], batch_size=32, verbose=0, seed=None,
            retrain=False, oracle="evolution")


@pytest.fixture(scope="module")
def searched(tmp_path_factory, digits):
    """A finished one-trial search (seed=None) and its data: copy the directory before resuming it."""
    images, labels = digits
    directory = tmp_path_factory.mktemp("searched")
    clf = ImageSearchClassifier(**TINY, directory=str(directory))
    clf.fit(images[:300], labels[:300])
    return directory, clf, images[:300], labels[:300]


def _copy(searched, tmp_path):
    directory = tmp_path / "project"
    shutil.copytree(searched[0], directory)
    return directory


def _contents(directory):
    files = {}
    for root, _, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as handle:
                files[os.path.relpath(path, directory)] = handle.read()
    return files


CHANGES = {"epochs": 2, "search_filters": 8, "num_blocks": 2, "operations": ["conv_3x3", "identity"], "batch_size": 16,
           "seed": 3, "oracle": "reinforce", "dropout": 0.5, "optimizer": "sgd", "learning_rate": 0.5,
           "successive_halving": True, "objective": ["val_accuracy", "params"]}


@pytest.mark.parametrize("field", CHANGES)
def test_changed_configuration_is_refused_before_anything_is_written(searched, tmp_path, field):
    directory = _copy(searched, tmp_path)
    before = _contents(directory)
    _, _, images, labels = searched
    clf = ImageSearchClassifier(**{**TINY, field: CHANGES[field]}, directory=str(directory))
    with pytest.raises(ValueError, match=rf"changed configuration \(.*\b{field}: ") as raised:
        clf.fit(images, labels)
    assert "overwrite=True" in str(raised.value)
    assert _contents(directory) == before


def test_other_data_are_refused(searched, tmp_path):
    directory = _copy(searched, tmp_path)
    _, _, images, labels = searched
    clf = ImageSearchClassifier(**TINY, directory=str(directory))
    with pytest.raises(ValueError, match="train_size: 240 then, 200 now; validation_size: 60 then, 50 now"):
        clf.fit(images[:250], labels[:250])


def test_search_without_a_record_is_refused(searched, tmp_path):
    directory = _copy(searched, tmp_path)
    os.remove(record_path(directory, ImageSearchClassifier.project_name))
    _, _, images, labels = searched
    with pytest.raises(ValueError, match="no record of the configuration"):
        ImageSearchClassifier(**TINY, directory=str(directory)).fit(images, labels)


def test_harmless_changes_resume_and_max_trials_extends_the_search(searched, tmp_path):
    directory = _copy(searched, tmp_path)
    _, first, images, labels = searched
    # seed=None again: the recorded seed is reused, so the oracle accepts its saved state.
    clf = ImageSearchClassifier(**{**TINY, "max_trials": 2, "verbose": 1, "time_limit": "1h", "final_epochs": 3},
                                directory=str(directory))
    clf.fit(images, labels)
    board = clf.leaderboard().sort_values("trial").reset_index(drop=True)
    assert list(board["trial"]) == ["0", "1"] and list(board["status"]) == ["COMPLETED"] * 2
    kept = first.leaderboard().iloc[0]
    assert board.loc[0, "architecture"] == kept["architecture"] and board.loc[0, "score"] == kept["score"]
    assert board.loc[1, "architecture"] != kept["architecture"]


def test_overwrite_starts_a_new_search_with_the_new_configuration(searched, tmp_path):
    directory = _copy(searched, tmp_path)
    _, _, images, labels = searched
    ImageSearchClassifier(**{**TINY, "epochs": 2}, directory=str(directory), overwrite=True).fit(images, labels)
    with open(record_path(directory, ImageSearchClassifier.project_name), encoding="utf-8") as handle:
        assert json.load(handle)["configuration"]["epochs"] == 2
    trial = keras_tuner.engine.trial.Trial.load(str(directory / "image_search" / "trial_0" / "trial.json"))
    assert trial.metrics.get_last_value("epochs") == 2


def test_a_resumed_seed_none_search_splits_off_the_same_validation_samples(searched, tmp_path, monkeypatch):
    directory = _copy(searched, tmp_path)
    _, _, images, labels = searched
    with open(record_path(directory, ImageSearchClassifier.project_name), encoding="utf-8") as handle:
        recorded = json.load(handle)["seed"]
    seeds = []
    prepare = ImageSearchClassifier._prepare_fit_data

    def spy(self, x, y, validation_split, validation_data, seed, batch_size):
        seeds.append(seed)
        return prepare(self, x, y, validation_split, validation_data, seed, batch_size)

    monkeypatch.setattr(ImageSearchClassifier, "_prepare_fit_data", spy)
    ImageSearchClassifier(**{**TINY, "max_trials": 2}, directory=str(directory)).fit(images, labels)
    ImageSearchClassifier(**TINY, directory=str(tmp_path / "new")).fit(images, labels)
    # The resumed search reused the recorded seed; a new one in another directory drew its own.
    assert seeds[0] == recorded and seeds[1] != recorded
