"""One leaderboard row: train a model with one binarizer (resuming a killed run),
then evaluate, convert, verify and time it, and store the result beside the run."""

import json
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional, Tuple

from lab_bnn.errors import UserError
from lab_bnn.recipes import RECIPES

import larq as lq
import numpy as np
import tensorflow as tf
from zookeeper import configure
from zookeeper.core.component import base_getattr

from benchmarks.kernel_paths import make_interpreter, run
from benchmarks.latency import measure_latency
from benchmarks.op_profile import profile_ops
from converter import audit, check_parity, convert
from converter.output_files import next_free_path
from zoo.experiments.run_folder import write_json_atomic
from zoo.experiments.tasks import TrainCompactBNN
from zoo.models.compact_bnn import BOOLNET_K4, FLOAT
from zoo.preprocessing import batches

RESULT_FILE = "result.json"
PARITY_SAMPLES = 128
# Bi-Real Net's and ReActNet's OPs: a 64-bit XNOR-popcount does 64 binary MACs.
BINARY_MACS_PER_OP = 64


@dataclass(frozen=True)
class Budget:
    """What every row is trained with: same budget, same seed."""

    epochs: int = 3
    batch_size: int = 128
    learning_rate: float = 3e-3
    seed: int = 0
    train_examples: Optional[int] = None  # None = the whole split
    validation_examples: Optional[int] = None

    def __post_init__(self):
        for name in ("epochs", "batch_size", "train_examples", "validation_examples"):
            value = getattr(self, name)
            if value is None and name.endswith("examples"):
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise UserError(f"{name} must be a positive integer; received {value!r}")
        if not self.learning_rate > 0:
            raise UserError(f"learning_rate must be positive; received {self.learning_rate!r}")


def title(binarizer: str) -> str:
    """The paper's name of a binarizer choice."""
    if binarizer in RECIPES:
        return RECIPES[binarizer].title
    return {BOOLNET_K4: "BoolNet (k = 4)", FLOAT: "full precision"}.get(binarizer, binarizer)


def training_task(
    binarizer: str, dataset: str, budget: Budget, runs_dir: Path, resume: bool
) -> TrainCompactBNN:
    """`lqz TrainCompactBNN` configured for this row (not run)."""
    conf = {
        "model.binarizer": binarizer,
        "dataset": dataset,
        "epochs": budget.epochs,
        "batch_size": budget.batch_size,
        "optimizer.learning_rate": budget.learning_rate,
        "seed": budget.seed,
        "output_dir": str(runs_dir),
        "experiment_name": binarizer,
        "resume": resume,
    }
    for field in ("train_examples", "validation_examples"):
        if getattr(budget, field) is not None:
            conf[f"dataset.{field}"] = getattr(budget, field)
    task = TrainCompactBNN()
    configure(task, conf)
    return task


def train(binarizer: str, dataset: str, budget: Budget, runs_dir: Path) -> Tuple[TrainCompactBNN, float]:
    """Train runs_dir/<binarizer> unless its model.h5 exists; a run killed after a
    checkpoint resumes from it, one killed before any is moved aside (kept)."""
    folder = runs_dir / binarizer
    has_checkpoint = (folder / "checkpoints" / "checkpoint").exists()
    if (folder / "model.h5").exists():
        return training_task(binarizer, dataset, budget, runs_dir, resume=False), 0.0
    if folder.exists() and not has_checkpoint:
        folder.rename(next_free_path(folder.with_name(f"{binarizer}.incomplete")))
    task = training_task(binarizer, dataset, budget, runs_dir, resume=has_checkpoint)
    tf.keras.backend.clear_session()
    start = time.perf_counter()
    task.run()
    return task, time.perf_counter() - start


def validation_arrays(task: TrainCompactBNN) -> Tuple[np.ndarray, np.ndarray]:
    """The task's validation split, preprocessed as in training, as arrays."""
    data, _ = task.dataset.split("validation")
    images, labels = [], []
    for x, y in batches(data, task.model_input_shape(), 256, False, task.dataset.augment):
        images.append(x.numpy())
        labels.append(y.numpy())
    return np.concatenate(images), np.concatenate(labels)


