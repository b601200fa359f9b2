"""What every search classifier shares: parameters, fit, predict, leaderboard and export.

The estimator is thin: it stores parameters, prepares inputs, and sets learned attributes. The
work is the engine's: `autonas.engine.search.run_search` searches and
`autonas.engine.retrain.retrain_best` retrains the winner. A task subclass only says how its
inputs are validated and preprocessed (`_prepare_fit_data`, `_check_predict_inputs`,
`_probe_inputs`) and which operations its cells use.
"""
from __future__ import annotations

import copy
import functools
import warnings

import numpy as np
import pandas as pd
import scipy.sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.validation import check_is_fitted

from autonas.cluster.local import local_chief, parallel_trial_count
from autonas.distribute.strategies import global_batch_size, make_strategy
from autonas.data.labels import check_labels, check_scored_labels
from autonas.data.pipeline import check_validation_split
from autonas.engine.blend import averaged_model, train_partner
from autonas.engine.budget import Deadline, SearchDeadline
from autonas.engine.objectives import SearchObjective
from autonas.engine.retrain import quick_retraining_seconds, retrain_best, search_share, train_architecture
from autonas.engine.search import check_search, is_one_shot, run_search, search_directory, search_seed
from autonas.engine.user_callbacks import check_callbacks
from autonas.export import export_saved_model, jsonable_classes
from autonas.oracles.halving import trained_epochs
from autonas.space.hypermodel import CellHyperModel, CellSearchSpace
from autonas.space.network import NetworkSize, default_reductions
from autonas.tasks.parameters import check_parameters


# The width multipliers a search with costs tries when `width_multipliers` is None: a front
# should offer models of several sizes, and the cells of one width spanned only 242-529 k
# parameters on the Fashion-MNIST subset (docs/search-strategies.md, "Accuracy against cost").
COST_WIDTH_MULTIPLIERS = (0.25, 0.5, 1.0)


