"""Map a keras-tuner search space to and from sequences of discrete decisions.

Search strategies that think in categorical decisions (an RNN controller, a mutation operator)
need every hyperparameter as "pick one of K options". `SpaceEncoding` provides that view over
any `keras_tuner.HyperParameters`: one decision per hyperparameter, in the order of
`hyperparameters.space`, with conditional scopes respected (a decision whose conditions are not
met by the earlier decisions is inactive and gets no value).

Options per type:
    - `Choice`: its values; `Boolean`: (False, True); `Fixed`: its single value.
    - `Int` / `Float` with a step and at most `num_bins` grid values: the exact grid.
    - Otherwise (continuous or a large grid): `num_bins` values at the centres of equal
      cumulative-probability buckets, so `sampling="log"` gives log-spaced bins.

Example:
    >>> import keras_tuner
    >>> hp = keras_tuner.HyperParameters()
    >>> _ = hp.Choice("op", ["conv", "pool"])
    >>> _ = hp.Boolean("bn")
    >>> enc = SpaceEncoding(hp)
    >>> enc.sizes
    (2, 2)
    >>> enc.decode([1, 1])
    {'op': 'pool', 'bn': True}
"""
import dataclasses

from keras_tuner.engine.hyperparameters import Boolean, Choice, Fixed, Float, Int

INACTIVE = -1


@dataclasses.dataclass(frozen=True)
class Decision:
    """One hyperparameter seen as a categorical decision.

    Attributes:
        hp: the keras-tuner hyperparameter.
        options: the candidate values, as plain Python values.
        parents: for each condition of `hp`, the name of the parent and the allowed values.
    """

    hp: object
    options: tuple
    parents: tuple

    @property
    def name(self):
        return self.hp.name

    @property
    def size(self):
        return len(self.options)


def _plain(value):
    """Return a JSON-friendly Python scalar (keras-tuner hashes values with `str`)."""
    if isinstance(value, bool):
        return bool(value)
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return value


def _grid_size(hp):
    """Number of values on a numerical hp's step grid, or None when it has no finite grid."""
    if hp.step is None:
        return None
    # keras-tuner's own count of the grid (public `values` builds it from the same helper).
    return sum(1 for _ in hp.values)


def _options(hp, num_bins):
    if isinstance(hp, Fixed):
        return (_plain(hp.value),)
    if isinstance(hp, Boolean):
        return (False, True)
    if isinstance(hp, Choice):
        return tuple(_plain(v) for v in hp.values)
    if isinstance(hp, (Int, Float)):
        n = _grid_size(hp)
        if n is not None and n <= num_bins:
            raw = list(hp.values)
        else:
            raw = [hp.prob_to_value((k + 0.5) / num_bins) for k in range(num_bins)]
        cast = int if isinstance(hp, Int) else float
        seen = []
        for v in raw:
            v = cast(v)
            if v not in seen:
                seen.append(v)
        return tuple(seen)
    raise TypeError(f"Unsupported hyperparameter type {type(hp).__name__} for {hp.name!r}.")


