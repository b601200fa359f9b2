"""The `autonas` command line: parsing, the one-line errors found before any training, and one
real run (fit a folder of digits PNGs, predict on it, read the leaderboard) in a subprocess."""
import csv
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from autonas.cli import main
from autonas.cli.fit import check_export_folder
from autonas.cli.errors import CommandError
from autonas.cli.image_folder import first_image_format, prediction_images
from autonas.cli.main import build_parser
from autonas.quiet_start import started_as_command_line
from autonas.testing.image_folders import write_digit_folders, write_png


def run_main(arguments, capsys):
    code = main(arguments)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ---------------------------------------------------------------- parsing

def test_fit_arguments_are_parsed_as_the_estimator_takes_them():
    args = build_parser().parse_args(["fit", "images/", "--time-limit", "10m", "--export", "model/", "--max-trials",
                                      "3", "--seed", "0", "--oracle", "random", "--image-size", "32x48", "-q"])
    assert (args.data, args.time_limit, args.export, args.max_trials, args.seed, args.oracle) == \
        ("images/", "10m", "model/", 3, 0, "random")
    assert args.image_size == (32, 48) and args.quiet and not args.verbose
    assert build_parser().parse_args(["fit", "d", "--export", "m", "--image-size", "28"]).image_size == (28, 28)


