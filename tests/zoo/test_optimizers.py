"""Optimizer components against NumPy transcriptions of their update rules: 8 steps on
a fixed 2x3 variable and a 3-vector with fixed gradients, plain, with decoupled weight
decay, with global-norm clipping (the norm of both gradients together), and with both.

Order within a step, as tf-keras applies it (tf_keras/src/optimizers/optimizer.py,
`_BaseOptimizer.apply_gradients`: line 727 `grads = self._clip_gradients(grads)`, line
729 `self._apply_weight_decay(trainable_variables)`, line 731
`self._internal_apply_gradients(...)`; the decay at lines 739-746 is
`variable.assign_sub(variable * wd * lr)`): clip g to g*min(1, c/||g||), then
w -= lr_t*wd*w on the old w, then the optimizer's update. lr_t is the schedule at the
0-based step (`_compute_current_learning_rate` runs before `iterations` grows).
"""

import json

from lab_bnn.errors import UserError

import numpy as np
import pytest
import tensorflow as tf
import zookeeper
from zookeeper import ComponentField, configure

from zoo.training import describe, register_keras_object
from zoo.training.optimizers import SGD, Adam, Bop, CaseOptimizer, Optimizer, RAdam
from zoo.training.radam import RAdam as KerasRAdam
from zoo.training.schedules import Constant, CosineDecay, LinearDecay, StepDecay

STEPS, LR = 8, 0.05
W0 = (np.array([[0.5, -1.0, 2.0], [-0.3, 0.8, -1.5]]), np.array([0.1, -0.2, 0.3]))
RANDOM = np.random.RandomState(0)
SCALES = np.linspace(0.2, 1.5, STEPS)
GRADIENTS = [(RANDOM.normal(0, 1, (2, 3)) * scale, RANDOM.normal(0, 1, 3) * scale) for scale in SCALES]
CLIPNORM = 1.5


