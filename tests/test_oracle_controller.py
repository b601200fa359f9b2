import json

import numpy as np
import pytest

from autonas.oracles.controller import INACTIVE, LSTMController


@pytest.mark.parametrize("tanh_constant", [None, 2.5])
def test_gradient_matches_finite_differences(tanh_constant):
    ctrl = LSTMController(
        [3, 5, 2, 4], hidden_size=4, seed=1, init_scale=0.5, tanh_constant=tanh_constant, temperature=1.7,
        entropy_weight=0.3,
    )
    ctrl.theta += np.random.default_rng(0).normal(0.0, 0.3, ctrl.theta.size)
    decisions = (2, INACTIVE, 1, 3)
    _, _, grad = ctrl.objective_and_gradient(decisions, -1.3)
    numeric = np.zeros_like(grad)
    eps = 1e-6
    for j in range(ctrl.theta.size):
        ctrl.theta[j] += eps
        up = ctrl.objective_and_gradient(decisions, -1.3)[0]
        ctrl.theta[j] -= 2 * eps
        down = ctrl.objective_and_gradient(decisions, -1.3)[0]
        ctrl.theta[j] += eps
        numeric[j] = (up - down) / (2 * eps)
    assert np.abs(grad).max() > 0.01
    np.testing.assert_allclose(grad, numeric, atol=1e-7)


def test_same_seed_same_samples_and_zero_is_a_seed():
    def draw(seed):
        ctrl = LSTMController([5] * 6, seed=seed)
        return [ctrl.sample().decisions for _ in range(20)]

    assert draw(0) == draw(0)
    assert draw(0) != draw(1)


def test_log_prob_of_sample_matches():
    ctrl = LSTMController([4, 3, 6], seed=3, init_scale=1.0)
    s = ctrl.sample()
    assert ctrl.log_prob(s.decisions) == pytest.approx(s.log_prob)
    assert s.entropy > 0


# PPO takes ppo_epochs (4) steps per batch, hence a smaller learning rate for the same pace.
@pytest.mark.parametrize("algorithm, learning_rate", [("reinforce", 0.005), ("ppo", 0.002)])
def test_learns_a_target_sequence(algorithm, learning_rate):
    target = (3, 0, 4, 1, 2)
    ctrl = LSTMController([5] * 5, seed=0, learning_rate=learning_rate, algorithm=algorithm, entropy_weight=0.01)
    for _ in range(300):
        s = ctrl.sample()
        reward = sum(a == b for a, b in zip(s.decisions, target))
        ctrl.update([(s.decisions, reward, s.log_prob)])
    greedy = tuple(int(np.argmax(p)) for p in ctrl.probabilities())
    assert greedy == target


def test_is_active_skips_decisions():
    ctrl = LSTMController([2, 3, 3], seed=0)
    for _ in range(10):
        s = ctrl.sample(is_active=lambda i, chosen: i != 1 or chosen[0] == 1)
        assert (s.decisions[1] == INACTIVE) == (s.decisions[0] == 0)


def test_ppo_clipped_sample_gives_no_policy_gradient():
    ctrl = LSTMController([4, 4], seed=0, algorithm="ppo", entropy_weight=0.0, ppo_epochs=1)
    s = ctrl.sample()
    ctrl.update([(s.decisions, 0.0, s.log_prob)])  # sets the baseline, advantage 0
    before = ctrl.theta.copy()
    # Probability ratio e^2 > 1 + clip with a positive advantage: the surrogate is flat.
    ctrl.update([(s.decisions, 1.0, s.log_prob - 2.0)])
    np.testing.assert_array_equal(ctrl.theta, before)
    ctrl.update([(s.decisions, 1.0, s.log_prob)])  # ratio 1: a real step
    assert not np.array_equal(ctrl.theta, before)


def test_baseline_and_normalised_advantage():
    ctrl = LSTMController([2], seed=0, baseline_decay=0.5)
    assert ctrl.advantage(10.0) == 0.0  # the first reward sets the baseline
    a = ctrl.advantage(12.0)
    assert ctrl.baseline == pytest.approx(11.0)
    assert a == pytest.approx(2.0 / np.sqrt(0.5 * 4.0))
    assert ctrl.advantage(8.0) < 0


def test_state_round_trip_through_json_continues_identically():
    a = LSTMController([3, 4, 5], seed=7)
    for _ in range(5):
        s = a.sample()
        a.update([(s.decisions, float(sum(s.decisions)), s.log_prob)])
    state = json.loads(json.dumps(a.get_state()))
    b = LSTMController([3, 4, 5], seed=123)
    b.set_state(state)
    for _ in range(5):
        sa, sb = a.sample(), b.sample()
        assert sa == sb
        a.update([(sa.decisions, 1.0, sa.log_prob)])
        b.update([(sb.decisions, 1.0, sb.log_prob)])
    np.testing.assert_array_equal(a.theta, b.theta)
    np.testing.assert_array_equal(a.adam_v, b.adam_v)


def test_set_state_rejects_changed_configuration():
    state = LSTMController([3], seed=0).get_state()
    with pytest.raises(ValueError, match="different configuration"):
        LSTMController([3], seed=0, learning_rate=0.5).set_state(state)


def test_add_decisions_keeps_learned_weights():
    ctrl = LSTMController([3, 3], seed=0)
    before = ctrl.theta.copy()
    ctrl.add_decisions([4])
    assert ctrl.sizes == [3, 3, 4]
    np.testing.assert_array_equal(ctrl.theta[: before.size], before)
    assert len(ctrl.sample().decisions) == 3


def test_invalid_arguments():
    with pytest.raises(ValueError):
        LSTMController([3], algorithm="a2c")
    with pytest.raises(ValueError):
        LSTMController([0])
    with pytest.raises(ValueError):
        LSTMController([3]).log_prob([0, 1])
