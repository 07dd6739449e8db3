"""`lqz Train<Model>` end to end: what a run writes, SIGKILL then resume, two-worker
MultiWorkerMirroredStrategy with a teacher, and one clear error for each kind of bad input
(model fields, distillation, stages and CaseOptimizer: test_train_recipes.py)."""

import json
import re
import signal
import socket
import time
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from zoo.cli import main
from zoo.models import CompactBNN

from lqz_process import SMALL_RUN, lqz, metrics, start_lqz


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
