"""Image classification by architecture search over NASNet-style cells."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from autonas.data import images as image_data
from autonas.data.labels import check_labels, check_splittable, encode_labels, fit_classes
from autonas.data.pipeline import from_arrays, from_datasets, split_arrays
from autonas.space.operations import IMAGE_OPERATIONS
from autonas.tasks.base import SearchClassifier


class ImageSearchClassifier(SearchClassifier):
    """Search NASNet-style cells for an image classifier, then retrain the best at full size.

    A scikit-learn estimator: `__init__` only stores its arguments; `fit` validates, searches
    (on a small proxy network, `epochs` per trial) and retrains the winner (larger network,
    `final_epochs`, on training + validation data). Pixel scaling lives inside the model, so the
    exported SavedModel serves raw pixels.

    Args:
        max_trials: most architectures to try; None (default) tries as many as `time_limit`
            allows, or 10 without a time limit.
        epochs: training epochs per trial (the proxy budget); None (default) sizes them to
            `time_limit`: the first trial measures the pace, and every trial trains as many
            epochs (2 to 10) as let about 12 trials fit in the search's share, but no fewer
            than cover the first trial's tracing (`autonas.engine.trial_epochs`); 10 without a time limit.
        final_epochs: the most epochs for retraining the best architecture; None (default):
            as many as fit in what `time_limit` leaves (30 without a time limit).
        time_limit: wall-clock budget for the whole `fit`, seconds or a string like "10m";
            the search stops starting trials when an average trial no longer fits in its share
            (70% when `retrain`, 50% after a one-shot search, else all of it) and returns the
            best so far. None: no limit.
        oracle: "evolution" (regularized evolution, the default: docs/search-strategies.md has
            the measurements behind it), "reinforce" (an LSTM controller trained with REINFORCE),
            "random", or any `keras_tuner.Oracle` instance; or a one-shot search on a
            weight-sharing supernet: "enas" or "darts" (docs/one-shot.md).
        seed: None for a random run, or an int (0 included) fixing the sequence of proposed
            architectures and the data split.
        directory: where keras-tuner keeps trial records; None uses a temporary directory
            removed after `fit`. With a directory and `overwrite=False`, a search resumes where
            it stopped, even if its process was killed; resuming with a changed configuration
            raises ValueError (which settings count: `autonas.engine.resume`).
        overwrite: start afresh in `directory`, discarding earlier trials.
        verbose: 0 silent, 1 one line per trial, 2 also per-epoch output of the retraining.
        retrain: retrain the best genotype at the final size on all data (else keep the best
            trial's proxy model).
        batch_size: training batch size per replica (the global batch is this times the
            number of replicas of `distribution_strategy`).
        num_blocks: blocks per cell (B).
        operations: operation names to search over (default: the NASNet list).
        search_filters, search_normal_cells: proxy network size during the search.
        final_filters, final_normal_cells: network size of the retrained model.
        optimizer: "adam" (the default: on the digits, Fashion-MNIST and CIFAR-10 benchmark
            subsets it trained the plain cell 0.2-4.5 points above SGD in the same time,
            docs/results.md "Optimizer") or "sgd" (Nesterov momentum 0.9, as in NASNet, ENAS and
            DARTS, for long schedules).
        learning_rate: peak learning rate, cosine-decayed over each training; None picks the
            optimizer's default (0.1 for SGD, 3e-3 for Adam).
        dropout: dropout before the softmax head.
        warm_start: genotypes (or names of published cells: "nasnet_a", "amoebanet_a", "enas"
            need `num_blocks=5`) to try first; with oracle "evolution" they seed the initial
            population, with "reinforce" they are the first trials. None (default): a plain
            residual convolution cell, then the published cells that fit the space
            (`autonas.space.starting_cells`); [] for none.
        distribution_strategy: None (TensorFlow's default strategy), "mirrored" (every local
            GPU, or the logical devices configured), "multi_worker_mirrored" (the workers in
            `TF_CONFIG`) or a `tf.distribute.Strategy`; search trials and the final retraining
            train under it. Prefer a name: `sklearn.base.clone` copies parameters, and a copied
            strategy object is a new strategy.
        parallel_trials: trials run at once on this machine, because one small trial leaves
            cores or a GPU idle (two 1-thread trials on 2 cores finished in 0.57-0.84x the time
            of one 2-thread trial after another). Above 1, `fit` serves the search as the chief
            and starts that many worker processes, each with an equal share of the cores as
            TensorFlow threads (one GPU each on a GPU machine, in turn); data reach them
            through files in the search directory; the chief retrains the winner
            (docs/distribution.md). "auto": one per visible GPU, else one single-threaded trial
            per core. 1 (default): one trial at a time in this process (on the Fashion-MNIST
            subset 9 trials instead of 6.5 scored the same, and only then does a seed fix the
            architectures evolution proposes; docs/distribution.md).
        successive_halving: True (factor 3) or an int factor: the oracle also promotes the best
            trials, the top third of each rung, to train three times their epochs from their
            weights (asynchronous successive halving, `autonas.oracles.halving`; with
            "evolution", "reinforce" or "random"). False (default): every trial trains the same
            epochs; at the benchmark budgets rungs were behind on digits and CIFAR-10 and ahead
            on Fashion-MNIST (docs/results.md, "Successive halving against the default").
        objective: what the search optimises: "val_accuracy" (default), or a list of it and
            serving costs, e.g. ["val_accuracy", "latency_ms"], traded off as a Pareto front
            (`pareto_front_`): "params", "flops" (of one sample's forward pass), "latency_ms"
            (median milliseconds of one call on one sample, on this machine) and
            "batch_latency_ms" (on `latency_batch_size` samples). With costs, every trial
            measures them all before training, on the model `fit` returns for it, which is
            the final size when it retrains without a `time_limit`, else the search size; evolution selects by Pareto rank, reinforce rewards
            MnasNet's accuracy x (cost ratio)^-0.07 (docs/search-strategies.md, "Accuracy
            against cost").
        max_params, max_latency_ms: limits on the returned model's parameters and latency (one
            sample); an architecture over one is not trained, and never returned.
        latency_batch_size: a batch size to time the model at as well ("batch_latency_ms").
        width_multipliers: multiples of the network's filters (search and final sizes alike)
            for the search to choose from, as MobileNet's width multiplier
            (`best_genotype_.width_multiplier`); one value fixes it. None (default): 1 alone,
            or (0.25, 0.5, 1) in a search with costs, so that its front offers models of
            several sizes and not only several cells (docs/search-strategies.md).

    Learned attributes, set by `fit` and described in `SearchClassifier`: classes_,
    best_genotype_, best_score_, model_ (raw pixels in, probabilities out), input_spec_,
    leaderboard_, pareto_front_, selected_trial_, search_history_, retrained_size_, search_seconds_, search_role_,
    trial_workers_ (trial id -> the worker, "worker0", ..., that ran it).

    Example:
        >>> from sklearn.datasets import load_digits
        >>> digits = load_digits()
        >>> clf = ImageSearchClassifier(max_trials=2, epochs=2, final_epochs=2, verbose=0, seed=0)
        >>> clf.fit(digits.images[:300], digits.target[:300]).predict(digits.images[:2]).shape
        (2,)
    """

    project_name = "image_search"
    rank = 2

    def __sklearn_tags__(self):
        """Images are 3-D (N, H, W) or 4-D (N, H, W, C) arrays, never flat feature rows."""
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags

    def _default_operations(self):
        return IMAGE_OPERATIONS

    def _prepare_fit_data(self, x, y, validation_split, validation_data, seed, batch_size):
        if isinstance(x, tf.data.Dataset):
            return self._prepare_dataset(x, y, validation_split, validation_data, seed, batch_size)
        x = image_data.check_images(x)
        y = check_labels(y, len(x))
        classes = fit_classes(y)
        labels = encode_labels(y, classes)
        if validation_data is not None:
            x_train, y_train = x, labels
            x_val, y_val = _unpack_validation(validation_data)
            x_val = image_data.check_images(x_val, name="validation x")
            if x_val.shape[1:] != x.shape[1:]:
                raise ValueError(f"validation images have shape {x_val.shape[1:]} but training images {x.shape[1:]}.")
            y_val = encode_labels(check_labels(y_val, len(x_val)), classes)
        else:
            check_splittable(labels, classes)
            x_train, x_val, y_train, y_val = split_arrays(x, labels, validation_split, seed)
        spec = image_data.spec_from_array(x)
        data = from_arrays(x_train, y_train, x_val.astype(x.dtype), y_val, batch_size=batch_size, seed=seed)
        return data, spec, classes

    def _prepare_dataset(self, dataset, y, validation_split, validation_data, seed, batch_size):
        if y is not None:
            raise ValueError("x is a tf.data.Dataset of (image, label) pairs, so y must be None.")
        spec, labels, batched = image_data.scan_image_dataset(dataset)
        classes = fit_classes(labels)
        lookup = image_data.label_lookup(classes)
        dataset = dataset.unbatch() if batched else dataset
        if validation_data is not None:
            if not isinstance(validation_data, tf.data.Dataset):
                raise ValueError("With a tf.data.Dataset for x, validation_data must be a dataset as well.")
            val_spec, val_labels, val_batched = image_data.scan_image_dataset(validation_data)
            if val_spec.shape != spec.shape:
                raise ValueError(f"validation images have shape {val_spec.shape} but training images {spec.shape}.")
            encode_labels(val_labels, classes)  # unknown classes are an error
            train, validation = dataset, validation_data.unbatch() if val_batched else validation_data
            train_size, validation_size = len(labels), len(val_labels)
        else:
            validation_size = int(round(len(labels) * validation_split))
            if not 0 < validation_size < len(labels):
                raise ValueError(f"validation_split={validation_split} leaves an empty training or validation set "
                                 f"for {len(labels)} samples; pass validation_data.")
            # The dataset must iterate in the same order each time for this split to hold.
            train_size = len(labels) - validation_size
            train, validation = dataset.take(train_size), dataset.skip(train_size)

        def encode(image, label):
            return image, lookup(label)

        # take/skip/unbatch lose the element count; restoring it lets Keras size its epochs.
        train = train.apply(tf.data.experimental.assert_cardinality(train_size))
        validation = validation.apply(tf.data.experimental.assert_cardinality(validation_size))

        data = from_datasets(train.map(encode), validation.map(encode), train_size=train_size,
                             validation_size=validation_size, batch_size=batch_size, seed=seed)
        return data, spec, classes

    def _check_predict_inputs(self, x):
        if isinstance(x, tf.data.Dataset):
            return self.input_spec_.check_dataset(x, self.batch_size)
        return self.input_spec_.check(x)

    def _probe_inputs(self):
        spec = self.input_spec_
        rng = np.random.default_rng(0)
        shape = (8, *spec.shape)
        dtype = np.dtype(spec.dtype)
        if dtype.kind in "ui":
            high = min(255, np.iinfo(dtype).max)
            return rng.integers(0, high + 1, size=shape).astype(dtype)
        mean = np.asarray(spec.mean)  # per channel: broadcasts over (H, W, C) and, as one value, (H, W)
        std = np.sqrt(np.asarray(spec.variance))
        return (mean + std * rng.standard_normal(shape)).astype(dtype)


def _unpack_validation(validation_data):
    try:
        x_val, y_val = validation_data
    except (TypeError, ValueError):
        raise ValueError("validation_data must be a pair (x_val, y_val).") from None
    return x_val, y_val
