"""The evidence behind `TextSearchClassifier`'s defaults: one fixed cell, trained under each
candidate setting on four sentence data sets, several seeds.

For every data set the training pool is split 80/20 with autonas's own splitter (seeded), a
fixed 1-D cell (`conv_3` and `conv_5` on every block) is built at the search proxy size with the
library's builder, trained with autonas's trainer settings (cosine schedule, batch 128) for
`--epochs`, and scored on the 20% held out. The test splits are never touched: defaults are
chosen on validation data. Variants (each changes one thing from `base`, the library default):

- `base`: SGD + Nesterov 0.9, lr 0.1 (the text default before heads were searched), no
  reduction cells (the default for < 64 tokens), embedding 64, dropout 0.2, average pooling.
- `reduce2`: two reduction cells, the image rule before the text rule existed.
- `adam3e-3`, `adam1e-2`: Adam at those peak learning rates.
- `dropout0.5`: dropout 0.5 before the head (Kim 2014's setting).
- `embed32`, `embed128`: embedding widths.
- `max`, `attention`: the head pools the cell's positions by their maximum (Kim's
  max-over-time) or a learned softmax-weighted mean instead of their mean.
- `fused`: the TF-IDF bag of word 1-2 grams beside the pooled cell, one linear layer over both.
- `kim`: Kim's CNN as a cell (convolutions of widths 3, 5, 7 side by side) with max pooling.
- `ngrams`, `ngrams-adam`: the bag of n-grams alone (no cell; a linear model), with SGD and
  with Adam 3e-3.
- `adam-max`, `adam-attention`, `adam-kim`, `adam-fused10`, `adam-max-fused10`,
  `adam-ngrams10`, `adam-ngrams30`: those heads under Adam 3e-3, the number being the n-gram
  vector's length (`NGRAM_SCALE`; the variants without it use 1).
- `adam-attention-punctuation`, `adam-attention-cased`, `adam-kim-punctuation`,
  `adam-kim-cased`: those two under another tokenization of the embedded sequence (`tokens=`:
  punctuation marks as tokens, lower-cased or with case kept; the others use `"words"`).
- `adam-kim-punctuation-embed300-dropout0.5`: that cell with Kim's embedding width and dropout
  (with `--filters 100` it has Kim's 100 maps per width too).
- `A+B` (any two variants): the average of their class probabilities, as a text fit averages
  its winner with the n-grams network (`blend_ngrams`).
- `A@E` (any variant): trained for E epochs instead of `--epochs`, e.g. `adam-ngrams10@30`.
- `sklearn-tfidf`: the reference, not a network: scikit-learn's TF-IDF (word 1-2 grams) +
  `LogisticRegression(max_iter=1000)` fitted on the same 80% and scored on the same 20%;
  `sklearn-tfidf-C10`, `sklearn-tfidf-C100`: the same with a weaker penalty (C=10, 100);
  `sklearn-tfidf-chars`, `sklearn-tfidf-chars-C10`: with character 2-5 grams beside the words.
- `adam-ngrams10-chars`: `adam-ngrams10` whose n-grams include characters' (2-5), as a text
  fit's do since 2026-12-05 (`autonas.data.text.CHARACTER_NGRAMS`); every other network variant
  reads word n-grams only, as when its table was measured.

Data sets (`--data-dir`, as in `text_vs_peers.py`): TREC, SST-2 (train + dev pool), MR
(`rt-polarity.all`) and Subj (`subj.all`); MR and Subj have no official test split, so
`text_datasets.py` keeps a fixed 10% of each as `text_vs_peers.py`'s test split, and only the
rest is used here (the runs in docs/ dated up to 2026-12-04 used the whole file: their MR and
Subj validation splits overlap that later test split). `--datasets passages` adds MR's
sentences of one class joined into texts of about 300 tokens (`text_datasets.py`), not run by
default. `--filters` and `--normal-cells` size the network (default: the search's proxy).

Usage (from the repository root):
    python benchmarks/text_defaults.py
    python benchmarks/text_defaults.py --datasets trec,sst2 --variants base,adam3e-3 --seeds 1,2,3 --json out.json

Prints one table (mean validation accuracy per data set and variant, and the mean over data
sets, with seconds per training) to stdout; progress to stderr.
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from benchmarks import text_datasets  # noqa: E402
from benchmarks._harness import accuracy, name_list, print_table, say  # noqa: E402

DATASETS = ("trec", "sst2", "mr", "subj")


@dataclasses.dataclass(frozen=True)
class Setting:
    optimizer: str = "sgd"
    learning_rate: float = 0.1
    reductions: int = 0
    embedding_dim: int = 64
    dropout: float = 0.2
    pooling: str = "average"
    ngrams: str = "none"
    cell: str = "fixed"  # or "parallel": Kim's convolutions side by side
    ngram_scale: float = 1.0  # the n-gram vector's length (`autonas.data.text.NGRAM_SCALE`)
    tokens: str = "words"  # how the embedded sequence cuts texts (`autonas.data.text.TOKENIZATIONS`)
    characters: bool = False  # the n-gram branch reads character n-grams too (`autonas.data.text.CHARACTER_NGRAMS`)


@dataclasses.dataclass(frozen=True)
class TfidfReference:
    """Not a network: scikit-learn's TF-IDF (word 1-2 grams, and character 2-5 grams beside
    them when `characters`) + logistic regression at `C`."""

    C: float = 1.0
    characters: bool = False


VARIANTS = {
    "base": Setting(),
    "reduce2": Setting(reductions=2),
    "adam3e-3": Setting(optimizer="adam", learning_rate=3e-3),
    "adam1e-2": Setting(optimizer="adam", learning_rate=1e-2),
    "dropout0.5": Setting(dropout=0.5),
    "embed32": Setting(embedding_dim=32),
    "embed128": Setting(embedding_dim=128),
    "max": Setting(pooling="max"),
    "attention": Setting(pooling="attention"),
    "fused": Setting(ngrams="fused"),
    "kim": Setting(pooling="max", cell="parallel"),
    "ngrams": Setting(ngrams="alone"),
    "ngrams-adam": Setting(ngrams="alone", optimizer="adam", learning_rate=3e-3),
    "sklearn-tfidf": TfidfReference(),
    "sklearn-tfidf-C10": TfidfReference(C=10.0),
    "sklearn-tfidf-C100": TfidfReference(C=100.0),
    "sklearn-tfidf-chars": TfidfReference(characters=True),
    "sklearn-tfidf-chars-C10": TfidfReference(C=10.0, characters=True),
    "adam-max": Setting(optimizer="adam", learning_rate=3e-3, pooling="max"),
    "adam-attention": Setting(optimizer="adam", learning_rate=3e-3, pooling="attention"),
    "adam-kim": Setting(optimizer="adam", learning_rate=3e-3, pooling="max", cell="parallel"),
    "adam-fused10": Setting(optimizer="adam", learning_rate=3e-3, ngrams="fused", ngram_scale=10.0),
    "adam-ngrams10": Setting(optimizer="adam", learning_rate=3e-3, ngrams="alone", ngram_scale=10.0),
    "adam-ngrams30": Setting(optimizer="adam", learning_rate=3e-3, ngrams="alone", ngram_scale=30.0),
    "adam-ngrams10-chars": Setting(optimizer="adam", learning_rate=3e-3, ngrams="alone", ngram_scale=10.0,
                                   characters=True),
    "adam-max-fused10": Setting(optimizer="adam", learning_rate=3e-3, pooling="max", ngrams="fused",
                                ngram_scale=10.0),
    **{f"{name}-{tokens}": dataclasses.replace(setting, tokens=tokens)
       for name, setting in (("adam-attention", Setting(optimizer="adam", learning_rate=3e-3, pooling="attention")),
                             ("adam-kim", Setting(optimizer="adam", learning_rate=3e-3, pooling="max",
                                                  cell="parallel")))
       for tokens in ("punctuation", "cased")},
    "adam-kim-punctuation-embed300-dropout0.5": Setting(optimizer="adam", learning_rate=3e-3, pooling="max",
                                                        cell="parallel", tokens="punctuation", embedding_dim=300,
                                                        dropout=0.5),
}
CELL_OPERATIONS = ("conv_3", "conv_5", "conv_7", "identity")


def fixed_cell(num_blocks):
    """Blocks alternating `conv_3` on the newest state and `conv_5` on the previous cell's output."""
    from autonas.space import Block, Cell

    blocks = [Block(0 if index == 0 else index + 1, CELL_OPERATIONS[0], 1, CELL_OPERATIONS[1])
              for index in range(num_blocks)]
    return Cell.from_blocks(blocks)