class SearchClassifier(ClassifierMixin, BaseEstimator):
    """Base of the search classifiers (see `ImageSearchClassifier` for the parameters).

    The learned attributes are set by `fit`, all in `_set_learned`.

    Attributes:
        classes_: the sorted class labels.
        best_genotype_: the winning `Genotype`.
        best_score_: its validation accuracy in the search (shared-weight accuracy after a
            one-shot search).
        model_: the fitted Keras model (raw inputs in, class probabilities out).
        input_spec_: shape, dtype and normalisation statistics of the inputs.
        leaderboard_: every trial or derived candidate as a DataFrame (see `leaderboard()`).
        pareto_front_: the trials no other trial within the limits beats on every objective,
            as leaderboard rows, most accurate first (with `objective="val_accuracy"`: the
            best); `select` or `export(trial=...)` turns any of them into the model.
        selected_trial_: the trial whose architecture `model_` has (None after a one-shot search).
        blended_trial_: the trial whose n-grams network `model_` averages with the selected
            one's (texts, `blend_ngrams`), or None.
        search_history_: per-epoch statistics of a one-shot search (controller entropy, mean
            reward, ...) as a DataFrame; None after a trial search.
        retrained_size_: the `NetworkSize` the winner was retrained at; None when the best
            trial's model was kept (`retrain=False`, or no time left to retrain).
        search_seconds_: wall seconds of the whole `fit`.
        search_role_: "chief" or "worker" in keras-tuner's chief/worker mode (a fit with
            `parallel_trials` above 1 is the chief of its own workers), else None. A
            worker's `fit` sets only this, `worker_trials_` (the trials it ran) and
            `search_seconds_`: the chief holds the result.
        trial_workers_: on the chief, trial id -> the tuner ids it was given to; else None.
    """

    project_name = "search"
    rank = 2

    def __init__(self, *, max_trials=None, epochs=None, final_epochs=None, time_limit=None, oracle="evolution",
                 seed=None, directory=None, overwrite=False, verbose=1, retrain=True, batch_size=128,
                 num_blocks=4, operations=None, search_filters=16, search_normal_cells=1, final_filters=32,
                 final_normal_cells=2, optimizer="adam", learning_rate=None, dropout=0.2, warm_start=None,
                 distribution_strategy=None, parallel_trials=1, successive_halving=False, objective="val_accuracy",
                 max_params=None, max_latency_ms=None, latency_batch_size=None, width_multipliers=None):
        self.max_trials = max_trials
        self.epochs = epochs
        self.final_epochs = final_epochs
        self.time_limit = time_limit
        self.oracle = oracle
        self.seed = seed
        self.directory = directory
        self.overwrite = overwrite
        self.verbose = verbose
        self.retrain = retrain
        self.batch_size = batch_size
        self.num_blocks = num_blocks
        self.operations = operations
        self.search_filters = search_filters
        self.search_normal_cells = search_normal_cells
        self.final_filters = final_filters
        self.final_normal_cells = final_normal_cells
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.dropout = dropout
        self.warm_start = warm_start
        self.distribution_strategy = distribution_strategy
        self.parallel_trials = parallel_trials
        self.successive_halving = successive_halving
        self.objective = objective
        self.max_params = max_params
        self.max_latency_ms = max_latency_ms
        self.latency_batch_size = latency_batch_size
        self.width_multipliers = width_multipliers

    def __sklearn_tags__(self):
        """scikit-learn's tags (read by its estimator checks and meta-estimators): a fixed `seed`
        fixes the architectures and the data split but not the weights' initialisation, which
        Keras draws from its global random state, so two fits differ (`non_deterministic`).
        Each task says which inputs it takes. docs/sklearn.md has what this means for
        scikit-learn's conformance checks."""
        tags = super().__sklearn_tags__()
        tags.non_deterministic = True
        return tags

    # ----------------------------------------------------------------- task hooks
    def _default_operations(self):
        raise NotImplementedError

    def _prepare_fit_data(self, x, y, validation_split, validation_data, seed, batch_size):
        """Return `(PreparedData, input_spec, classes)` batched by `batch_size`; raise ValueError
        on bad input."""
        raise NotImplementedError

    def _check_predict_inputs(self, x):
        """Return inputs `model_.predict` accepts; raise ValueError on bad input."""
        raise NotImplementedError

    def _probe_inputs(self):
        """A small batch of raw inputs for the export self-check."""
        raise NotImplementedError

    # ----------------------------------------------------------------- fit
    def _check_params(self):
        """Validate the configuration before touching data or disk; the time limit in seconds."""
        return check_parameters(self)

    def _search_space(self, reduction_cell):
        return CellSearchSpace(self.operations or self._default_operations(), num_blocks=self.num_blocks,
                               rank=self.rank, reduction_cell=reduction_cell, **self._network_choices())

    def _network_choices(self):
        """The decisions outside the cells to search or fix (`CellSearchSpace` keywords): the
        width multipliers here; texts add their heads and embedding widths."""
        multipliers = self._width_multipliers()
        return {} if multipliers == (None,) else {"width_multipliers": multipliers}

    def _width_multipliers(self):
        """The width multipliers of the space: those given, `COST_WIDTH_MULTIPLIERS` for a trial
        search with costs, else none ((None,): every size as given)."""
        if self.width_multipliers is not None:
            return tuple(float(multiplier) for multiplier in self.width_multipliers)
        if self._search_objective().costs and not is_one_shot(self.oracle):
            return COST_WIDTH_MULTIPLIERS
        return (None,)

    def _search_objective(self):
        return SearchObjective.from_parameters(self.objective, max_params=self.max_params,
                                               max_latency_ms=self.max_latency_ms,
                                               latency_batch_size=self.latency_batch_size)

    def _hypermodel(self, spec, classes):
        """The search-size network builder for inputs of `spec` and `classes`."""
        # Networks on short sequences have no reduction cells, so there is none to search.
        space = self._search_space(reduction_cell=default_reductions(spec.spatial_shape) > 0)
        return CellHyperModel(space, inputs_builder=spec.build_inputs, num_classes=len(classes),
                              ngrams_builder=getattr(spec, "build_ngrams", None),
                              size=NetworkSize(filters=self.search_filters, normal_cells=self.search_normal_cells,
                                               dropout=self.dropout),
                              optimizer=self.optimizer, learning_rate=self.learning_rate)

    def _final_size(self):
        return NetworkSize(filters=self.final_filters, normal_cells=self.final_normal_cells, dropout=self.dropout)

    def fit(self, x, y=None, *, validation_split=0.2, validation_data=None, callbacks=None):
        """Search architectures on `x, y`, then retrain the best one on all the data.

        Args:
            x: training inputs (see the subclass for accepted forms).
            y: class labels (int, str or bool), one per sample; None when `x` is a dataset
                that yields `(input, label)` pairs.
            validation_split: share of the training data held out to score trials, used
                when `validation_data` is None.
            validation_data: `(x_val, y_val)` or a dataset, scoring the trials instead.
            callbacks: Keras callbacks for every trial and the retraining, keras-tuner's way:
                each gets its own copy, and a `keras.callbacks.TensorBoard(log_dir)` logs trial
                `t` to `log_dir/t/execution0` with its architecture in the HParams dashboard and
                its validation score, and the retraining to `log_dir/final`. A one-shot search's
                supernet takes none; with `parallel_trials` above 1 they are refused.

        Returns:
            self.

        Raises:
            ValueError: on bad configuration or input, before any training starts.
            RuntimeError: when no trial completed.
        """
        time_limit = self._check_params()
        objective = self._search_objective()
        if validation_data is None:
            check_validation_split(validation_split)
        strategy = make_strategy(self.distribution_strategy)
        parallel_trials = parallel_trial_count(self.parallel_trials)
        callbacks = check_callbacks(callbacks, parallel_trials=parallel_trials)
        check_search(self.oracle, strategy=strategy, seed=self.seed, directory=self.directory,
                     has_validation_data=validation_data is not None, warm_start=self.warm_start,
                     # the space with both cells: the search drops the one the data don't need
                     space=self._search_space(reduction_cell=True), parallel_trials=parallel_trials,
                     strategy_argument=self.distribution_strategy, successive_halving=self.successive_halving,
                     objective=objective)
        refuse_sparse(x, type(self).__name__)
        y = column_labels(y)
        seed = search_seed(self.seed, directory=self.directory, project_name=self.project_name,
                           overwrite=self.overwrite, strategy=strategy)
        data, spec, classes = self._prepare_fit_data(x, y, validation_split, validation_data, seed,
                                                     global_batch_size(self.batch_size, strategy))
        hypermodel = self._hypermodel(spec, classes)
        space = hypermodel.space
        deadline = Deadline(time_limit)
        # A search with costs measures them on the model it will return, and returns that size:
        # the final size when it retrains without a time limit; else the search size, which a
        # budgeted retraining goes on from (the final size rarely gets enough epochs on one).
        cost_size = self._final_size() if self.retrain and time_limit is None else None
        # The search goes past its share while its best trial so far retrains in seconds.
        search_deadline = SearchDeadline(deadline, search_share(is_one_shot(self.oracle), self.retrain))
        inputs = {"x": x, "y": y, "validation_split": validation_split, "validation_data": validation_data}
        retrained = partner = None
        with search_directory(self.directory, strategy) as directory:
            # With parallel_trials above 1 this process serves trials to workers it starts itself.
            with local_chief(self, parallel_trials, directory, inputs, seed=seed,
                             search_deadline=search_deadline) as cluster:
                outcome = run_search(self.oracle, space, hypermodel, data, epochs=self.epochs, directory=directory,
                                     deadline=search_deadline, seed=seed, max_trials=self.max_trials,
                                     warm_start=self.warm_start, project_name=self.project_name,
                                     overwrite=self.overwrite, strategy=strategy, batch_size=self.batch_size,
                                     one_shot_learning_rate=self.learning_rate, task=type(self).__name__,
                                     verbose=self.verbose, cluster=cluster,
                                     successive_halving=self.successive_halving, callbacks=callbacks,
                                     objective=objective, cost_size=cost_size,
                                     retraining_seconds=functools.partial(quick_retraining_seconds,
                                                                          final_epochs=self.final_epochs))
            if not outcome.is_worker:
                partner = self._blend_partner(outcome, data, objective=objective, strategy=strategy)
                # Before the winner's retraining, which takes all the time left: this one takes seconds.
                linear = None if partner is None else train_partner(
                    partner, outcome, hypermodel, data, retrain=self.retrain, strategy=strategy,
                    verbose=self.verbose)
                retrained = retrain_best(outcome, hypermodel, data,
                                         final_size=(cost_size or hypermodel.size) if objective.costs else
                                         self._final_size(),
                                         final_epochs=self.final_epochs, batch_size=self.batch_size,
                                         deadline=deadline, strategy=strategy, retrain=self.retrain,
                                         verbose=self.verbose, callbacks=callbacks)
                if linear is not None:
                    retrained.model = averaged_model(retrained.model, linear)
        self._set_learned(outcome, retrained, classes, spec, deadline, objective, partner)
        # For `select`: what to retrain another architecture on, as the winner was (references,
        # not copies; dropped when the estimator is pickled).
        self._fit_inputs = {**inputs, "seed": seed}
        return self

    def _blend_partner(self, outcome, data, *, objective, strategy):
        """The trial whose network the final model averages with the winner's (`autonas.engine.blend`),
        or None: only a text search has one."""
        return None

    def _set_learned(self, outcome, retrained, classes, spec, deadline, objective, partner=None):
        """Every learned attribute, in one place (documented in the class docstring)."""
        self.search_role_ = outcome.role
        self.search_seconds_ = deadline.elapsed
        if outcome.is_worker:
            self.worker_trials_ = outcome.worker_trials
            return
        self.trial_workers_ = outcome.trial_workers
        self.best_genotype_ = outcome.genotype
        self.best_score_ = outcome.score
        self.leaderboard_ = outcome.leaderboard
        self.search_history_ = None if outcome.one_shot is None else pd.DataFrame(outcome.one_shot.history)
        self.pareto_front_ = objective.front(outcome.leaderboard) if outcome.best_trial is not None else \
            outcome.leaderboard.head(1)
        self.selected_trial_ = None if outcome.best_trial is None else outcome.best_trial.trial_id
        self.blended_trial_ = None if partner is None else partner.trial_id
        self._blended_genotype = None if partner is None else partner.genotype
        self.model_ = retrained.model
        self.retrained_size_ = retrained.size
        self.classes_ = classes
        self.input_spec_ = spec
        # Per trained trial: its architecture and epochs, for `select`.
        scored = set(self.leaderboard_["trial"][self.leaderboard_["score"].notna()])
        self._trials = {} if outcome.tuner is None else {
            t.trial_id: (outcome.tuner.hypermodel.space.declare(t.hyperparameters.copy()), trained_epochs(t))
            for t in outcome.tuner.oracle.trials.values() if t.trial_id in scored}
        self._retrained_epochs = retrained.epochs

    # ----------------------------------------------------------------- use
    def _check_fitted(self):
        """NotFittedError unless `fit` produced a model; a multi-worker search's workers have none."""
        message = ("This %(name)s has no fitted model yet: call fit first." if getattr(self, "search_role_", None)
                   != "worker" else "This %(name)s was a worker of a multi-worker search: it ran trials, and the "
                   "chief process holds the fitted model; predict and export there.")
        check_is_fitted(self, "model_", msg=message)

    def predict_proba(self, x):
        """Class probabilities, shape (n_samples, n_classes), columns ordered as `classes_`."""
        self._check_fitted()
        refuse_sparse(x, type(self).__name__)
        inputs = self._check_predict_inputs(x)
        return np.asarray(self.model_.predict(inputs, batch_size=self.batch_size, verbose=0))

    def predict(self, x):
        """The most probable class of each sample, as values of `classes_`."""
        probabilities = self.predict_proba(x)
        return self.classes_[np.argmax(probabilities, axis=1)]

    def score(self, x, y, sample_weight=None):
        """Mean accuracy on `x, y`; a label the model was not trained on counts as wrong, as in
        scikit-learn. Labels none of which the model knows (another model's classes, or ints for
        a model trained on strings) are an error rather than a silent score of 0."""
        self._check_fitted()
        y = column_labels(y)
        check_scored_labels(check_labels(y), self.classes_)
        return super().score(x, y, sample_weight=sample_weight)

    def leaderboard(self):
        """Every trial of the search as a DataFrame (architecture, score, params, epochs trained,
        seconds, status, from_trial), best first; a trial cut short by `time_limit` shows fewer
        epochs, and one promoted by `successive_halving` names the trial it went on from."""
        check_is_fitted(self, "leaderboard_")
        return self.leaderboard_.copy()

    def select(self, trial, x=None, y=None):
        """Make trial `trial`'s architecture the fitted model, e.g. another point of
        `pareto_front_`: trained from scratch as the winner was, without a time limit: at the
        size and for the epochs of the winner's retraining, on training + validation data; or,
        when the winner was its trial's own model (`retrain=False`, or no time to retrain), at
        the search size for the epochs `trial` trained, on the training data.

        Args:
            trial: a trial id of `leaderboard_` with a score.
            x, y: the data `fit` was given; None: the same objects, which the estimator keeps
                a reference to until it is pickled.

        Returns:
            self, with `model_`, `best_genotype_`, `best_score_` and `selected_trial_` of `trial`
            (its network alone: `blended_trial_` None; selecting the winner again keeps its model).

        Raises:
            ValueError: `trial` is not a scored trial, or the fit data are needed and gone.
        """
        self._check_fitted()
        trial = str(trial)
        if trial not in getattr(self, "_trials", {}):
            raise ValueError(f"trial {trial!r} is not a trained trial of this search; choose one of "
                             f"{sorted(getattr(self, '_trials', {}))} (pareto_front_ lists the front's).")
        genotype, epochs = self._trials[trial]
        if trial == self.selected_trial_:
            return self
        inputs = dict(getattr(self, "_fit_inputs", None) or {})
        if x is not None:
            inputs.update(x=x, y=y)
        if "x" not in inputs:
            raise ValueError("select trains the architecture on the data fit was given, and this estimator no longer "
                             "holds them (it was pickled): pass them, select(trial, x, y).")
        data, spec, classes = self._prepare_fit_data(inputs["x"], inputs["y"], inputs["validation_split"],
                                                     inputs["validation_data"], inputs["seed"],
                                                     global_batch_size(self.batch_size, make_strategy(
                                                         self.distribution_strategy)))
        hypermodel = self._hypermodel(spec, classes)
        kept = self.retrained_size_ is None  # the winner was its trial's model: so is this one
        size = hypermodel.size if kept else self.retrained_size_
        model = train_architecture(genotype, hypermodel, data.train if kept else data.full, size=size,
                                   epochs=epochs if kept else self._retrained_epochs,
                                   strategy=self.distribution_strategy, verbose=self.verbose)
        self.model_ = model
        self.best_genotype_ = genotype
        self.best_score_ = float(self.leaderboard_.set_index("trial").loc[trial, "score"])
        self.selected_trial_ = trial
        self.blended_trial_ = self._blended_genotype = None
        return self

    def __getstate__(self):
        state = dict(super().__getstate__())  # object's is the instance's own __dict__
        state.pop("_fit_inputs", None)  # the user's data: references while fitted, not part of a pickle
        return state

    def export(self, path, *, overwrite=False, trial=None):
        """Write a TF SavedModel serving raw inputs -> class probabilities, plus `autonas.json`
        (classes, genotype, input spec). See `autonas.export.export_saved_model`.

        `trial`: export that trial's architecture instead (`select` on a copy: this estimator
        keeps its model)."""
        self._check_fitted()
        if trial is not None and str(trial) != self.selected_trial_:
            other = copy.copy(self)  # through `__getstate__`, which leaves the data references out
            other._fit_inputs = getattr(self, "_fit_inputs", None)
            return other.select(trial).export(path, overwrite=overwrite)
        metadata = {
            "classes": jsonable_classes(self.classes_),
            "genotype": self.best_genotype_.to_dict(),
            "trial": getattr(self, "selected_trial_", None),
            # The n-grams network whose probabilities the model averages with the genotype's.
            "blended_with": None if getattr(self, "_blended_genotype", None) is None else {
                "trial": self.blended_trial_, "genotype": self._blended_genotype.to_dict()},
            "inputs": self.input_spec_.to_dict(),
            "signature": "serve",
            "outputs": "class probabilities, columns ordered as classes",
        }
        return export_saved_model(self.model_, path, metadata=metadata, probe_inputs=self._probe_inputs(),
                                  overwrite=overwrite)


def refuse_sparse(x, estimator_name):
    """Raise ValueError for a SciPy sparse matrix or array, which no task takes: read as an array
    it is a 0-d object, and the task's own checks would call it empty."""
    if scipy.sparse.issparse(x):
        raise ValueError(f"x is a SciPy sparse {type(x).__name__}, and {estimator_name} does not take sparse "
                         "input: pass a dense array (x.toarray(), then images or texts as the task takes them).")


def column_labels(y):
    """`y` as 1-D when it is one column of labels, shape (n, 1) (e.g. `df[["label"]]`), with
    scikit-learn's `DataConversionWarning`, as its classifiers do; any other `y` unchanged."""
    shape = getattr(y, "shape", None)  # arrays and DataFrames; lists are left to `check_labels`
    if shape is None or len(shape) != 2 or shape[1] != 1:
        return y
    warnings.warn("A column-vector y was passed when a 1d array was expected. Please change the shape of y to "
                  "(n_samples,), for example using ravel().", DataConversionWarning, stacklevel=3)
    return np.asarray(y)[:, 0]
