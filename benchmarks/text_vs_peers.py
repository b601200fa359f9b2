"""autonas's text search against its peers, on the same data and the same wall-clock budget.

Data (`benchmarks/text_datasets.py`, read from `--data-dir`): TREC question type (6 classes,
5,452 train / 500 test) and SST-2 (binary; the training pool is `stsa.binary.train` +
`stsa.binary.dev`, 6,920 + 872 sentences: the dev split is used as extra training data / 1,821
test), their official splits; MR and Subj (binary, 10,662 and 10,000 sentences) with a fixed
stratified 10% test split; and, asked for by name, `passages`: MR's sentences of one class joined
15 at a time (about 300 tokens a text, 639 / 71), the long-text row whose point is whether a
fit ends within its time limit. Every system gets the same training pool, holds out its own 20%
of it to score trials (the same stratified split, by `--seed`, for autonas and keras-tuner;
AutoKeras takes its own 20%), and is scored once on the test split.

Systems (each gets the same pool and the same budget, one after the other, in one process run, so
that machine load hits them alike; timings on a shared machine are noisy, so compare within one
run and read ratios rather than absolute seconds):

- `autonas`: `TextSearchClassifier(max_trials=--max-trials, time_limit=budget, seed=--seed,
  verbose=1)`, library defaults otherwise (its default oracle, epochs per trial, 70% of the
  budget for the search and the rest for retraining the best cell at the final size; `--epochs`
  and `--final-epochs` are passed only when given). When its final model averages the winner
  with the n-grams network (`blend_ngrams`), the notes also give each network's own test
  accuracy (`members_test_accuracy` in the JSON).
- `autonas-rungs`: the same with `successive_halving=True` (the top third of each rung's trials
  go on to train three times their epochs from their weights, `autonas.oracles.halving`); run
  only when named.
- `kerastuner`: keras-tuner `RandomSearch` over a Kim (2014) CNN-style hypermodel: a
  `TextVectorization` layer inside the model (vocabulary of at most 20,000 words adapted once on
  the search's training texts, sequence length the 95th percentile of their token counts within
  [8, 256]: autonas's rules, computed here without autonas), an embedding (64/128/256), parallel Conv1D + ReLU +
  global max pooling over kernel sizes "3,4,5" / "2,3,4" / "3" with 64/128 filters,
  concatenated, dropout 0.2-0.5, softmax, Adam with a learning rate in 1e-4..1e-2 (log). Strings
  go through tf.data. Budgeted as in `image_vs_peers.py`: no trial is started once the mean trial
  no longer fits in 70% of the budget, then the best hyperparameters are retrained on the whole
  pool for up to `--final-epochs` (30), stopped by the budget (never fewer epochs than a trial
  had); if not even that fits, the best trial's model is kept. Epochs per trial: `--epochs`,
  else the epochs autonas plans for its first trial (`DEFAULT_TRIAL_EPOCHS`, 10).
- `autokeras`: AutoKeras 3.0.0 `TextClassifier` (its default `TextClassifierTuner`, greedy, that
  starts from its preset text CNN), `max_trials=--autokeras-trials`, the same epochs per trial,
  run in its own virtual environment (`--autokeras-python`, default
  /work/venvs/autokeras/bin/python, see benchmarks/README.md) by `benchmarks/_autokeras_worker.py
  --task text`. The budget clock starts when the worker has imported TensorFlow and loaded the
  data; at the end of the budget the worker is killed and the row says DID NOT FINISH, with what
  it had (trials completed, the best trial's validation accuracy and that model's test accuracy).
  Skipped with a note when the venv is absent.
- References, not competitors at equal budget: TF-IDF (word 1-2 grams) + scikit-learn
  `LogisticRegression(max_iter=1000)` trained on the same pool in the same run (test accuracy
  and seconds), and the stronger one a tuning user builds: character 2-5 grams beside the words
  and C from 1, 10, 100 by 3-fold cross-validation (`run_reference`). The table header also
  gives Kim (2014) CNN-rand's published accuracy (TREC 91.2, SST-2 82.7 on their test splits;
  MR 76.1, Subj 89.6 by 10-fold cross-validation): published, not measured here.

"serves raw strings": whether the system's exported model takes a batch of raw strings. autonas:
`clf.export(dir)`, `tf.saved_model.load(dir).serve(tf.constant(texts))` on 200 test texts,
compared with `clf.predict_proba`. keras-tuner: `model.export(dir, format="tf_saved_model")`,
the same call, compared with `model.predict`. AutoKeras (in its worker, after `fit`):
`clf.export_model()`, then the same export and call, compared with the model's probabilities on
AutoKeras's own preprocessing of the texts. "yes" comes with the largest absolute difference in
probability; "no" with the first line of the error.

Usage (from the repository root):
    python benchmarks/text_vs_peers.py --json text_results.json
    python benchmarks/text_vs_peers.py --datasets trec --budget 90 --systems autonas,kerastuner,autokeras
    python benchmarks/text_vs_peers.py --datasets passages --budget 600 --systems autonas

Options (defaults in brackets):
    --datasets       trec,sst2,mr,subj and passages [trec,sst2,mr,subj].
    --systems        autonas,autonas-rungs,kerastuner,autokeras [autonas,kerastuner,autokeras].
    --budget         seconds per system, one number or per data set [900 each].
    --epochs         epochs per trial, one number or per data set; forces autonas's `epochs` too
                     [autonas: sized to the budget; keras-tuner and AutoKeras: 10].
    --final-epochs   most epochs of the final retraining; forces autonas's `final_epochs` too
                     [autonas: by its time limit; keras-tuner: 30].
    --max-trials     trial cap for autonas and keras-tuner; the budget normally stops them [200].
    --autokeras-trials  AutoKeras's max_trials [10].
    --autokeras-python  the AutoKeras environment's python [/work/venvs/autokeras/bin/python or
                     $AUTOKERAS_PYTHON].
    --seed           search-split and search seed [0].
    --data-dir       directory of the sentence files [$AUTONAS_TEXT_DATA, else
                     <repo>/../shared/data/text/sentences].
    --json PATH      write every number measured.

Markdown tables go to stdout; progress goes to stderr.
"""
import argparse
import contextlib
import gc
import os
import sys
import tempfile
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before anything imports TensorFlow
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # `benchmarks` from anywhere

