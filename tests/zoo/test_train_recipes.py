"""`lqz Train<Model>` with issue 16's knobs end to end: model fields in config.json,
distillation from a teacher trained by lqz, two stages, and CaseOptimizer under a
strategy."""

import json
import re

import numpy as np
import tensorflow as tf
from zookeeper import configure

from zoo.cli import main
from zoo.experiments.tasks import TrainSmallBNN
from zoo.models.boolnet import BoolNetFactory
from zoo.models.factory import configurable_fields
from zoo.training.optimizers import RAdam

from lqz_process import SMALL_RUN, lqz, metrics


def test_boolnet_model_fields_train_and_config_json_records_every_field(tmp_path, capsys):
    """The issue's "done when": model fields on the command line, a short BoolNet run,
    and config.json with every model, optimizer and schedule field."""
    args = (
        "TrainBoolNet",
        "model.k=2",
        "model.padding_mode=one",
        "dataset=Synthetic",
        "dataset.input_shape=32,32,3",
        "dataset.train_examples=16",
        "dataset.validation_examples=8",
        "batch_size=8",
        "epochs=1",
        "experiment_name=boolnet",
        f"output_dir={tmp_path}",
    )
    result = lqz(*args)
    assert result.returncode == 0, result.stderr[-3000:]
    config = json.loads((tmp_path / "boolnet" / "config.json").read_text())
    assert set(config["model_fields"]) == set(configurable_fields(BoolNetFactory))
    assert (config["model_fields"]["k"], config["model_fields"]["padding_mode"]) == (2, "one")
    assert config["model_fields"]["feature_reuse"] is True
    assert set(config["optimizer"]) == {"name", *RAdam.__component_fields__}
    assert (config["optimizer"]["name"], config["optimizer"]["clipnorm"]) == ("RAdam", 2.5)
    assert config["optimizer"]["schedule"] == {
        "name": "CosineDecay",
        "warmup_epochs": 0.0,
        "final_learning_rate": 1e-8,
    }
    assert tf.keras.models.load_model(tmp_path / "boolnet" / "model.h5").layers  # it loads

    assert main([*args, "model.k=4", "resume=True"]) == 2  # in-process: refused before building
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and re.match(
        r"lqz: error: resume=True but model\.k=4 differs from the run in .*\(model\.k=2\)", error[0]
    )


