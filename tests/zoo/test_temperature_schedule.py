"""`lqz TrainBoolNet`/`TrainBaseNet` drive BoolNet's weight temperature: T falls by
0.965 every N steps while training, model.h5 and the checkpoint keep it, and LCE's
conversion of the trained model gives its outputs."""

from lab_bnn.errors import UserError
from lab_bnn.quantizers import ProgressiveSign

import numpy as np
import pytest
import tensorflow as tf
from zookeeper import configure

from converter import check_parity, convert
from zoo.cli import main
from zoo.experiments import tasks
from zoo.experiments.checkpoints import TrainingState
from zoo.models import available, get_model

from sign_margins import assert_faithful_up_to_rounding

# Every task that schedules a temperature, found by class so new ones are covered.
TEMPERATURE_TASKS = sorted(
    name
    for name, cls in vars(tasks).items()
    if isinstance(cls, type)
    and issubclass(cls, tasks.TrainWithTemperature)
    and cls is not tasks.TrainWithTemperature
)
SHAPE = (32, 32, 3)
STEPS, EVERY = 5, 2  # 5 steps of 16, T multiplied at steps 2 and 4


def temperatures(model):
    return [m.current_temperature.numpy() for m in model.submodules if isinstance(m, ProgressiveSign)]


def configured(task_name, **fields):
    task = getattr(tasks, task_name)()
    configure(
        task,
        {
            "dataset": "Synthetic",
            "dataset.input_shape": SHAPE,
            "dataset.train_examples": 16 * STEPS,
            "dataset.validation_examples": 16,
            "batch_size": 16,
            "epochs": 1,
            **fields,
        },
    )
    return task


@pytest.mark.parametrize("name", available())
def test_every_model_with_progressive_sign_trains_with_a_temperature_task(name):
    zoo_model = get_model(name)
    model = zoo_model.build(input_shape=zoo_model.small_input, num_classes=10)
    if temperatures(model):
        assert f"Train{name}" in TEMPERATURE_TASKS


@pytest.mark.parametrize("task_name", TEMPERATURE_TASKS)
def test_temperature_falls_while_training_and_the_conversion_matches(task_name, tmp_path):
    task = configured(
        task_name, temperature_every_n_steps=EVERY, output_dir=str(tmp_path), experiment_name="run"
    )
    task.run()
    run = tmp_path / "run"
    expected = np.float32(tasks.BOOLNET_TEMPERATURE_FACTOR ** (STEPS // EVERY))

    model = tf.keras.models.load_model(run / "model.h5", compile=False)
    assert temperatures(model), "the model has no progressive_sign weights to schedule"
    np.testing.assert_allclose(temperatures(model), expected, rtol=1e-6)

    resumed = task.compiled_model(STEPS)  # as resume=True restores it
    TrainingState(resumed, tmp_path / "unused").restore_latest(run / "checkpoints")
    np.testing.assert_allclose(temperatures(resumed), expected, rtol=1e-6)

    # Keras vs LCE (reference kernels, which run grouped convs); 1e-3 for grouped convs.
    samples = np.random.RandomState(0).uniform(-1, 1, (16, *SHAPE)).astype(np.float32)
    parity = check_parity(model, convert(model), samples, kernel_path={"use_reference_bconv": True})
    assert_faithful_up_to_rounding(
        parity.sign_flip_rates, parity.flip_free_samples, parity.max_abs_diff_flip_free, 1e-3, parity
    )


@pytest.mark.parametrize("task_name", TEMPERATURE_TASKS)
def test_default_every_n_steps_keeps_boolnets_imagenet_rate_per_epoch(task_name):
    task = configured(task_name)
    assert task.temperature_steps(tasks.BOOLNET_STEPS_PER_EPOCH) == tasks.BOOLNET_EVERY_N_STEPS
    paper_rate = tasks.BOOLNET_STEPS_PER_EPOCH / tasks.BOOLNET_EVERY_N_STEPS  # decays/epoch
    for steps_per_epoch in (7, 234, 2 * tasks.BOOLNET_STEPS_PER_EPOCH):
        every = task.temperature_steps(steps_per_epoch)
        # N is a whole number of steps: at most half a step from the paper's rate.
        assert abs(steps_per_epoch / every - paper_rate) <= paper_rate * 0.5 / every
    assert task.temperature_steps(1) == 1  # never 0 on a tiny dataset
    assert configured(task_name, temperature_every_n_steps=3).temperature_steps(234) == 3


@pytest.mark.parametrize("value", [0, -5])
def test_a_non_positive_every_n_steps_is_a_user_error(value, tmp_path, capsys):
    with pytest.raises(
        UserError,
        match=rf"temperature_every_n_steps must be a positive "
        rf"integer or None.*received {value}",
    ):
        configured("TrainBoolNet", temperature_every_n_steps=value)
    assert main(["TrainBoolNet", f"temperature_every_n_steps={value}", f"output_dir={tmp_path / 'out'}"]) == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .splitlines()[-1]
        .startswith("lqz: error: temperature_every_n_steps must be a positive integer")
    )
    assert not (tmp_path / "out").exists()