from benchmarks import _harness as harness  # noqa: E402
from benchmarks import text_datasets as text_data  # noqa: E402
from benchmarks._harness import BATCH_SIZE, VALIDATION_SPLIT, first_line, say  # noqa: E402
from benchmarks.datasets import DatasetUnavailable  # noqa: E402

SYSTEMS = ("autonas", "autonas-rungs", "kerastuner", "autokeras")
DEFAULT_BUDGET = {name: 900.0 for name in text_data.ALL_NAMES}  # the 15-minute budget of the issue
DEFAULT_EPOCHS = {name: None for name in text_data.ALL_NAMES}  # None: autonas's default
DEFAULT_FINAL_EPOCHS = 30  # keras-tuner's most retraining epochs when autonas's are not forced
# Kim (2014), Table 2, CNN-rand accuracy (%): test splits for TREC and SST-2, 10-fold CV for MR and Subj
KIM_CNN_RAND = {"trec": 91.2, "sst2": 82.7, "mr": 76.1, "subj": 89.6}
MAX_VOCABULARY = 20_000
SERVE_CHECK_SIZE = 200  # test texts sent to each exported model


# --------------------------------------------------------------------------- arguments
def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    harness.add_common_arguments(parser, text_data.ALL_NAMES, SYSTEMS)
    parser.set_defaults(datasets=",".join(text_data.NAMES), systems="autonas,kerastuner,autokeras")
    parser.set_defaults(final_epochs=None)  # None: autonas's default, for autonas and keras-tuner alike
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=None,
                        help=f"directory of the sentence files (default: ${text_data.ENVIRONMENT_VARIABLE}, "
                             f"else {text_data.DEFAULT_DIRECTORY})")
    parser.add_argument("--json", default=None, metavar="PATH")
    args = parser.parse_args(argv)
    args = harness.check_common_arguments(parser, args, text_data.ALL_NAMES, SYSTEMS, DEFAULT_BUDGET,
                                          DEFAULT_EPOCHS)
    if args.final_epochs is not None and args.final_epochs < 1:
        parser.error("--final-epochs must be >= 1")
    return args


