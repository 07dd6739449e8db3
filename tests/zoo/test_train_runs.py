"""`lqz Train<Model>` end to end: what a run writes, SIGKILL then resume, two-worker
MultiWorkerMirroredStrategy with a teacher, model fields in config.json, distillation,
two stages, and one clear error for each kind of bad input."""

import csv
import json
import re
import signal
import socket
import time
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from zookeeper import configure

from zoo.cli import main
from zoo.experiments.tasks import TrainSmallBNN
from zoo.models import CompactBNN
from zoo.models.boolnet import BoolNetFactory
from zoo.models.factory import configurable_fields
from zoo.training.optimizers import RAdam

from lqz_process import lqz, start_lqz

# SmallBNN on 12×12 synthetic images: 32 steps of 32 per epoch, a few seconds here.
SMALL_RUN = (
    "TrainSmallBNN",
    "dataset=Synthetic",
    "dataset.input_shape=12,12,1",
    "dataset.train_examples=1024",
    "batch_size=32",
)


def metrics(run_dir):
    return list(csv.DictReader((run_dir / "metrics.csv").open()))


def test_help_shows_every_field_with_its_default():
    result = lqz("TrainLabBNN", "--help")
    assert result.returncode == 0, result.stderr
    for line in (
        "dataset = FashionMnist",
        "epochs = 100",
        "batch_size = 256",
        "learning_rate = 0.0025",
        "strategy = 'default'",
        "resume = False",
    ):
        assert line in result.stdout
    assert "Datasets: Cifar10, FashionMnist, ImageFolder, ImageNet, Imagenette" in result.stdout
    commands = lqz("--help").stdout.split("Commands:")[1].split()
    assert {
        "TrainLabBNN",
        "TrainBiRealNet",
        "TrainQuickNet",
        "TrainXNORNet",
        "TrainReActNet",
        "TrainBoolNet",
        "LarqZooTrainQuickNet",
        "TrainR2B",
    } <= set(commands)


