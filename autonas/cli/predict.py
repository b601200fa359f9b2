"""`autonas predict MODEL INPUTS`: class predictions from an exported model, as CSV.

MODEL is a folder `autonas fit` (or `clf.export`) wrote: a SavedModel whose `serve` takes raw
images (or raw strings) and returns class probabilities, and `autonas.json`, which names the
classes (the probabilities' columns, in order) and the inputs the model takes.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys

import numpy as np
import tensorflow as tf

from autonas.cli.errors import CommandError
from autonas.cli.image_folder import prediction_images
from autonas.cli.text_file import texts_to_predict
from autonas.export import METADATA_FILE

COLUMNS = ("input", "label", "probability")


def add_parser(commands):
    parser = commands.add_parser(
        "predict", help="predict with an exported model; CSV: input, label, probability",
        description="Predict the class of each input with a model exported by `autonas fit`. Writes CSV, one row\n"
                    "per input: its name (an image's path inside INPUTS, or the text), the predicted label and\n"
                    "its probability.",
        epilog="examples:\n  autonas predict model/ new_images/ --out predictions.csv\n"
               "  autonas predict model/ texts.csv --text-column text",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="the folder `autonas fit --export` wrote")
    parser.add_argument("inputs", help="for an image model, a folder of images (with or without class "
                                       "subfolders); for a text model, a CSV file or a text file (one text a line)")
    parser.add_argument("--out", metavar="FILE", help="write the CSV here (default: standard output)")
    parser.add_argument("--text-column", default="text", help="the CSV column holding the texts (default: text)")
    parser.add_argument("--batch-size", type=int, default=256, metavar="N", help="(default: 256)")
    parser.set_defaults(run=run_predict)
    return parser


def run_predict(args):
    metadata = read_metadata(args.model)
    classes, inputs = metadata["classes"], metadata["inputs"]
    if inputs["dtype"] == "string":
        texts = texts_to_predict(args.inputs, text_column=args.text_column)
        names = texts
        batches = (tf.constant(texts[start:start + args.batch_size]) for start in range(0, len(texts), args.batch_size))
    else:
        batches, names = prediction_images(args.inputs, shape=inputs["shape"], dtype=inputs["dtype"],
                                           batch_size=args.batch_size)
    model = tf.saved_model.load(args.model)
    probabilities = [model.serve(batch).numpy() for batch in batches]
    probabilities = np.concatenate(probabilities) if probabilities else np.zeros((0, len(classes)))
    best = probabilities.argmax(axis=1)
    rows = [(name, classes[index], f"{row[index]:.4f}") for name, index, row in zip(names, best, probabilities)]
    write_rows(rows, args.out)
    if args.out:
        print(f"{len(rows)} predictions written to {args.out}", file=sys.stderr)
    return 0


def read_metadata(model):
    """The exported model's autonas.json; CommandError when `model` is not an autonas export."""
    path = os.path.join(model, METADATA_FILE)
    if not os.path.isdir(model):
        raise CommandError(f"{model} {'is not a folder' if os.path.exists(model) else 'does not exist'}: give the "
                           "folder `autonas fit --export` wrote.")
    if not os.path.isfile(path):
        raise CommandError(f"{model} has no {METADATA_FILE}: it is not a model exported by autonas.")
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def write_rows(rows, out):
    handle = open(out, "w", newline="", encoding="utf-8") if out else sys.stdout
    try:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    finally:
        if out:
            handle.close()