def adam_update(state, w, g, t, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """Keras Adam: epsilon added to sqrt(v), bias corrections folded into the step size."""
    state["m"] = state.get("m", 0) + (g - state.get("m", 0)) * (1 - beta_1)
    state["v"] = state.get("v", 0) + (g * g - state.get("v", 0)) * (1 - beta_2)
    alpha = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
    return w - alpha * state["m"] / (np.sqrt(state["v"]) + epsilon)


def sgd_update(state, w, g, t, lr, momentum=0.9, nesterov=False):
    """v = momentum*v - lr*g; w += v, or w += momentum*v - lr*g with Nesterov."""
    state["v"] = momentum * state.get("v", 0) - lr * g
    return w + (momentum * state["v"] - lr * g if nesterov else state["v"])


def radam_update(state, w, g, t, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
    """torch.optim.RAdam's single-tensor step (rectified when rho_t > 5)."""
    state["m"] = beta_1 * state.get("m", 0) + (1 - beta_1) * g
    state["v"] = beta_2 * state.get("v", 0) + (1 - beta_2) * g * g
    m_hat = state["m"] / (1 - beta_1**t)
    rho_inf = 2 / (1 - beta_2) - 1
    rho_t = rho_inf - 2 * t * beta_2**t / (1 - beta_2**t)
    state.setdefault("rho", []).append(rho_t)
    if rho_t > 5:
        rect = np.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        adaptive = np.sqrt(1 - beta_2**t) / (np.sqrt(state["v"]) + epsilon)
        return w - m_hat * lr * adaptive * rect
    return w - m_hat * lr


def global_norm(gradients):
    return np.sqrt(sum(np.sum(g * g) for g in gradients))


def oracle(update, lr_at, weight_decay=0.0, clipnorm=None, **hyper):
    """Both variables after each step, and the first one's state (with RAdam's rho_t)."""
    weights, states, history = [w.copy() for w in W0], [{}, {}], []
    for t, gradients in enumerate(GRADIENTS, start=1):
        lr = lr_at(t - 1)
        if clipnorm is not None:
            gradients = [g * min(1.0, clipnorm / global_norm(gradients)) for g in gradients]
        for i, (state, w, g) in enumerate(zip(states, weights, gradients)):
            w = w - lr * weight_decay * w
            weights[i] = update(state, w, g, t, lr, **hyper)
        history.append([w.copy() for w in weights])
    return history, states[0]


def run(keras_optimizer):
    """Apply the fixed gradients with `keras_optimizer`; both variables after each step."""
    variables = [tf.Variable(w, dtype=tf.float32) for w in W0]
    history = []
    for gradients in GRADIENTS:
        keras_optimizer.apply_gradients(
            [(tf.constant(g, tf.float32), var) for g, var in zip(gradients, variables)]
        )
        history.append([var.numpy() for var in variables])
    assert int(keras_optimizer.iterations.numpy()) == STEPS
    return history


def assert_steps_equal(actual, expected):
    for step, (a, e) in enumerate(zip(actual, expected), start=1):
        for index, (a_var, e_var) in enumerate(zip(a, e)):
            np.testing.assert_allclose(a_var, e_var, rtol=2e-5, atol=2e-6, err_msg=f"step {step} var {index}")


CASES = {
    "adam": (Adam, adam_update, {}),
    "adam_betas": (Adam, adam_update, {"beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-3}),
    "sgd": (SGD, sgd_update, {}),
    "sgd_nesterov": (SGD, sgd_update, {"momentum": 0.7, "nesterov": True}),
    "radam": (RAdam, radam_update, {}),
    # rho_inf = 19: rho_t = 1.0, 1.9, 2.9, 3.7, 4.6 (momentum steps), then 5.4, 6.2, 7.0 (rectified)
    "radam_crossing": (RAdam, radam_update, {"beta_2": 0.9, "epsilon": 1e-3}),
}
VARIANTS = {"plain": {}, "decay": {"weight_decay": 0.3}, "clip": {"clipnorm": CLIPNORM}}
VARIANTS["decay_clip"] = {**VARIANTS["decay"], **VARIANTS["clip"]}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("case", CASES)
def test_gradient_optimizers_match_their_numpy_oracles(case, variant):
    component_cls, update, hyper = CASES[case]
    extra = VARIANTS[variant]
    component = component_cls(learning_rate=LR, schedule=Constant(), **hyper, **extra)
    actual = run(component.build(total_steps=100, steps_per_epoch=10))
    expected, _ = oracle(update, lambda step: LR, **extra, **hyper)
    assert_steps_equal(actual, expected)


def test_the_cases_exercise_both_radam_branches_and_both_clip_paths():
    _, state = oracle(radam_update, lambda step: LR, beta_2=0.9)
    rho = np.array(state["rho"])
    assert (rho <= 5).sum() == 5 and (rho > 5).sum() == 3
    norms = np.array([global_norm(gradients) for gradients in GRADIENTS])
    assert (norms > CLIPNORM).any() and (norms < CLIPNORM).any()
    # Clipping each tensor separately would give another result: some step has one
    # tensor under the threshold while the pair is over it.
    assert any(global_norm(g) > CLIPNORM > min(global_norm([x]) for x in g) for g in GRADIENTS)


def test_weight_decay_uses_the_scheduled_learning_rate_of_the_step():
    component = Adam(learning_rate=LR, schedule=LinearDecay(final_learning_rate=0.0), weight_decay=0.5)
    actual = run(component.build(total_steps=STEPS, steps_per_epoch=2))
    expected, _ = oracle(adam_update, lambda step: LR * (1 - step / STEPS), weight_decay=0.5)
    assert_steps_equal(actual, expected)


def test_legacy_builds_follow_the_same_oracles():
    for component, update, hyper in [
        (Adam(learning_rate=LR, schedule=Constant(), clipnorm=CLIPNORM), adam_update, {}),
        (SGD(learning_rate=LR, schedule=Constant(), nesterov=True), sgd_update, {"nesterov": True}),
    ]:
        keras_optimizer = component.build(100, 10, legacy=True)
        assert isinstance(keras_optimizer, tf.keras.optimizers.legacy.Optimizer)
        expected, _ = oracle(update, lambda step: LR, clipnorm=component.clipnorm, **hyper)
        assert_steps_equal(run(keras_optimizer), expected)


def test_radam_round_trips_through_its_config_and_a_saved_model(tmp_path):
    schedule = CosineDecay(warmup_epochs=1.0)(LR, 100, 10)
    original = KerasRAdam(schedule, beta_2=0.99, epsilon=1e-6, weight_decay=0.1, global_clipnorm=2.0)
    restored = tf.keras.optimizers.deserialize(tf.keras.optimizers.serialize(original))
    assert type(restored) is KerasRAdam and restored.get_config() == original.get_config()

    model = tf.keras.Sequential([tf.keras.layers.Dense(2, input_shape=(3,))])
    model.compile(original, "mse")
    model.fit(np.ones((4, 3)), np.zeros((4, 2)), verbose=0)
    model.save(tmp_path / "model.h5", save_format="h5")
    loaded = tf.keras.models.load_model(tmp_path / "model.h5")
    assert type(loaded.optimizer) is KerasRAdam and loaded.optimizer.beta_2 == 0.99
    for saved, read in zip(model.optimizer.variables(), loaded.optimizer.variables()):
        np.testing.assert_array_equal(saved.numpy(), read.numpy())


def refusal(component, conf, legacy=False):
    configure(component, conf)
    with pytest.raises(UserError) as error:
        component.build(100, 10, legacy=legacy)
    message = str(error.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    "component, conf, expected",
    [
        (Adam, {"learning_rate": 0.0}, "learning_rate must be > 0; received 0.0"),
        (Adam, {"learning_rate": float("inf")}, "learning_rate must be > 0; received inf"),
        (Adam, {"weight_decay": -0.1}, "weight_decay must be >= 0; received -0.1"),
        (Adam, {"clipnorm": 0.0}, "clipnorm must be > 0 or None; received 0.0"),
        (Adam, {"beta_1": 1.0}, "beta_1 must be in [0, 1); received 1.0"),
        (RAdam, {"beta_2": -0.5}, "beta_2 must be in [0, 1); received -0.5"),
        (RAdam, {"epsilon": 0.0}, "epsilon must be > 0; received 0.0"),
        (RAdam, {"sma_threshold": 3.0}, "sma_threshold must be >= 4; received 3.0"),
        (SGD, {"momentum": 1.0}, "momentum must be in [0, 1); received 1.0"),
        (CaseOptimizer, {"binary.gamma": 0.0}, "binary.gamma must be in (0, 1]; received 0.0"),
        (CaseOptimizer, {"binary.threshold": -1.0}, "binary.threshold must be >= 0; received -1.0"),
        (CaseOptimizer, {"rest.learning_rate": -1}, "rest.learning_rate must be > 0; received -1"),
        (CaseOptimizer, {"rest.schedule": "StepDecay", "rest.schedule.factor": -2.0}, "rest.schedule.factor"),
    ],
)
def test_out_of_range_fields_are_refused_naming_field_and_value(component, conf, expected):
    assert expected in refusal(component(), conf)


def test_bop_alone_is_refused():
    assert "Bop trains only binary (±1) weights: use optimizer=CaseOptimizer" in refusal(Bop(), {})


@pytest.mark.parametrize(
    "conf, received",
    [
        ({"rest": "RAdam"}, "received rest=RAdam"),
        ({"binary": "RAdam"}, "received binary=RAdam"),
        ({"rest.weight_decay": 1e-4}, "received rest.weight_decay=0.0001"),
        ({"binary": "SGD", "binary.weight_decay": 0.1}, "received binary.weight_decay=0.1"),
        ({"binary": "CaseOptimizer"}, "received binary=CaseOptimizer"),
    ],
)
def test_inside_case_optimizer_only_legacy_capable_settings_are_accepted(conf, received):
    message = refusal(CaseOptimizer(), conf)
    assert "inside CaseOptimizer (larq's, legacy Keras optimizers) use Adam, SGD or Bop" in message
    assert message.endswith(received)


@zookeeper.component
class Run:
    """Stands for a task: the optimizer is a field of a root component."""

    optimizer: Optimizer = ComponentField(Adam)


def test_errors_name_the_field_as_typed_on_the_command_line():
    run = Run()
    configure(run, {"optimizer": "CaseOptimizer", "optimizer.rest": "SGD", "optimizer.rest.momentum": 1.5})
    with pytest.raises(UserError, match=r"^optimizer\.rest\.momentum must be in \[0, 1\); received 1\.5$"):
        run.optimizer.build(100, 10)


def test_a_second_class_under_a_registered_name_is_refused():
    clash = type("RAdam", (), {"__module__": "elsewhere"})
    with pytest.raises(UserError, match="already belongs to zoo.training.radam.RAdam"):
        register_keras_object(clash)
    assert tf.keras.utils.get_custom_objects()["RAdam"] is KerasRAdam


def test_describe_is_a_json_record_of_the_whole_tree():
    component = CaseOptimizer()
    configure(
        component,
        {"binary": "Adam", "binary.learning_rate": 0.01, "binary.schedule": "CosineDecay", "rest": "SGD"},
    )
    record = json.loads(json.dumps(describe(component)))
    assert record["name"] == "CaseOptimizer"
    assert record["binary"] == {
        "name": "Adam",
        "learning_rate": 0.01,
        "schedule": {"name": "CosineDecay", "warmup_epochs": 0.0, "final_learning_rate": 0.0},
        "weight_decay": 0.0,
        "clipnorm": None,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-7,
    }
    assert record["rest"]["name"] == "SGD" and record["rest"]["nesterov"] is False


@pytest.mark.parametrize(
    "cls", [Adam, RAdam, SGD, Bop, CaseOptimizer, Constant, LinearDecay, CosineDecay, StepDecay]
)
def test_every_field_has_one_line_of_help(cls):
    meanings = {}
    for base in reversed(cls.__mro__):
        meanings.update(vars(base).get("field_help", {}))
    for name in cls.__component_fields__:
        assert meanings.get(name) and "\n" not in meanings[name], f"{cls.__name__}.{name}"