def resolve_autonas_defaults(args):
    """What autonas is told beyond its defaults (`args.autonas_kwargs`: only what was given), and
    the epochs per trial and final epochs of keras-tuner and AutoKeras (given, else
    `DEFAULT_TRIAL_EPOCHS` and `DEFAULT_FINAL_EPOCHS`)."""
    from autonas.engine.trial_epochs import DEFAULT_TRIAL_EPOCHS

    args.autonas_kwargs = {name: {} for name in text_data.ALL_NAMES}
    for name, epochs in args.epochs.items():
        if epochs is not None:
            args.autonas_kwargs[name]["epochs"] = epochs
        else:
            args.epochs[name] = DEFAULT_TRIAL_EPOCHS
        if args.final_epochs is not None:
            args.autonas_kwargs[name]["final_epochs"] = args.final_epochs
    if args.final_epochs is None:
        args.final_epochs = DEFAULT_FINAL_EPOCHS
    return args


# --------------------------------------------------------------------------- shared helpers
def string_dataset(texts, labels=None, *, shuffle_seed=None):
    """Batched tf.data of raw strings (Keras 3 `fit` fails on numpy string arrays)."""
    import tensorflow as tf

    strings = tf.constant(np.asarray(texts).astype(str))
    dataset = tf.data.Dataset.from_tensor_slices(strings if labels is None else (strings, np.asarray(labels)))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(texts), seed=shuffle_seed, reshuffle_each_iteration=True)
    return dataset.batch(BATCH_SIZE)


def warm_up_strings():
    """One tiny string model, so that TensorFlow's one-off costs for text ops hit no budget."""
    import keras

    texts = np.array(["a warm up text", "another one", "and a third"], dtype=object)
    vectorize = keras.layers.TextVectorization(output_sequence_length=4)
    vectorize.adapt(texts.astype(str))
    inputs = keras.Input(shape=(), dtype="string")
    outputs = keras.layers.Dense(2, activation="softmax")(
        keras.layers.GlobalMaxPooling1D()(keras.layers.Embedding(vectorize.vocabulary_size(), 4)(vectorize(inputs))))
    model = keras.Model(inputs, outputs)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(string_dataset(texts, np.array([0, 1, 0])), epochs=1, verbose=0)
    keras.backend.clear_session()


def check_serving(export, predict, texts):
    """Export with `export(path)`, load the SavedModel in this process, call its `serve` on a
    tf.string batch of raw `texts` and compare with `predict(texts)`."""
    import tensorflow as tf

    check = {"serve_inputs": len(texts)}
    with tempfile.TemporaryDirectory(prefix="serve-check-") as directory, contextlib.redirect_stdout(sys.stderr):
        path = os.path.join(directory, "export")
        try:
            export(path)
            loaded = tf.saved_model.load(path)  # keep a reference while serving: its variables die with it
            served = np.asarray(loaded.serve(tf.constant(np.asarray(texts).astype(str))))
        except Exception as error:
            return dict(check, serves_raw_strings=False, serve_note=f"no: {first_line(error, 200)}")
        expected = np.asarray(predict(texts))
    difference = float(np.max(np.abs(served - expected)))
    note = f"yes (max abs diff vs predict {difference:.1e})"
    if not difference <= 1e-4:
        note = f"yes, but its probabilities differ from predict by up to {difference:.2g}"
    return dict(check, serves_raw_strings=True, serve_max_abs_diff=difference, serve_note=note)