def measure(
    task: TrainCompactBNN,
    train_seconds: float,
    *,
    threads: int = 1,
    latency_runs: int = 100,
    profile: bool = False,
) -> dict:
    """Accuracy (Keras and LCE), conversion audit, parity, theoretical ops and host
    latency of the trained run; writes model.tflite, audit.csv (and op_profile.csv)
    beside it. Conversion problems are reported in the row, not raised."""
    folder = Path(task.output_dir) / task.experiment_name
    model = tf.keras.models.load_model(folder / "model.h5", compile=False)
    images, labels = validation_arrays(task)
    keras_accuracy = float(np.mean(model.predict(images, batch_size=256, verbose=0).argmax(-1) == labels))
    macs = lq.models.ModelProfile(model)
    row = {
        "binarizer": binarizer_of(task),
        "title": title(binarizer_of(task)),
        "status": "ok",
        "accuracy": keras_accuracy,
        "theoretical_binary_macs": int(macs.op_count("mac", 1)),
        "theoretical_float_macs": int(macs.op_count("mac", 32)),
        "train_seconds": round(train_seconds, 1),
        "test_examples": int(len(labels)),
        **{
            k: v
            for k, v in asdict(budget_of(task)).items()
            if k not in ("train_examples", "validation_examples")
        },
        "model": task.model_name,
        "dataset": type(task.dataset).__name__,
        "run_dir": str(folder),
    }
    row["theoretical_ops"] = (
        row["theoretical_float_macs"] + row["theoretical_binary_macs"] / BINARY_MACS_PER_OP
    )
    try:
        flatbuffer = convert(model)
    except Exception as error:  # a row explains its failure; the others go on
        return {**row, "status": "conversion failed", "conversion": f"{type(error).__name__}: {error}"}
    (folder / "model.tflite").write_bytes(flatbuffer)
    row.update(conversion_columns(model, flatbuffer, folder))
    binary = row["binary_convs"] > 0
    parity = check_parity(model, flatbuffer, images[:PARITY_SAMPLES], sign_flips=binary)
    row["parity_top1_agreement"] = parity.top1_agreement
    row["max_sign_flip_rate"] = parity.max_sign_flip_rate if binary else 0.0

    latency = measure_latency(flatbuffer, threads=threads, runs=latency_runs, kernel="auto")
    row.update(latency_ms=latency.median_ms, kernel=latency.kernel, threads=threads, host=latency.host)
    interpreter = make_interpreter(flatbuffer, latency.kernel, threads)
    lce_logits = run(interpreter, [images])[0]
    row["lce_accuracy"] = float(np.mean(lce_logits.argmax(-1) == labels))
    if profile:
        ops = profile_ops(flatbuffer, threads=threads, kernel=latency.kernel)
        ops.to_csv(folder / "op_profile.csv", index=False)
    return row


def conversion_columns(model: tf.keras.Model, flatbuffer: bytes, folder: Path) -> dict:
    """Size, deployed binary-MAC fraction and which intended binary layers stayed float."""
    meant_binary = any(getattr(l, "input_quantizer", None) is not None for l in model.layers)
    report = audit(flatbuffer, model if meant_binary else None)
    report.operators.to_csv(folder / "audit.csv", index=False)
    summary = report.summary
    stayed = report.stayed_float
    if not meant_binary:
        conversion = "float model"
    elif stayed.empty:
        conversion = f"all {summary['binary_convs']} binary convs are LceBconv2d"
    else:
        conversion = (
            f"{len(stayed)} of {summary['layers_meant_binary']} binary layers stayed "
            f"float: {stayed.reason.iloc[0]}"
        )
    return {
        "size_bytes": summary["size_bytes"],
        "binary_convs": summary["binary_convs"],
        "binary_mac_fraction": summary["binary_mac_fraction"],
        "conversion": conversion,
    }


def binarizer_of(task: TrainCompactBNN) -> str:
    """The row's binarizer: the task's `model.binarizer` (read without building the model)."""
    return base_getattr(task, "model").binarizer


def budget_of(task: TrainCompactBNN) -> Budget:
    return Budget(
        task.epochs,
        task.batch_size,
        task.optimizer.learning_rate,
        task.seed,
        task.dataset.train_examples,
        task.dataset.validation_examples,
    )


def run_row(binarizer: str, dataset: str, budget: Budget, runs_dir: Path, **measure_options) -> dict:
    """Train (or resume) and measure one row; a finished row's stored result is
    returned as it is. Failures become a row with status 'failed' and the error."""
    stored = runs_dir / binarizer / RESULT_FILE
    if stored.exists():
        return json.loads(stored.read_text())
    try:
        task, seconds = train(binarizer, dataset, budget, runs_dir)
        row = measure(task, seconds, **measure_options)
    except Exception as error:  # noqa: BLE001 — a row explains its failure; the others go on
        traceback.print_exc()
        return {
            "binarizer": binarizer,
            "title": title(binarizer),
            "status": "failed",
            "conversion": f"{type(error).__name__}: {error}",
        }
    write_json_atomic(stored, row)  # written last: its presence means the row is finished
    return row
