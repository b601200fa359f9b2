"""`autonas fit DATA --export MODEL`: search, retrain the winner, export it as a SavedModel.

DATA is a folder with one subfolder of images per class (streamed, `image_folder.py`) or a CSV
file of texts and labels (`text_file.py`). Everything that can be wrong with the inputs or the
export folder is found before the search starts, and then nothing has been written.
"""
from __future__ import annotations

import argparse
import os

from autonas.cli.errors import CommandError
from autonas.cli.image_folder import COLOR_MODES, check_class_folders, first_image_format, training_datasets
from autonas.cli.text_file import labelled_texts
from autonas.engine.budget import parse_duration
from autonas.engine.search import SEARCH_NAMES, search_seed
from autonas.tasks import ImageSearchClassifier, TextSearchClassifier

VALIDATION_SPLIT = 0.2  # the classifiers' default, for the images' split made here


def add_parser(commands):
    parser = commands.add_parser(
        "fit", help="search an architecture for a folder of images or a CSV of texts, and export the model",
        description="Search NASNet-style cells on DATA, retrain the best architecture on all of it, and export\n"
                    "it as a TF SavedModel that takes raw images (or raw strings) and returns class probabilities.\n"
                    "Prints one line per trial, with the time left.",
        epilog="examples:\n  autonas fit images/ --time-limit 10m --export model/\n"
               "  autonas fit texts.csv --text-column text --label-column label --time-limit 10m --export model/",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", help="a folder with one subfolder of images per class (images/cat/1.png, ...), "
                                     "or a CSV file of texts and labels")
    parser.add_argument("--export", required=True, metavar="FOLDER",
                        help="where to write the SavedModel (a new or empty folder, unless --overwrite)")
    parser.add_argument("--overwrite", action="store_true", help="replace a non-empty --export folder")
    search = parser.add_argument_group("search")
    search.add_argument("--time-limit", type=duration, metavar="DURATION",
                        help="budget for the whole fit, e.g. 90s, 10m, 1h30m (default: none; then 10 trials)")
    search.add_argument("--max-trials", type=positive_int, metavar="N", help="most architectures to try")
    search.add_argument("--oracle", choices=SEARCH_NAMES, default="evolution",
                        help="search strategy (default: evolution)")
    search.add_argument("--seed", type=non_negative_int, help="fix the data split and the architectures tried")
    search.add_argument("--directory", metavar="FOLDER",
                        help="keep the search's records here: a stopped search resumes when run again with the "
                             "same settings; `autonas leaderboard FOLDER` reads it (default: a temporary folder)")
    search.add_argument("--restart", action="store_true", help="discard earlier trials in --directory")
    search.add_argument("--epochs", type=positive_int, metavar="N",
                        help="epochs per trial (default: sized to --time-limit)")
    search.add_argument("--final-epochs", type=positive_int, metavar="N",
                        help="most epochs retraining the winner (default: sized to what the time limit leaves)")
    search.add_argument("--batch-size", type=positive_int, default=128, metavar="N", help="(default: 128)")
    images = parser.add_argument_group("images (DATA is a folder)")
    images.add_argument("--image-size", type=image_size, metavar="HxW",
                        help="resize every image to this, e.g. 32 or 32x48 (default: the first image's size, "
                             "shrunk to fit 64x64)")
    images.add_argument("--color-mode", choices=COLOR_MODES,
                        help="(default: grayscale when the first image is grey, else rgb)")
    texts = parser.add_argument_group("texts (DATA is a CSV file)")
    texts.add_argument("--text-column", default="text", help="(default: text)")
    texts.add_argument("--label-column", default="label", help="(default: label)")
    parser.add_argument("--tensorboard", metavar="FOLDER",
                        help="log each trial (curves, score, architecture in HParams) and the retraining "
                             "for TensorBoard (tensorboard --logdir FOLDER)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("-v", "--verbose", action="store_true", help="also print the retraining's epochs")
    output.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    parser.set_defaults(run=run_fit)
    return parser


def tensorboard_callbacks(folder):
    """`fit`'s callbacks for `--tensorboard FOLDER` (none without it)."""
    if folder is None:
        return None
    import keras  # loaded by autonas already; imported here to keep it out of the parser

    return [keras.callbacks.TensorBoard(folder)]


def run_fit(args):
    check_export_folder(args.export, overwrite=args.overwrite)
    say = (lambda message: None) if args.quiet else print
    settings = dict(time_limit=args.time_limit, max_trials=args.max_trials, oracle=args.oracle,
                    directory=args.directory, overwrite=args.restart, epochs=args.epochs,
                    final_epochs=args.final_epochs, batch_size=args.batch_size,
                    verbose=0 if args.quiet else 2 if args.verbose else 1)
    if os.path.isdir(args.data):
        classifier, x, y, validation = image_search(args, settings, say)
    elif os.path.exists(args.data) or args.data.lower().endswith(".csv"):
        classifier, x, y, validation = text_search(args, settings, say)
    else:
        raise CommandError(f"{args.data} does not exist.")
    try:
        classifier.fit(x, y, validation_data=validation, callbacks=tensorboard_callbacks(args.tensorboard))
    except (ValueError, RuntimeError) as error:  # the classifiers' input checks (before training); no trial completed
        raise CommandError(str(error)) from None
    path = classifier.export(args.export, overwrite=True)  # an existing folder was checked to be empty
    say(f"best trial: {classifier.best_score_:.4f} validation accuracy, {classifier.best_genotype_}")
    say(f"exported to {path} ({len(classifier.classes_)} classes); predict with: autonas predict {args.export} INPUTS")
    return 0


def image_search(args, settings, say):
    """`(classifier, train, None, validation)` for a folder of class subfolders."""
    folders = check_class_folders(args.data)
    size, color_mode = first_image_format(folders.first_image)
    size, color_mode = args.image_size or size, args.color_mode or color_mode
    # One seed for the split made here and for the search, so a resumed search scores on the same images.
    seed = search_seed(args.seed, directory=args.directory, project_name=ImageSearchClassifier.project_name,
                       overwrite=args.restart)
    shown = ", ".join(folders.classes[:10]) + (", ..." if len(folders.classes) > 10 else "")
    total = sum(folders.counts)
    held_out = int(VALIDATION_SPLIT * total)  # as Keras splits
    say(f"{args.data}: {total} images in {len(folders.classes)} classes ({shown}), read as {size[0]}x{size[1]} "
        f"{color_mode}; {total - held_out} train the trials, {held_out} score them")
    train, validation = training_datasets(folders, image_size=size, color_mode=color_mode,
                                          validation_split=VALIDATION_SPLIT, seed=seed)
    return ImageSearchClassifier(seed=seed, **settings), train, None, validation


def text_search(args, settings, say):
    """`(classifier, texts, labels, None)` for a CSV file."""
    texts, labels = labelled_texts(args.data, text_column=args.text_column, label_column=args.label_column)
    say(f"{args.data}: {len(texts)} texts in {len(set(labels.tolist()))} classes")
    return TextSearchClassifier(seed=args.seed, **settings), texts, labels, None


def check_export_folder(path, *, overwrite):
    """Refuse, before any work, an export path that is a file, or a non-empty folder without `overwrite`."""
    if os.path.isfile(path):
        raise CommandError(f"--export {path} is a file; give a folder path.")
    if os.path.isdir(path) and os.listdir(path) and not overwrite:
        raise CommandError(f"--export {path} exists and is not empty; pass --overwrite to replace it, "
                           "or choose another folder.")


def duration(text):
    """argparse type: a time limit as the classifiers read it (kept as written)."""
    try:
        parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def positive_int(text):
    return _integer(text, minimum=1)


def non_negative_int(text):
    return _integer(text, minimum=0)


def _integer(text, *, minimum):
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}")
    return value


def image_size(text):
    """argparse type: "32" (square) or "32x48" (height x width)."""
    parts = text.lower().split("x")
    try:
        sides = tuple(int(part) for part in parts)
    except ValueError:
        sides = ()
    if len(sides) not in (1, 2) or min(sides) < 1:
        raise argparse.ArgumentTypeError(f"expected HEIGHTxWIDTH or one side, e.g. 32x48 or 32; got {text!r}")
    return sides * 2 if len(sides) == 1 else sides