# --------------------------------------------------------------------------- autonas
def run_autonas(split, budget, epochs, args, successive_halving=False):
    import keras

    from autonas import TextSearchClassifier

    keras.backend.clear_session()
    gc.collect()
    clf = TextSearchClassifier(max_trials=args.max_trials, time_limit=budget, seed=args.seed, verbose=1,
                               successive_halving=successive_halving, **args.autonas_kwargs[split.name])
    result, _, _ = harness.fit_autonas(clf, split, budget, epochs)  # epochs None: sized to the budget
    spec = getattr(clf, "input_spec_", None)
    result.update(system="autonas-rungs" if successive_halving else "autonas",
                  retrained=clf.retrained_size_ is not None, oracle=clf.oracle,
                  sequence_length=getattr(spec, "sequence_length", None),
                  vocabulary_size=len(getattr(spec, "vocabulary", ())) or None)
    result["notes"] += f"; best val acc {result['best_val_accuracy']:.4f}"
    if getattr(clf, "blended_trial_", None) is not None:
        result["members_test_accuracy"] = member_accuracies(clf, split)
        result["notes"] += (f"; averaged with trial {clf.blended_trial_}'s n-grams network (test accuracy alone: "
                            + ", ".join(f"{name} {value:.4f}" for name, value in
                                        result["members_test_accuracy"].items()) + ")")
    result.update(check_serving(clf.export, clf.predict_proba, split.x_test[:SERVE_CHECK_SIZE]))
    return result, None


def member_accuracies(clf, split):
    """Test accuracy of each network an averaged model (`blend_ngrams`) averages, alone: what
    the average added."""
    import keras
    import tensorflow as tf

    inputs = tf.constant(np.asarray(split.x_test).astype(str))
    accuracies = {}
    for member in (layer for layer in clf.model_.layers if isinstance(layer, keras.Model)):
        predicted = clf.classes_[np.argmax(member.predict(inputs, batch_size=256, verbose=0), axis=1)]
        accuracies[member.name.split("_")[0]] = float(np.mean(predicted == split.y_test))
    return accuracies


# --------------------------------------------------------------------------- keras-tuner
def kim_cnn_hypermodel(vocabulary, sequence_length, num_classes):
    """A keras-tuner HyperModel of Kim (2014)-style CNNs over raw strings: tokenizer, embedding,
    parallel Conv1D + global max pooling, concatenation, dropout, softmax."""
    import keras
    import keras_tuner
    from keras import layers

    class KimCNN(keras_tuner.HyperModel):
        def build(self, hp):
            embedding_dim = hp.Choice("embedding_dim", [64, 128, 256])
            kernel_sizes = hp.Choice("kernel_sizes", ["3,4,5", "2,3,4", "3"])
            filters = hp.Choice("filters", [64, 128])
            dropout = hp.Float("dropout", 0.2, 0.5, step=0.1)
            learning_rate = hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")
            inputs = keras.Input(shape=(), dtype="string", name="text")
            # The vocabulary was adapted once; TextVectorization adds the padding and unknown tokens.
            tokens = layers.TextVectorization(vocabulary=list(vocabulary), output_sequence_length=sequence_length,
                                              name="tokenize")(inputs)
            x = layers.Embedding(len(vocabulary) + 2, embedding_dim, name="embed")(tokens)
            pooled = [layers.GlobalMaxPooling1D()(layers.Conv1D(filters, int(size), activation="relu")(x))
                      for size in kernel_sizes.split(",")]
            x = layers.Concatenate()(pooled) if len(pooled) > 1 else pooled[0]
            x = layers.Dropout(dropout)(x)
            return harness.softmax_classifier(inputs, x, num_classes, learning_rate)

    return KimCNN(name="kim_cnn")


def adapt_vocabulary(texts):
    """`(vocabulary, sequence_length)` of `texts`, adapted once: the most frequent words (at most
    `MAX_VOCABULARY`, without the padding and unknown tokens) and the 95th percentile of the token
    counts within [8, 256] (autonas's rule)."""
    import keras

    strings = np.asarray(texts).astype(str)
    adapter = keras.layers.TextVectorization(max_tokens=MAX_VOCABULARY + 2)  # + padding and unknown tokens
    adapter.adapt(strings)
    vocabulary = [str(token) for token in adapter.get_vocabulary() if token not in ("", "[UNK]")]
    token_counts = np.count_nonzero(np.asarray(adapter(strings)), axis=1)
    return vocabulary, int(np.clip(np.ceil(np.percentile(token_counts, 95)), 8, 256))