@pytest.mark.parametrize("arguments", [
    ["fit", "images/"],                                              # --export is required
    ["fit", "images/", "--export", "m", "--time-limit", "soon"],
    ["fit", "images/", "--export", "m", "--max-trials", "0"],
    ["fit", "images/", "--export", "m", "--oracle", "bayesian"],
    ["fit", "images/", "--export", "m", "--image-size", "32x"],
    ["fit", "images/", "--export", "m", "-v", "-q"],
    ["predict", "model/"],
    [],
])
def test_usage_errors_exit_with_2(arguments, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(arguments)
    assert exit_info.value.code == 2
    assert "usage: autonas" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["fit", "predict", "leaderboard", "plot"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"usage: autonas {command}" in capsys.readouterr().out


# ---------------------------------------------------------------- bad input: one line, exit 1, nothing written

def assert_refused(code, err, *fragments):
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("autonas "), err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def fit_arguments(data, tmp_path):
    return ["fit", str(data), "--export", str(tmp_path / "model"), "--directory", str(tmp_path / "runs")]


def assert_nothing_written(tmp_path):
    assert not (tmp_path / "model").exists() and not (tmp_path / "runs").exists()


def test_a_missing_folder_is_refused(tmp_path, capsys):
    code, _, err = run_main(fit_arguments(tmp_path / "nowhere", tmp_path), capsys)
    assert_refused(code, err, "nowhere does not exist")
    assert_nothing_written(tmp_path)


def test_a_folder_without_class_subfolders_is_refused(tmp_path, digits):
    write_png(str(tmp_path / "flat" / "a.png"), digits[0][0])
    with pytest.raises(CommandError, match=r"no class subfolders \(1 images lie in it directly\)"):
        main_or_raise(fit_arguments(tmp_path / "flat", tmp_path))
    assert_nothing_written(tmp_path)


def test_an_empty_class_folder_is_refused(tmp_path, digits, capsys):
    write_png(str(tmp_path / "images" / "cat" / "a.png"), digits[0][0])
    (tmp_path / "images" / "dog").mkdir()
    code, _, err = run_main(fit_arguments(tmp_path / "images", tmp_path), capsys)
    assert_refused(code, err, "class folder", os.path.join("images", "dog"), "holds no images")
    assert_nothing_written(tmp_path)


def test_a_single_class_folder_is_refused(tmp_path, digits, capsys):
    write_png(str(tmp_path / "images" / "cat" / "a.png"), digits[0][0])
    code, _, err = run_main(fit_arguments(tmp_path / "images", tmp_path), capsys)
    assert_refused(code, err, "one class subfolder (cat)")


def test_a_csv_without_the_named_column_is_refused_listing_its_columns(tmp_path, capsys):
    (tmp_path / "texts.csv").write_text("sentence,label\ngood film,pos\nbad film,neg\n")
    code, _, err = run_main(fit_arguments(tmp_path / "texts.csv", tmp_path) + ["--text-column", "text"], capsys)
    assert_refused(code, err, "no column 'text'", "its columns are: sentence, label")
    assert_nothing_written(tmp_path)


def test_a_non_empty_export_folder_is_refused_unless_overwrite(tmp_path, capsys):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "saved_model.pb").write_text("an earlier model")
    (tmp_path / "texts.csv").write_text("text,label\ngood film,pos\n")
    code, _, err = run_main(fit_arguments(tmp_path / "texts.csv", tmp_path), capsys)
    assert_refused(code, err, "exists and is not empty", "--overwrite")
    assert (tmp_path / "model" / "saved_model.pb").read_text() == "an earlier model"
    assert not (tmp_path / "runs").exists()
    check_export_folder(str(tmp_path / "model"), overwrite=True)
    (tmp_path / "empty").mkdir()
    check_export_folder(str(tmp_path / "empty"), overwrite=False)  # an empty folder is fine


def test_the_estimators_input_errors_are_one_line_too(tmp_path, capsys):
    # One labelled row: the classifier refuses it before any training.
    (tmp_path / "texts.csv").write_text("text,label\ngood film,pos\n")
    code, _, err = run_main(fit_arguments(tmp_path / "texts.csv", tmp_path) + ["-q"], capsys)
    assert code == 1 and err.startswith("autonas fit: error: ") and "Traceback" not in err, err
    assert_nothing_written(tmp_path)


def test_predict_refuses_a_folder_that_is_not_an_export(tmp_path, capsys):
    (tmp_path / "model").mkdir()
    code, _, err = run_main(["predict", str(tmp_path / "model"), str(tmp_path)], capsys)
    assert_refused(code, err, "has no autonas.json")


@pytest.mark.parametrize("command", ["leaderboard", "plot"])
def test_search_records_commands_refuse_a_folder_without_a_search(command, tmp_path, capsys):
    code, _, err = run_main([command, str(tmp_path / "missing")], capsys)
    assert_refused(code, err, "does not exist")
    code, _, err = run_main([command, str(tmp_path)], capsys)
    assert_refused(code, err, "found none")


def main_or_raise(arguments):
    args = build_parser().parse_args(arguments)
    return args.run(args)


# ---------------------------------------------------------------- images

def test_the_default_image_format_comes_from_the_first_image(tmp_path):
    write_png(str(tmp_path / "wide.png"), np.zeros((100, 50, 3)))
    write_png(str(tmp_path / "grey.png"), np.zeros((8, 8)))
    assert first_image_format(str(tmp_path / "wide.png")) == ((64, 32), "rgb")
    assert first_image_format(str(tmp_path / "grey.png")) == ((8, 8), "grayscale")


def test_images_to_predict_are_read_with_or_without_class_subfolders(tmp_path, digits):
    write_png(str(tmp_path / "a.png"), digits[0][0])
    write_png(str(tmp_path / "sub" / "b.png"), digits[0][1])
    batches, names = prediction_images(str(tmp_path), shape=[8, 8], dtype="uint8", batch_size=4)
    (batch,) = list(batches)
    assert names == ["a.png", os.path.join("sub", "b.png")]
    assert batch.dtype == tf.uint8 and batch.shape == (2, 8, 8)
    np.testing.assert_array_equal(batch.numpy()[0], digits[0][0])


# ---------------------------------------------------------------- start-up noise

@pytest.mark.parametrize("argv, orig_argv, expected", [
    (["/venv/bin/autonas", "fit"], ["/venv/bin/python", "/venv/bin/autonas", "fit"], True),
    (["-m"], ["python", "-m", "autonas", "fit"], True),
    (["train.py"], ["python", "train.py"], False),
    (["-m"], ["python", "-m", "pytest"], False),
])
def test_only_the_command_line_quiets_tensorflows_start(monkeypatch, argv, orig_argv, expected):
    monkeypatch.setattr(sys, "argv", argv)
    monkeypatch.setattr(sys, "orig_argv", orig_argv)
    assert started_as_command_line() is expected


def test_a_script_that_asks_imports_autonas_without_tensorflows_notices_and_keeps_its_own_stderr():
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    script = "import sys, warnings, autonas; print('mine', file=sys.stderr); warnings.warn('careful')"
    result = subprocess.run([sys.executable, "-c", script], env={**env, "AUTONAS_QUIET_START": "1"},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == ["mine", "<string>:1: UserWarning: careful"], result.stderr


# ---------------------------------------------------------------- a real run

def run_command(arguments, cwd):
    env = {key: value for key, value in os.environ.items() if key not in ("TF_CPP_MIN_LOG_LEVEL", "PYTHONPATH")}
    result = subprocess.run([sys.executable, "-m", "autonas", *arguments], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, f"{arguments}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.mark.endtoend
def test_fit_predict_and_leaderboard_on_a_folder_of_pngs(tmp_path, digits):
    write_digit_folders(str(tmp_path / "digits"), digits)
    # Fixed epochs: two trials on any machine; the time limit only has the lines say what is left.
    # Ten final epochs: three (18 steps) left one run at 0.42 on its own training images.
    fit = run_command(["fit", "digits", "--time-limit", "5m", "--max-trials", "2", "--epochs", "3", "--final-epochs",
                       "10", "--batch-size", "16", "--seed", "0", "--directory", "runs", "--export", "model",
                       "--tensorboard", "logs"], cwd=tmp_path)
    for noise in ("oneDNN", "cuInit", "cudart_stub", "absl::InitializeLog"):
        assert noise not in fit.stderr, fit.stderr
    lines = fit.stdout.splitlines()
    assert lines[0] == "digits: 120 images in 3 classes (0, 1, 2), read as 8x8 grayscale; 96 train the trials, " \
                       "24 score them", fit.stdout
    trial_lines = [line for line in lines if line.startswith("trial ")]
    assert [line.split(" | ")[0] for line in trial_lines] == ["trial 1/2", "trial 2/2"], fit.stdout
    assert all(line.endswith(" left") for line in trial_lines), fit.stdout
    assert "exported to" in lines[-1]
    assert len(os.listdir(tmp_path / "logs")) == 3 and "final" in os.listdir(tmp_path / "logs")  # 2 trials' runs

    run_command(["predict", "model", "digits", "--out", "predictions.csv"], cwd=tmp_path)
    with open(tmp_path / "predictions.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 120 and set(rows[0]) == {"input", "label", "probability"}
    accuracy = np.mean([row["label"] == os.path.dirname(row["input"]) for row in rows])
    assert accuracy > 0.6, accuracy  # chance is 1/3

    board = run_command(["leaderboard", "runs"], cwd=tmp_path).stdout.splitlines()
    assert board[0].split()[:2] == ["trial", "score"] and board[0].split()[-1] == "architecture", board
    assert len(board) == 3 and all("COMPLETED" in line for line in board[1:]), board