class SpaceEncoding:
    """A keras-tuner search space seen as an ordered list of categorical decisions.

    Args:
        hyperparameters: a `keras_tuner.HyperParameters` (its `space` is read, not modified).
        num_bins: the number of options given to a continuous `Int`/`Float`, or to one whose
            step grid has more values than this.

    Example:
        >>> import keras_tuner
        >>> hp = keras_tuner.HyperParameters()
        >>> _ = hp.Choice("kind", ["a", "b"])
        >>> with hp.conditional_scope("kind", ["b"]):
        ...     _ = hp.Int("depth", 1, 3)
        >>> enc = SpaceEncoding(hp)
        >>> enc.decode([0, 2])
        {'kind': 'a'}
        >>> enc.decode([1, 2])
        {'kind': 'b', 'depth': 3}
    """

    def __init__(self, hyperparameters, *, num_bins=20):
        if num_bins < 1:
            raise ValueError(f"num_bins must be >= 1, got {num_bins}.")
        self.num_bins = num_bins
        self.decisions = tuple(
            Decision(
                hp=hp,
                options=_options(hp, num_bins),
                parents=tuple((c.name, tuple(c.values)) for c in hp.conditions),
            )
            for hp in hyperparameters.space
        )
        self._names = frozenset(d.name for d in self.decisions)
        by_name = {}
        for i, d in enumerate(self.decisions):
            by_name.setdefault(d.name, []).append(i)
        # For each decision: ((indices of the decisions named like the parent, allowed), ...).
        self._parent_indices = tuple(
            tuple((tuple(by_name.get(name, ())), allowed) for name, allowed in d.parents)
            for d in self.decisions
        )
        self.conditional = any(d.parents for d in self.decisions)

    def __len__(self):
        return len(self.decisions)

    @property
    def sizes(self):
        """The number of options of each decision, in order."""
        return tuple(d.size for d in self.decisions)

    # -- conditions -------------------------------------------------------------------------

    @staticmethod
    def _active(decision, values):
        return all(name in values and values[name] in allowed for name, allowed in decision.parents)

    def is_active(self, index, values):
        """Whether decision `index` is active given the values chosen so far (a dict)."""
        return self._active(self.decisions[index], values)

    def is_active_given(self, index, chosen):
        """Whether decision `index` is active given the option indices chosen before it.

        `chosen` holds one index per earlier decision (`INACTIVE` where it was inactive); this
        is the form a controller that samples decision by decision can call.
        """
        for indices, allowed in self._parent_indices[index]:
            value = None
            found = False
            for j in indices:
                if j < len(chosen) and chosen[j] != INACTIVE:
                    value = self.decisions[j].options[chosen[j]]
                    found = True
            if not found or value not in allowed:
                return False
        return True

    # -- conversions -------------------------------------------------------------------------

    def decode(self, indices):
        """Turn one option index per decision into a values dict of the active hyperparameters.

        Inactive decisions are skipped whatever their index (use `INACTIVE`, -1, for them).
        """
        if len(indices) != len(self.decisions):
            raise ValueError(f"Expected {len(self.decisions)} decisions, got {len(indices)}.")
        values = {}
        for decision, index in zip(self.decisions, indices):
            if self._active(decision, values):
                if not 0 <= index < decision.size:
                    raise ValueError(f"Decision {decision.name!r} is active but got index {index}.")
                values[decision.name] = decision.options[index]
        return values

    def encode(self, values):
        """Turn a values dict into one option index per decision (`INACTIVE` where inactive).

        Numerical values off the option grid map to the nearest option in cumulative
        probability, so the encoding of an arbitrary value is its bin.
        """
        indices = []
        seen = {}
        for decision in self.decisions:
            if not self._active(decision, seen) or decision.name not in values:
                indices.append(INACTIVE)
                continue
            value = values[decision.name]
            indices.append(self._index_of(decision, value))
            seen[decision.name] = value
        return indices

    @staticmethod
    def _index_of(decision, value):
        if value in decision.options and not (isinstance(value, bool) != isinstance(decision.options[0], bool)):
            return decision.options.index(value)
        hp = decision.hp
        if isinstance(hp, (Int, Float)):
            target = hp.value_to_prob(value)
            probs = [hp.value_to_prob(v) for v in decision.options]
            return min(range(len(probs)), key=lambda k: abs(probs[k] - target))
        raise ValueError(f"Value {value!r} is not an option of {decision.name!r}: {decision.options}.")

    # -- sampling and mutation ---------------------------------------------------------------

    def random_value(self, decision, rng):
        """A uniformly random value of one hyperparameter (continuous where the hp is)."""
        hp = decision.hp
        if isinstance(hp, (Int, Float)) and _grid_size(hp) is None:
            value = hp.prob_to_value(float(rng.random()))
            return int(value) if isinstance(hp, Int) else float(value)
        if isinstance(hp, Int) and _grid_size(hp) > self.num_bins:
            return int(hp.prob_to_value(float(rng.random())))
        return decision.options[int(rng.integers(decision.size))]

    def complete(self, values, rng):
        """Return `values` restricted to the active hyperparameters, filling missing ones at random.

        Raises:
            ValueError: if `values` names a hyperparameter that is not in the space.
        """
        unknown = sorted(set(values) - self._names)
        if unknown:
            raise ValueError(f"Values name hyperparameters not in the search space: {unknown}.")
        out = {}
        for decision in self.decisions:
            if decision.name in out or not self._active(decision, out):
                continue
            if decision.name in values:
                out[decision.name] = _plain(values[decision.name])
            else:
                out[decision.name] = self.random_value(decision, rng)
        return out

    def random_values(self, rng):
        """A random configuration: every active hyperparameter sampled uniformly."""
        return self.complete({}, rng)

    def enumerate(self, limit):
        """Every configuration over the options (active values only), or None if more than `limit`.

        The count is bounded by the product of the decision sizes before anything is built.
        """
        bound = 1
        for decision in self.decisions:
            bound *= decision.size
            if bound > limit:
                return None
        configs = [{}]
        for decision in self.decisions:
            grown = []
            for values in configs:
                if decision.name in values or not self._active(decision, values):
                    grown.append(values)
                else:
                    grown.extend({**values, decision.name: v} for v in decision.options)
            configs = grown
        return configs

    def mutable(self, values):
        """Indices of the decisions a mutation of `values` may change (active, > 1 option)."""
        active = {}
        out = []
        for i, decision in enumerate(self.decisions):
            if decision.name in active or not self._active(decision, active):
                continue
            active[decision.name] = values.get(decision.name)
            if decision.size > 1:
                out.append(i)
        return out

    def mutate(self, values, index, option, rng):
        """Set decision `index` to option `option`, then re-resolve the conditional scopes.

        Hyperparameters that become active get random values; inactive ones are dropped.
        """
        decision = self.decisions[index]
        changed = dict(values)
        changed[decision.name] = decision.options[option]
        return self.complete({k: v for k, v in changed.items() if k in self._names}, rng)

    def alternatives(self, values, index):
        """Options of decision `index` other than the one `values` currently holds."""
        decision = self.decisions[index]
        current = values.get(decision.name)
        if current is None:
            return list(range(decision.size))
        keep = self._index_of(decision, current)
        exact = current in decision.options
        return [k for k in range(decision.size) if not (exact and k == keep)]