def run_kerastuner(split, budget, epochs, args):
    start, (x, y), (x_train, x_val, y_train, y_val) = harness.begin_search(split, args.seed)
    vocabulary, sequence_length = adapt_vocabulary(x_train)
    hypermodel = kim_cnn_hypermodel(vocabulary, sequence_length, int(len(np.unique(y))))
    search_kwargs = dict(validation_data=string_dataset(x_val, y_val), epochs=epochs, verbose=0)
    result, run = harness.kerastuner_search(
        hypermodel, split, start=start, budget=budget, epochs=epochs, args=args, project_name="kim_cnn",
        search_args=(string_dataset(x_train, y_train, shuffle_seed=args.seed),), search_kwargs=search_kwargs,
        full_share=len(x) / len(x_train),
        fit_full=lambda model, final_epochs, callbacks: model.fit(
            string_dataset(x, y, shuffle_seed=args.seed), epochs=final_epochs, verbose=0, callbacks=callbacks),
        evaluate=lambda model: float(model.evaluate(string_dataset(split.x_test, split.y_test), verbose=0)[1]))
    result.update(sequence_length=sequence_length, vocabulary_size=len(vocabulary))
    result["notes"] += f"; best val acc {result['best_val_accuracy']:.4f}"
    model = run.model
    result.update(check_serving(lambda path: model.export(path, format="tf_saved_model", verbose=False),
                                lambda texts: model.predict(string_dataset(texts), verbose=0),
                                split.x_test[:SERVE_CHECK_SIZE]))
    return result, None


# --------------------------------------------------------------------------- AutoKeras
def run_autokeras(split, budget, epochs, args):
    result, worker = harness.run_autokeras(split, budget, epochs, args, task="text")
    worker = worker or {}
    for key in ("serves_raw_strings", "serve_max_abs_diff", "serve_note", "serve_inputs", "serve_input_signature",
                "serve_error", "predicted_class_counts"):
        if key in worker:
            result[key] = worker[key]
    counts = worker.get("predicted_class_counts") or {}
    if len(counts) == 1:
        result["notes"] += f"; predicted class {next(iter(counts))} for every test text"
    if "serve_note" not in result and not result.get("skipped"):
        result["serve_note"] = "not measured (fit did not return)"
    return result, None


# --------------------------------------------------------------------------- reference
# The penalties the stronger reference chooses from by 3-fold cross-validation on the pool.
REFERENCE_CS = (1.0, 10.0, 100.0)