def test_distillation_from_a_float_teacher_trained_by_lqz_lowers_the_distillation_loss(tmp_path):
    """Fashion-MNIST slices: a float CompactBNN teacher trained by lqz, then a binary
    CompactBNN student against it; metrics.csv shows the distillation loss falling."""
    data = ("dataset.train_examples=1024", "dataset.validation_examples=128", "batch_size=64")
    result = lqz(
        "TrainCompactBNN",
        "model.binarizer=float",
        *data,
        "epochs=1",
        "experiment_name=teacher",
        f"output_dir={tmp_path}",
        "+",
        "TrainCompactBNN",
        f"teacher={tmp_path / 'teacher'}",
        *data,
        "epochs=2",
        "experiment_name=student",
        f"output_dir={tmp_path}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = metrics(tmp_path / "student")
    losses = [float(r["distillation_loss"]) for r in rows]
    assert len(losses) == 2 and losses[1] < losses[0], rows
    assert all(float(r["label_loss"]) > 0 for r in rows)
    student = tf.keras.models.load_model(tmp_path / "student" / "model.h5")
    assert student.name == "compact_bnn_bnn"  # the student is saved, not the distiller
    keys = [name for name, _ in tf.train.list_variables(str(tmp_path / "student" / "checkpoints" / "ckpt-2"))]
    assert not [k for k in keys if "teacher" in k]
    assert (
        tf.train.load_checkpoint(str(tmp_path / "student" / "checkpoints" / "ckpt-2")).get_tensor(
            "optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE"
        )
        == 2 * 1024 // 64
    )


def small_run_conf(**fields):
    """SMALL_RUN as the dict that `configure` takes."""
    conf = {
        "dataset": "Synthetic",
        "dataset.input_shape": (12, 12, 1),
        "dataset.train_examples": 1024,
        "batch_size": 32,
    }
    return {**conf, **fields}


def test_stage_2_starts_from_stage_1_weights_exactly_and_resume_checks_the_stage(tmp_path, capsys):
    result = lqz(
        *SMALL_RUN,
        "dataset.train_examples=64",
        "stage=1",
        "epochs=1",
        "experiment_name=stage1",
        f"output_dir={tmp_path}",
        "+",
        *SMALL_RUN,
        "dataset.train_examples=64",
        "stage=2",
        f"initialize_from={tmp_path / 'stage1'}",
        "epochs=1",
        "experiment_name=stage2",
        f"output_dir={tmp_path}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    stage1 = tf.keras.models.load_model(tmp_path / "stage1" / "model.h5")
    configs = [layer.get_config() for layer in stage1.layers]
    assert not [c["name"] for c in configs if c.get("kernel_quantizer")]  # real-valued weights
    assert [c["name"] for c in configs if c.get("input_quantizer")]  # binary activations

    task = TrainSmallBNN()
    configure(task, small_run_conf(stage=2, initialize_from=str(tmp_path / "stage1")))
    stage2 = task.initial_model()  # what the run trains from, before its first step
    assert [layer.name for layer in stage2.layers] == [layer.name for layer in stage1.layers]
    with_weights = [layer for layer in stage2.layers if layer.weights]
    assert with_weights and [
        layer.name for layer in with_weights if layer.get_config().get("kernel_quantizer")
    ]
    for layer in with_weights:
        source = stage1.get_layer(layer.name)
        assert len(layer.weights) == len(source.weights), layer.name
        for mine, theirs in zip(layer.weights, source.weights):
            np.testing.assert_array_equal(mine.numpy(), theirs.numpy(), err_msg=mine.name)

    conf = [
        *SMALL_RUN,
        "dataset.train_examples=64",
        "epochs=2",
        "experiment_name=stage2",
        f"output_dir={tmp_path}",
    ]
    assert main([*conf, "stage=1", "resume=True"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert error == [
        f"lqz: error: resume=True but stage=1 differs from the run in {tmp_path / 'stage2'} (stage=2)"
    ]


def test_case_optimizer_under_mirrored_strategy_trains_and_resumes(tmp_path):
    """larq's CaseOptimizer (legacy Keras optimizers, larq's merge_call path) under
    MirroredStrategy: Bop leaves every binary kernel's latent weights at ±1, the
    iterations count steps, and a second epoch resumes from the checkpoint."""
    args = (*SMALL_RUN, "dataset.train_examples=128", "strategy=mirrored", "optimizer=CaseOptimizer")
    args = (*args, "experiment_name=case", f"output_dir={tmp_path}")
    first = lqz(*args, "epochs=1")
    assert first.returncode == 0, first.stderr[-3000:]
    resumed = lqz(*args, "epochs=2", "resume=True")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert (
        f"resumed from {tmp_path / 'case' / 'checkpoints' / 'ckpt-1'}: 1 epochs done, optimizer iteration 4"
        in (resumed.stdout)
    )
    assert [(r["epoch"], r["iterations"]) for r in metrics(tmp_path / "case")] == [("0", "4"), ("1", "8")]
    model = tf.keras.models.load_model(tmp_path / "case" / "model.h5")
    binary = [layer for layer in model.layers if layer.get_config().get("kernel_quantizer")]
    assert binary
    for layer in binary:
        assert set(np.unique(layer.kernel.numpy())) <= {-1.0, 1.0}, layer.name  # Bop's flips only
    config = json.loads((tmp_path / "case" / "config.json").read_text())
    assert (config["optimizer"]["binary"]["name"], config["optimizer"]["rest"]["name"]) == ("Bop", "Adam")
