"""Learning-rate schedule components against NumPy transcriptions of their formulas,
at the steps where they change shape: 0, 1, the warm-up's end and boundaries, the
middle, the last step and beyond. The step is 0-based, as a Keras optimizer passes
its `iterations` before the step."""

import math

from lab_bnn.errors import UserError

import numpy as np
import pytest
import tensorflow as tf
from zookeeper import configure

from zoo.training.schedules import Constant, CosineDecay, LinearDecay, StepDecay

LR, FINAL, SPE, EPOCHS = 0.1, 0.004, 10, 10
TOTAL = SPE * EPOCHS
WARMUP_EPOCHS = 2.5
W = 25  # WARMUP_EPOCHS * SPE


def linear_oracle(t, lr, final, total):
    return lr + (final - lr) * min(t, total) / total


def cosine_oracle(t, lr, final, warmup, total):
    if t < warmup:
        return lr * t / warmup
    decay = max(total - warmup, 1)
    return final + (lr - final) * 0.5 * (1 + math.cos(math.pi * min(t - warmup, decay) / decay))


def constant_oracle(t, lr, warmup):
    return lr * t / warmup if t < warmup else lr


def step_oracle(t, lr, boundaries, factor, spe):
    # PyTorch MultiStepLR: epoch e (0-based) uses lr * factor^(#boundaries <= e).
    return lr * factor ** sum(t // spe >= b for b in boundaries)


def at(schedule, step):
    """The learning rate of the 0-based `step`, as the optimizer reads it."""
    if isinstance(schedule, float):
        return schedule
    return float(schedule(tf.constant(step, tf.int64)))


STEPS = sorted({0, 1, W - 1, W, (W + TOTAL) // 2, TOTAL - 1, TOTAL, TOTAL + 5})


@pytest.mark.parametrize("step", STEPS)
def test_linear_decay(step):
    schedule = LinearDecay(final_learning_rate=FINAL)(LR, TOTAL, SPE)
    assert at(schedule, step) == pytest.approx(linear_oracle(step, LR, FINAL, TOTAL), rel=1e-6)


@pytest.mark.parametrize("step", STEPS)
def test_cosine_decay_with_warmup(step):
    schedule = CosineDecay(warmup_epochs=WARMUP_EPOCHS, final_learning_rate=FINAL)(LR, TOTAL, SPE)
    expected = cosine_oracle(step, LR, FINAL, W, TOTAL)
    assert at(schedule, step) == pytest.approx(expected, rel=1e-5, abs=1e-9)


@pytest.mark.parametrize("step", STEPS)
def test_cosine_decay_without_warmup(step):
    schedule = CosineDecay(final_learning_rate=FINAL)(LR, TOTAL, SPE)
    expected = cosine_oracle(step, LR, FINAL, 0, TOTAL)
    assert at(schedule, step) == pytest.approx(expected, rel=1e-5, abs=1e-9)


@pytest.mark.parametrize("step", STEPS)
def test_constant_with_and_without_warmup(step):
    assert at(Constant()(LR, TOTAL, SPE), step) == LR
    warm = Constant(warmup_epochs=WARMUP_EPOCHS)(LR, TOTAL, SPE)
    assert at(warm, step) == pytest.approx(constant_oracle(step, LR, W), rel=1e-6, abs=1e-9)


BOUNDARIES = (3, 6)


@pytest.mark.parametrize("step", sorted({*STEPS, 29, 30, 31, 59, 60}))
def test_step_decay(step):
    schedule = StepDecay(boundaries=BOUNDARIES, factor=0.5)(LR, TOTAL, SPE)
    assert at(schedule, step) == pytest.approx(step_oracle(step, LR, BOUNDARIES, 0.5, SPE), rel=1e-6)


def test_the_steps_cover_every_phase():
    """The oracle values at the chosen steps include warm-up, decay and the floor,
    so the comparisons above are not all of one flat stretch."""
    values = [cosine_oracle(t, LR, FINAL, W, TOTAL) for t in STEPS]
    assert values[0] == 0 and max(values) == pytest.approx(LR) and values[-1] == pytest.approx(FINAL)
    assert len({step_oracle(t, LR, BOUNDARIES, 0.5, SPE) for t in (29, 30, 59, 60)}) == 3


def test_a_zero_step_run_still_has_a_schedule():
    assert at(LinearDecay()(LR, 0, SPE), 0) == pytest.approx(LR)


@pytest.mark.parametrize(
    "schedule, conf, message",
    [
        (LinearDecay, {"final_learning_rate": -1e-3}, "final_learning_rate must be >= 0; received -0.001"),
        (CosineDecay, {"warmup_epochs": -1.0}, "warmup_epochs must be >= 0; received -1.0"),
        (CosineDecay, {"final_learning_rate": 0.5}, "final_learning_rate must be in [0, 0.1]; received 0.5"),
        (Constant, {"warmup_epochs": float("nan")}, "warmup_epochs must be >= 0; received nan"),
        (StepDecay, {"boundaries": (6, 3)}, "boundaries must be increasing positive epochs"),
        (StepDecay, {"boundaries": (0, 3)}, "boundaries must be increasing positive epochs"),
        (StepDecay, {"factor": 0.0}, "factor must be > 0; received 0.0"),
    ],
)
def test_out_of_range_fields_are_one_line_user_errors(schedule, conf, message):
    component = schedule()
    configure(component, conf)
    with pytest.raises(UserError) as error:
        component(LR, TOTAL, SPE)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_schedules_are_json_describable_with_documented_fields():
    from zoo.training import describe

    assert describe(StepDecay()) == {"name": "StepDecay", "boundaries": [30, 60, 90], "factor": 0.1}
    for cls in (Constant, LinearDecay, CosineDecay, StepDecay):
        assert set(cls.field_help) == set(cls.__component_fields__), cls.__name__
        assert all(text and "\n" not in text for text in cls.field_help.values())


def test_schedule_values_are_float32_finite():
    schedule = CosineDecay(warmup_epochs=1.0)(LR, TOTAL, SPE)
    values = np.array([at(schedule, t) for t in range(0, TOTAL + 5)])
    assert np.isfinite(values).all() and (values >= 0).all() and values.max() <= LR * (1 + 1e-6)