def tfidf_features(characters=False):
    """scikit-learn's TF-IDF over word 1-2 grams, with character 2-5 grams beside them (a
    `FeatureUnion`, each part unit length) when `characters`: the references' features."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_union

    words = TfidfVectorizer(ngram_range=(1, 2))
    return make_union(words, TfidfVectorizer(analyzer="char", ngram_range=(2, 5))) if characters else words


def run_reference(split, characters=False):
    """TF-IDF (word 1-2 grams) + logistic regression on the whole pool: a reference, no search.

    With `characters`, the stronger one a user who tunes would build: character 2-5 grams beside
    the words (scikit-learn's `FeatureUnion`, each part unit length) and C chosen from
    `REFERENCE_CS` by 3-fold cross-validation on the pool (the whole time counted)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    start = time.monotonic()
    pipeline = make_pipeline(tfidf_features(characters), LogisticRegression(max_iter=1000))
    if characters:
        pipeline = GridSearchCV(pipeline, {"logisticregression__C": list(REFERENCE_CS)}, cv=3)
    pipeline.fit(list(split.x_train), split.y_train)
    fit_seconds = time.monotonic() - start
    test_accuracy = float(pipeline.score(list(split.x_test), split.y_test))
    fitted = pipeline.best_estimator_ if characters else pipeline
    classifier = fitted[-1]
    feature_count = classifier.coef_.shape[1]
    if characters:
        name = "tfidf words+chars, C by CV (reference)"
        described = (f"TF-IDF word 1-2 grams and character 2-5 grams ({feature_count:,} features) + "
                     f"LogisticRegression(C={classifier.C:g}, chosen from {list(REFERENCE_CS)} by 3-fold CV)")
    else:
        name = "tfidf+logreg (reference)"
        described = f"TF-IDF word 1-2 grams ({feature_count:,} features) + LogisticRegression(max_iter=1000)"
    return {
        "system": name, "dataset": split.name, "budget_s": None, "reference": True,
        "trials_finished": None, "test_accuracy": test_accuracy,
        "params": int(classifier.coef_.size + classifier.intercept_.size), "wall_s": fit_seconds,
        "fit_s": fit_seconds, "predict_s": time.monotonic() - start - fit_seconds, "finished": True,
        "features": feature_count, "serve_note": "n/a (a scikit-learn pipeline on raw strings; no SavedModel)",
        "notes": f"REFERENCE, not a competitor at equal budget: no search, trained once on the same pool; {described}",
    }


# --------------------------------------------------------------------------- report
def preamble(split, args):
    pool = "the whole training pool" + (" (train + dev: the dev split is used as extra training data)"
                                        if split.name == "sst2" else "")
    forced = args.autonas_kwargs[split.name]
    autonas_epochs = (f"autonas {forced['epochs']}" if "epochs" in forced
                      else "autonas sized to its budget (see trial epochs in the JSON)")
    autonas_final = (f"autonas up to {forced['final_epochs']}" if "final_epochs" in forced
                     else "autonas as many as its time limit allows")
    lines = [
        f"Each system gets {pool} and the same wall-clock budget, one after the other in this run, holds out "
        f"its own {VALIDATION_SPLIT:.0%} of the pool to score trials and is scored once on the test split. "
        f"Epochs per trial: {autonas_epochs}; keras-tuner and AutoKeras {args.epochs[split.name]}. Final "
        f"retraining: {autonas_final}; keras-tuner up to {args.final_epochs}.",
    ]
    if split.name in KIM_CNN_RAND:
        lines.append(f"Published, not measured here: Kim (2014) CNN-rand (random embeddings), "
                     f"{KIM_CNN_RAND[split.name]:.1f}% (TREC 91.2 and SST-2 82.7 on their test splits; "
                     f"MR 76.1 and Subj 89.6 by 10-fold cross-validation).")
    return lines


def run_autonas_rungs(split, budget, epochs, args):
    return run_autonas(split, budget, epochs, args, successive_halving=True)


RUNNERS = {"autonas": run_autonas, "autonas-rungs": run_autonas_rungs, "kerastuner": run_kerastuner,
           "autokeras": run_autokeras}


def main(argv=None):
    args = parse_args(argv)
    splits = []
    for name in args.datasets:
        try:
            splits.append(text_data.load(name, data_dir=args.data_dir))
        except DatasetUnavailable as error:
            raise SystemExit(f"{os.path.basename(__file__)}: error: {error}") from None
    started = time.monotonic()
    load_before = os.getloadavg()
    say(f"load average before: {load_before[0]:.2f} (1 min) on {os.cpu_count()} CPUs")
    resolve_autonas_defaults(args)
    harness.warm_up()
    warm_up_strings()
    report = {"config": {k: v for k, v in vars(args).items()}, "environment": harness.versions(args),
              "published": {"kim2014_cnn_rand_test_accuracy_percent": KIM_CNN_RAND}, "datasets": {}, "results": []}
    tables = []
    for split in splits:
        report["datasets"][split.name] = split.description
        rows = []
        for system in args.systems:
            # autonas's epochs: None (sized to its budget) unless forced
            epochs = (args.autonas_kwargs[split.name].get("epochs") if system.startswith("autonas")
                      else args.epochs[split.name])
            with contextlib.redirect_stdout(sys.stderr):  # stdout is for the tables
                result, _ = harness.run_guarded(RUNNERS[system], system, split, args.budget[split.name], epochs, args)
            rows.append(result)
            report["results"].append(result)
        for characters in (False, True):
            say(f"== {split.name} / reference: TF-IDF + logistic regression{', with characters' * characters}")
            reference = run_reference(split, characters=characters)
            say(f"   -> test accuracy {reference['test_accuracy']:.4f} in {reference['wall_s']:.1f}s")
            rows.append(reference)
            report["results"].append(reference)
        tables.append(harness.results_table(
            f"{split.name}: {split.description}", rows, preamble=preamble(split, args),
            extra_columns=[("serves raw strings", lambda r: r.get("serve_note") or "—")]))
    harness.publish(tables, report, started=started, load_before=load_before, json_path=args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
