"""Regularized (aging) evolution as a keras-tuner Oracle (Real et al., 2019, AmoebaNet)."""
import numpy as np

from autonas.oracles.pareto import (constraint_violation, crowding_distances, non_dominated_ranks, objectives_of,
                                    trial_values)
from autonas.oracles.base import AutonasOracle

DEFAULT_POPULATION_SIZE = 20
DEFAULT_SAMPLE_SIZE = 5


class RegularizedEvolutionOracle(AutonasOracle):
    """Aging evolution with tournament selection over any keras-tuner search space.

    The first `population_size` trials are the `initial_values` (if given), then random
    configurations. After that every proposal samples `sample_size` members of the population
    at random, takes the best of them as parent and mutates it: exactly one active
    hyperparameter changes (a `Choice`/`Boolean` to another value, an `Int`/`Float` to another
    of its options, see `SpaceEncoding`); hyperparameters that the change activates get random
    values and those it deactivates are dropped. Each completed trial joins the population and,
    once it is full, the oldest member dies (whatever its score: that is the regularization).
    Failed trials never join.

    With several objectives (`objective=[...]`, a keras-tuner `MultiObjective`) the tournament
    compares members by Pareto rank within the living population, then by crowding distance
    within their front (NSGA-II's order, Deb et al. 2002, inside aging evolution), instead of
    keras-tuner's sum of the objectives, which can only find the front's convex hull and
    weighs accuracy against, say, parameters by their units. `pareto=False` keeps the sum.
    A member over its search's limits (a `constraint_violation` metric above 0) loses every
    tournament to a member within them, and to one less over (constrained domination, as in
    NSGA-II).

    It never proposes a configuration already tried: a duplicate child is re-drawn; after
    `max_collisions` duplicates in a row the untried neighbours of the best members are
    enumerated, then random configurations are drawn, then (for spaces of at most 20,000
    configurations over the options) the whole space is enumerated; only when all of that
    fails, i.e. the space is exhausted, does the oracle stop the search.

    Args:
        objective: the keras-tuner objective (name and direction).
        max_trials: number of trials.
        population_size: P, the number of (completed) members alive at once.
        sample_size: S, the tournament size (clipped to the population size).
        initial_values: optional list of values dicts proposed first, e.g. published cells;
            hyperparameters they leave out are drawn at random.
        seed: int or None (None: random; 0 is a seed).
        hyperparameters: optional `keras_tuner.HyperParameters` fixing the space.
        num_bins, max_collisions, successive_halving: see `AutonasOracle`.
        pareto: select by Pareto rank and crowding; None (default): when the objective has
            several parts. False: by keras-tuner's summed score.
        allow_new_entries, tune_new_entries: as in `keras_tuner.Oracle`.
        max_retries_per_trial, max_consecutive_failed_trials: as in `keras_tuner.Oracle`.

    Raises:
        ValueError: for a population or sample size below 1, or `pareto=True` with one objective.

    Example:
        >>> import keras_tuner
        >>> hp = keras_tuner.HyperParameters()
        >>> _ = hp.Choice("op", ["conv3", "conv5", "pool"])
        >>> oracle = RegularizedEvolutionOracle(
        ...     objective=keras_tuner.Objective("score", "max"), max_trials=10,
        ...     population_size=4, sample_size=2, hyperparameters=hp, seed=0)
    """

    def __init__(
        self,
        *,
        objective=None,
        max_trials=100,
        population_size=DEFAULT_POPULATION_SIZE,
        sample_size=DEFAULT_SAMPLE_SIZE,
        initial_values=None,
        seed=None,
        hyperparameters=None,
        num_bins=20,
        max_collisions=20,
        allow_new_entries=True,
        tune_new_entries=True,
        max_retries_per_trial=0,
        max_consecutive_failed_trials=3,
        successive_halving=None,
        pareto=None,
    ):
        if population_size < 1 or sample_size < 1:
            raise ValueError(
                f"population_size and sample_size must be >= 1, got {population_size}, {sample_size}."
            )
        super().__init__(
            objective=objective,
            max_trials=max_trials,
            hyperparameters=hyperparameters,
            seed=seed,
            num_bins=num_bins,
            max_collisions=max_collisions,
            allow_new_entries=allow_new_entries,
            tune_new_entries=tune_new_entries,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
            successive_halving=successive_halving,
        )
        several = len(objectives_of(self.objective)) > 1
        if pareto and not several:
            raise ValueError(f"pareto=True needs several objectives (objective=[...]), got {self.objective}.")
        self.pareto = several if pareto is None else bool(pareto)
        self.population_size = int(population_size)
        self.sample_size = int(sample_size)
        self.initial_values = [dict(v) for v in (initial_values or [])]
        # Oldest first: [{"trial_id", "values", "reward", "born"}]; "born" is the birth count.
        self.population = []
        self._births = 0
        self._next_initial = 0

    # -- proposing ---------------------------------------------------------------------------

    def propose(self, trial_id):
        enc = self.encoding()
        if len(enc) == 0:
            return self.empty_space()
        values = self._next_initial_values()
        if values is None:
            if len(self.population) < self.population_size:
                values = self.random_unique()
            else:
                values = self._evolve()
        if values is None:
            values = self.random_unique()
        if values is None:
            values = self.exhaustive_unique()
        return self.stopped() if values is None else self.running(values)

    def _next_initial_values(self):
        enc = self.encoding()
        while self._next_initial < len(self.initial_values):
            values = enc.complete(self.initial_values[self._next_initial], self.rng)
            self._next_initial += 1
            if not self.was_tried(values):
                return values
        return None

    def _fitness(self):
        """Per member of the population, a key that sorts better members higher: minus its
        constraint violation, then the reward, or with `pareto` minus the Pareto rank and the
        crowding distance among the members within the limits."""
        violations = [-m.get("violation", 0.0) for m in self.population]
        if not self.pareto:
            return [(v, m["reward"]) for v, m in zip(violations, self.population)]
        feasible = np.flatnonzero(np.array(violations) == 0)
        points = np.array([self.population[i]["objectives"] for i in feasible], dtype=float)
        ranks = np.full(len(self.population), len(self.population))  # over a limit: below every front
        crowding = np.zeros(len(self.population))
        ranks[feasible] = non_dominated_ranks(points)
        for rank in set(ranks[feasible].tolist()):
            front = feasible[ranks[feasible] == rank]
            crowding[front] = crowding_distances(points[ranks[feasible] == rank])
        return list(zip(violations, (-ranks).tolist(), crowding.tolist()))

    def _tournament(self):
        k = min(self.sample_size, len(self.population))
        picks = list(self.rng.choice(len(self.population), size=k, replace=False))
        fitness = self._fitness()
        best = max(picks, key=lambda i: (fitness[i], -picks.index(i)))
        return self.population[int(best)]["values"]

    def _mutate(self, values):
        enc = self.encoding()
        mutable = enc.mutable(values)
        if not mutable:
            return None
        index = mutable[int(self.rng.integers(len(mutable)))]
        options = enc.alternatives(values, index)
        option = options[int(self.rng.integers(len(options)))]
        return enc.mutate(values, index, option, self.rng)

    def _evolve(self):
        for _ in range(self.max_collisions + 1):
            child = self._mutate(self._tournament())
            if child is not None and not self.was_tried(child):
                return child
        # Many duplicates in a row: the neighbourhoods are nearly exhausted. Enumerate the
        # untried one-mutation neighbours of the members, best first.
        enc = self.encoding()
        fitness = self._fitness()
        for index in sorted(range(len(self.population)), key=lambda i: fitness[i], reverse=True):
            parent = self.population[index]["values"]
            moves = [(i, o) for i in enc.mutable(parent) for o in enc.alternatives(parent, i)]
            for j in self.rng.permutation(len(moves)):
                child = enc.mutate(parent, moves[j][0], moves[j][1], self.rng)
                if not self.was_tried(child):
                    return child
        return None

    # -- learning ----------------------------------------------------------------------------

    def learn(self, trial, reward):
        values = self.encoding().complete(
            {k: v for k, v in trial.hyperparameters.values.items() if k in self._names()}, self.rng
        )
        member = {"trial_id": trial.trial_id, "values": values, "reward": reward, "born": self._births}
        if self.pareto:
            member["objectives"] = list(trial_values(self.objective, trial))
        if constraint_violation(trial) > 0:  # absent within the limits, as before limits existed
            member["violation"] = constraint_violation(trial)
        self.population.append(member)
        self._births += 1
        while len(self.population) > self.population_size:
            self.population.pop(0)  # the oldest dies

    def forget(self, trial):
        pass  # a failed trial never joins the population

    def _names(self):
        return {d.name for d in self.encoding().decisions}

    # -- state -------------------------------------------------------------------------------

    def configuration(self):
        config = super().configuration()
        config.update(
            population_size=self.population_size,
            sample_size=self.sample_size,
            initial_values=self.initial_values,
        )
        if self.pareto:  # absent otherwise, as in projects saved before it existed
            config["pareto"] = True
        return config

    def strategy_state(self):
        return {
            "population": self.population,
            "births": self._births,
            "next_initial": self._next_initial,
        }

    def restore_strategy_state(self, state):
        self.population = [dict(m) for m in state["population"]]
        self._births = int(state["births"])
        self._next_initial = int(state["next_initial"])