def test_lab_bnn_on_fashion_mnist_writes_config_metrics_logs_checkpoint_and_model(tmp_path):
    result = lqz(
        "TrainLabBNN",
        "dataset=FashionMnist",
        "dataset.train_examples=128",
        "dataset.validation_examples=64",
        "batch_size=32",
        "epochs=1",
        "use_progress_bar=True",
        "experiment_name=fashion",
        f"output_dir={tmp_path}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert re.search(r"4/4 \[=+\]", result.stdout)  # the per-batch progress bar
    run = tmp_path / "fashion"
    config = json.loads((run / "config.json").read_text())
    assert (config["model"], config["dataset"]["name"], config["input_shape"]) == (
        "LabBNN",
        "FashionMnist",
        [28, 28, 1],
    )
    assert [(r["epoch"], r["iterations"]) for r in metrics(run)] == [("0", "4")]
    assert list((run / "tensorboard" / "train").glob("events.out.tfevents.*"))
    reader = tf.train.load_checkpoint(str(run / "checkpoints" / "ckpt-1"))
    assert reader.get_tensor("epoch/.ATTRIBUTES/VARIABLE_VALUE") == 1
    assert reader.get_tensor("optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE") == 4
    model = tf.keras.models.load_model(run / "model.h5")
    assert model.output_shape == (None, 10)
    kernel = reader.get_tensor("model/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE")
    np.testing.assert_array_equal(model.layers[1].kernel.numpy(), kernel)


def wait_for(condition, timeout, process):
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, "training ended before the condition held"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def latest_checkpoint(run):
    index = run / "checkpoints" / "checkpoint"
    return tf.train.latest_checkpoint(str(index.parent)) if index.exists() else None


def test_sigkill_mid_epoch_then_resume_continues_from_the_last_checkpoint(tmp_path):
    run = tmp_path / "killed"
    args = (*SMALL_RUN, "epochs=3", "experiment_name=killed", f"output_dir={tmp_path}")
    first = start_lqz(*args, log_path=tmp_path / "first.log")
    try:
        wait_for(lambda: latest_checkpoint(run), 300, first)
        time.sleep(0.5)  # into the second epoch
        assert first.poll() is None
        first.send_signal(signal.SIGKILL)
        first.wait()
    finally:
        first.kill()

    saved = latest_checkpoint(run)
    saved_iterations = tf.train.load_checkpoint(saved).get_tensor(
        "optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE"
    )
    epochs_done = int(saved.rsplit("-", 1)[1])
    assert saved_iterations == 32 * epochs_done and epochs_done < 3
    for path in tf.train.get_checkpoint_state(str(run / "checkpoints")).all_model_checkpoint_paths:
        tf.train.load_checkpoint(path).get_tensor("epoch/.ATTRIBUTES/VARIABLE_VALUE")  # readable

    resumed = lqz(*args, "resume=True")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert (
        f"resumed from {saved}: {epochs_done} epochs done, optimizer iteration {saved_iterations}"
    ) in resumed.stdout
    assert [(r["epoch"], r["iterations"]) for r in metrics(run)] == [("0", "32"), ("1", "64"), ("2", "96")]
    assert not list(tmp_path.glob("killed-*"))  # resumed in place, no new folder


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_two_worker_distillation_ends_with_identical_weights(tmp_path):
    """MultiWorkerMirroredStrategy with a teacher: both workers load it in the
    strategy's scope and end with the same student; only the student is checkpointed."""
    teacher = tmp_path / "teacher.h5"  # a tiny float teacher, untrained: its softmax is a target
    CompactBNN(input_shape=(12, 12, 1), num_classes=10, binarizer="float").save(teacher, save_format="h5")
    cluster = [f"localhost:{port}" for port in free_ports(2)]
    workers = [
        start_lqz(
            *SMALL_RUN,
            "dataset.train_examples=256",
            "epochs=1",
            "strategy=multi_worker",
            f"teacher={teacher}",
            "label_weight=0.5",
            f"output_dir={tmp_path / 'out'}",
            log_path=tmp_path / f"worker{i}.log",
            TF_CONFIG=json.dumps({"cluster": {"worker": cluster}, "task": {"type": "worker", "index": i}}),
        )
        for i in range(2)
    ]
    try:
        for worker in workers:
            assert worker.wait(timeout=600) == 0, (tmp_path / "worker0.log").read_text()[-3000:]
    finally:
        for worker in workers:
            worker.kill()
    logs = [(tmp_path / f"worker{i}.log").read_text() for i in range(2)]
    fingerprints = [re.search(r"trainable weights sha256: (\w+)", log).group(1) for log in logs]
    assert fingerprints[0] == fingerprints[1]
    assert all("(8 steps per epoch, 2 replica(s))" in log for log in logs)
    chief_run = tmp_path / "out" / "SmallBNN-Synthetic"
    rows = metrics(chief_run)
    assert [r["iterations"] for r in rows] == ["8"]
    assert float(rows[0]["distillation_loss"]) > 0 and float(rows[0]["label_loss"]) > 0
    keys = [name for name, _ in tf.train.list_variables(str(chief_run / "checkpoints" / "ckpt-1"))]
    assert "optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE" in keys
    assert not [k for k in keys if "teacher" in k]
    assert json.loads((chief_run / "config.json").read_text())["teacher"] == str(teacher)
    worker_model = Path(re.search(r"final model: (\S+)", logs[1]).group(1))
    assert not worker_model.parent.exists()  # the non-chief's scratch folder is gone


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ("TrainBiRealNet", "lab_blocks=True,False"),
            r"lab_blocks has 2 entries \(True, False\), BiRealNet has 4 stages",
        ),
        (
            ("TrainLabBNN", "dataset=Imagenet"),
            r"unknown dataset 'Imagenet'; available: Cifar10, FashionMnist, ImageFolder, ImageNet",
        ),
        (("TrainLabBNN", "epoch=3"), r"unknown field 'epoch' for TrainLabBNN; its fields: batch_size"),
        (("TrainLabBNN", "batch_size=lots"), r"TrainLabBNN\.batch_size must be int; received 'lots'"),
        (
            ("TrainLabBNN", "strategy=tpu"),
            r"strategy must be one of \['default', 'mirrored', 'multi_worker'\]; received 'tpu'",
        ),
        (
            ("TrainLabBNN", "dataset=Imagenette", "dataset.data_dir={tmp}"),
            r"Imagenette \(TFDS 'imagenette/320px-v2'\) is not prepared in .*tfds build",
        ),
        (
            ("TrainLabBNN", "dataset=ImageFolder", "dataset.path={tmp}"),
            r"ImageFolder path '.*' has no images: expected one sub-folder per class",
        ),
        (
            ("TrainLabBNN", "resume=True", "experiment_name=never_ran"),
            r"resume=True but .*never_ran has no checkpoint to resume from",
        ),
        (
            ("TrainXNORNet",),  # its default dataset, 28×28 FashionMnist, is too small
            r"XNORNet needs inputs of at least 57×57 \(height, width\); received input_shape "
            r"\(28, 28, 1\)\. .*input_shape=64,64,1.* or use a dataset of larger images",
        ),
        (
            (*SMALL_RUN, "input_shape=12,12,2"),
            r"input_shape has 2 channels but the dataset's images have 1; allowed: 1 or 3",
        ),
        (("TrainCompactBNN", "binarizer=sign"), r"unknown CompactBNN binarizer 'sign'; allowed: bnn"),
        (
            ("TrainCompactBNN", "lab_blocks=True,False,True"),
            r"lab_blocks has 3 entries \(True, False, True\), CompactBNN has 4 stages",
        ),
    ],
)
def test_bad_input_is_one_clear_line_and_writes_nothing(tmp_path, capsys, args, message):
    data = tmp_path / "data"
    data.mkdir()
    args = [a.format(tmp=data) for a in args]
    assert main([*args, f"output_dir={tmp_path / 'out'}"]) == 2  # in-process: no TF start-up
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and re.match(message, lines[0].removeprefix("lqz: error: ")), lines
    assert not (tmp_path / "out").exists()


def test_batch_not_divisible_by_the_replicas_is_refused_before_waiting_for_peers(tmp_path):
    cluster = [f"localhost:{port}" for port in free_ports(2)]
    result = lqz(
        *SMALL_RUN[:2],
        "batch_size=15",
        "strategy=multi_worker",
        f"output_dir={tmp_path}",
        timeout=120,
        TF_CONFIG=json.dumps({"cluster": {"worker": cluster}, "task": {"type": "worker", "index": 0}}),
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "lqz: error: batch_size=15 must be a positive multiple of the 2 replicas in sync "
        "(the global batch is split across them)"
    )


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