def sklearn_reference(x_train, y_train, x_val, C=1.0, characters=False):
    """TF-IDF (word 1-2 grams, with character 2-5 grams beside them when `characters`) + logistic
    regression, as `text_vs_peers.py` runs it (C=1): its class probabilities on `x_val`."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from benchmarks.text_vs_peers import tfidf_features

    pipeline = make_pipeline(tfidf_features(characters), LogisticRegression(C=C, max_iter=1000))
    return pipeline.fit(list(x_train), y_train).predict_proba(list(x_val))


def train_once(split, setting, seed, *, epochs, num_blocks, filters, normal_cells=1):
    """`(validation accuracy, seconds, sequence length, validation class probabilities,
    validation labels)` of one training of the fixed cell under `setting`."""
    import keras

    from autonas.data import text as text_data
    from autonas.data.labels import encode_labels, fit_classes
    from autonas.data.pipeline import from_arrays, split_arrays
    from autonas.engine.budget import CosineEpochs
    from autonas.space import CellHyperModel, CellSearchSpace, Genotype, NetworkSize
    from autonas.space.genotype import NGRAM_BRANCHES, POOLINGS, Head
    from autonas.space.starting_cells import parallel_cell

    classes = fit_classes(split.y_train)
    labels = encode_labels(split.y_train, classes)
    x_train, x_val, y_train, y_val = split_arrays(text_data.check_texts(split.x_train), labels, 0.2, seed)
    if isinstance(setting, TfidfReference):
        start = time.monotonic()
        probabilities = sklearn_reference(x_train, y_train, x_val, C=setting.C, characters=setting.characters)
        return accuracy(probabilities, y_val), time.monotonic() - start, None, probabilities, y_val
    spec = text_data.spec_from_texts(x_train, max_vocabulary=20000, sequence_length=None,
                                     embedding_dim=setting.embedding_dim, tokens=setting.tokens,
                                     character_ngrams=setting.characters)
    data = from_arrays(x_train.astype(str), y_train, x_val.astype(str), y_val, batch_size=128, seed=seed)
    cell = fixed_cell(num_blocks) if setting.cell == "fixed" else parallel_cell(num_blocks, CELL_OPERATIONS[:3])
    genotype = Genotype(normal=cell, reduce=cell if setting.reductions else None,
                        head=Head(pooling=setting.pooling, ngrams=setting.ngrams))
    space = CellSearchSpace(CELL_OPERATIONS, num_blocks=num_blocks, rank=1, reduction_cell=bool(setting.reductions),
                            poolings=POOLINGS, ngram_branches=NGRAM_BRANCHES)
    size = NetworkSize(filters=filters, normal_cells=normal_cells, reductions=setting.reductions,
                       dropout=setting.dropout)
    hypermodel = CellHyperModel(space, inputs_builder=spec.build_inputs,
                                ngrams_builder=functools.partial(spec.build_ngrams, scale=setting.ngram_scale),
                                num_classes=len(classes), size=size, optimizer=setting.optimizer,
                                learning_rate=setting.learning_rate)
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    start = time.monotonic()
    model = hypermodel.build_genotype(genotype)
    model.fit(data.train, epochs=epochs, verbose=0, shuffle=False,
              callbacks=[CosineEpochs(setting.learning_rate, epochs)])
    probabilities = model.predict(data.validation, verbose=0)
    return accuracy(probabilities, y_val), time.monotonic() - start, spec.sequence_length, probabilities, y_val


def split_epochs(part, default_epochs):
    """`(variant name, epochs)` of one part of a variant: "name@E" trains E epochs, "name" the
    default."""
    name, _, epochs = part.partition("@")
    if not epochs:
        return name, default_epochs
    return name, int(epochs) if epochs.isdigit() else 0


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--seeds", default="1,2")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--num-blocks", type=int, default=2)
    parser.add_argument("--filters", type=int, default=16)
    parser.add_argument("--normal-cells", type=int, default=1)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--json", default=None, metavar="PATH")
    args = parser.parse_args(argv)
    args.datasets = name_list(parser, args.datasets, text_datasets.ALL_NAMES, "data set")
    args.variants = [variant for variant in args.variants.split(",") if variant]
    for variant in args.variants:  # "a+b": the average of a's and b's class probabilities
        for part in variant.split("+"):
            name, epochs = split_epochs(part, args.epochs)
            name_list(parser, name, tuple(VARIANTS), "variant")
            if epochs < 1:
                parser.error(f"{part}: the epochs after '@' must be a positive integer")
    args.seeds = [int(s) for s in args.seeds.split(",") if s]
    return args


def main(argv=None):
    args = parse_args(argv)
    load_before = os.getloadavg()[0]
    runs = []
    for name in args.datasets:
        split = text_datasets.load(name, data_dir=args.data_dir)
        trained = {}  # (variant, seed) -> (seconds, length, probabilities, labels), shared by the averages
        for variant in args.variants:
            for seed in args.seeds:
                for part in variant.split("+"):
                    if (part, seed) not in trained:
                        part_name, epochs = split_epochs(part, args.epochs)
                        trained[part, seed] = train_once(split, VARIANTS[part_name], seed, epochs=epochs,
                                                         num_blocks=args.num_blocks, filters=args.filters,
                                                         normal_cells=args.normal_cells)[1:]
                parts = [trained[part, seed] for part in variant.split("+")]
                labels = parts[0][3]
                runs.append({"dataset": name, "variant": variant, "seed": seed,
                             "val_accuracy": accuracy(np.mean([p[2] for p in parts], axis=0), labels),
                             "seconds": sum(p[0] for p in parts), "sequence_length": parts[0][1]})
                say(json.dumps(runs[-1]))
    mean = {}
    for run in runs:
        mean.setdefault((run["dataset"], run["variant"]), []).append(run)
    lines = [f"Validation accuracy (mean of seeds {args.seeds}) of one fixed cell, {args.filters} filters, "
             f"{args.normal_cells} normal cell(s), {args.epochs} epochs; "
             "each variant changes one setting from `base`.", "",
             "| variant | " + " | ".join(args.datasets) + " | mean | seconds per training |",
             "|---|" + "---:|" * (len(args.datasets) + 2)]
    for variant in args.variants:
        scores = [np.mean([r["val_accuracy"] for r in mean[(d, variant)]]) for d in args.datasets]
        seconds = np.mean([r["seconds"] for d in args.datasets for r in mean[(d, variant)]])
        lines.append(f"| {variant} | " + " | ".join(f"{s:.4f}" for s in scores) + f" | {np.mean(scores):.4f} | "
                     f"{seconds:.1f} |")
    lines.append("")
    lines.append(f"_Load average {load_before:.1f} before / {os.getloadavg()[0]:.1f} after on {os.cpu_count()} "
                 "CPUs; seconds include building and tracing._")
    print_table(lines, args.json, {"config": vars(args), "runs": runs})
    return 0


if __name__ == "__main__":
    sys.exit(main())
