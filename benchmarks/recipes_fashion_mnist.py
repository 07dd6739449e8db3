"""Bi-RealNet at 32² on Fashion-MNIST: sign against LAB, with and without a teacher.

Every row is trained by the same task a user runs (`lqz TrainBiRealNet`, configured and
run in this process), for one small fixed budget and one seed:

    sign, no teacher   lqz TrainBiRealNet input_shape=32,32,3 dataset.train_examples=N ...
    LAB,  no teacher   ... model.lab_blocks=True,True,True,True
    sign, teacher      ... teacher=<teacher run>
    LAB,  teacher      ... model.lab_blocks=True,True,True,True teacher=<teacher run>

"sign" is Bi-RealNet's default activation binarizer (`approx_sign`). The teacher is a
float CompactBNN trained first in the same run by `lqz TrainCompactBNN
model.binarizer=float` with the same budget and input. Images are the offline IDX files
of the zoo's `FashionMnist` (28×28 grey), scaled to 32×32 and tiled to 3 channels by the
zoo's preprocessing (`input_shape=32,32,3`). The accuracy is each run's final
`val_accuracy`: the first `--test-examples` images of the official test split.
Seconds are the wall time of the task's `run()` (data pipeline, model build, training,
per-epoch validation, checkpoints and model.h5).

    python -m benchmarks.recipes_fashion_mnist [--train-examples 8192] [--epochs 2]
        [--batch-size 128] [--test-examples 2000] [--seed 0] [--output-dir DIR]
        [--csv PATH [--force]]

Runs go to a new folder `runs-*` inside `--output-dir` (default: a new temporary
folder). The tidy CSV (default `<output-dir>/recipes_fashion_mnist.csv`) is written
atomically at the end; an existing file is refused before anything trains, unless
`--force` replaces it.
"""

import argparse
import csv
import io
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import lab_bnn  # noqa: F401  (legacy Keras before TensorFlow)
from lab_bnn.errors import UserError

import tensorflow as tf
from zookeeper import configure

from benchmarks.host import host_description
from zoo.experiments.run_folder import write_text_atomic
from zoo.experiments.tasks import TrainBiRealNet, TrainCompactBNN

INPUT_SHAPE = (32, 32, 3)
LAB_EVERYWHERE = (True, True, True, True)
# (binarizer label, the model fields that select it)
BINARIZERS = {"sign": {}, "LAB": {"model.lab_blocks": LAB_EVERYWHERE}}
SPLIT_SIZES = {"train_examples": 60_000, "test_examples": 10_000}  # Fashion-MNIST's splits
CSV_NAME = "recipes_fashion_mnist.csv"
CSV_COLUMNS = (
    "model", "binarizer", "teacher", "test_accuracy", "test_examples", "train_seconds",
    "train_examples", "epochs", "batch_size", "seed", "host", "run_dir",
)  # fmt: skip


@dataclass(frozen=True)
class Budget:
    """What every row (and the teacher) is trained with."""

    train_examples: int = 8192
    epochs: int = 2
    batch_size: int = 128
    test_examples: int = 2000
    seed: int = 0

    def __post_init__(self):
        for name, value in asdict(self).items():
            smallest = 0 if name == "seed" else 1
            if not isinstance(value, int) or isinstance(value, bool) or value < smallest:
                kind = "a non-negative" if smallest == 0 else "a positive"
                raise UserError(f"--{name.replace('_', '-')} must be {kind} integer; received {value!r}")
        for name, largest in SPLIT_SIZES.items():
            if getattr(self, name) > largest:
                raise UserError(
                    f"--{name.replace('_', '-')} must be at most {largest} (Fashion-MNIST's split); "
                    f"received {getattr(self, name)}"
                )
        if self.batch_size > self.train_examples:
            raise UserError(
                f"--batch-size must be at most --train-examples ({self.train_examples}); "
                f"received {self.batch_size}"
            )

    def task_fields(self) -> Dict[str, object]:
        """The task fields shared by every run: data, shape, epochs, batch, seed."""
        return {
            "dataset": "FashionMnist",
            "dataset.train_examples": self.train_examples,
            "dataset.validation_examples": self.test_examples,
            "input_shape": INPUT_SHAPE,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "seed": self.seed,
        }


def train(task_class: type, fields: Dict[str, object], runs_dir: Path, name: str) -> dict:
    """Configure and run `task_class` into runs_dir/name.

    Returns:
        {"run_dir", "seconds", "test_accuracy"}: the last epoch's val_accuracy.
    """
    task = task_class()
    configure(task, {**fields, "output_dir": str(runs_dir), "experiment_name": name})
    tf.keras.backend.clear_session()
    start = time.perf_counter()
    task.run()
    seconds = time.perf_counter() - start
    run_dir = runs_dir / name  # runs_dir is new, so the task did not rename it
    with open(run_dir / "metrics.csv", newline="") as f:
        last_epoch = list(csv.DictReader(f))[-1]
    return {"run_dir": run_dir, "seconds": seconds, "test_accuracy": float(last_epoch["val_accuracy"])}


def run_rows(budget: Budget, runs_dir: Path, host: str) -> List[dict]:
    """Train the teacher, then the four rows (no teacher first); returns the rows."""
    teacher = train(
        TrainCompactBNN, {**budget.task_fields(), "model.binarizer": "float"}, runs_dir, "teacher"
    )
    print(
        f"teacher: float CompactBNN, test accuracy {teacher['test_accuracy']:.4f}, "
        f"{teacher['seconds']:.1f} s, {teacher['run_dir']}",
        flush=True,
    )
    rows = []
    for with_teacher in (False, True):
        for binarizer, model_fields in BINARIZERS.items():
            fields = {**budget.task_fields(), **model_fields}
            if with_teacher:
                fields["teacher"] = str(teacher["run_dir"])
            name = f"{binarizer.lower()}-{'teacher' if with_teacher else 'labels'}"
            result = train(TrainBiRealNet, fields, runs_dir, name)
            rows.append(
                {
                    "model": "BiRealNet",
                    "binarizer": binarizer,
                    "teacher": "yes" if with_teacher else "no",
                    "test_accuracy": round(result["test_accuracy"], 4),
                    "train_seconds": round(result["seconds"], 1),
                    **{k: v for k, v in asdict(budget).items()},
                    "host": host,
                    "run_dir": str(result["run_dir"]),
                }
            )
            print(f"row done: {binarizer}, teacher {rows[-1]['teacher']}", flush=True)
    return rows


def table(rows: Sequence[dict]) -> str:
    """The printed table: binarizer, teacher, test accuracy, seconds, host."""
    lines = [f"{'binarizer':<10} {'teacher':<8} {'test_accuracy':>13} {'train_seconds':>13}  host"]
    for row in rows:
        lines.append(
            f"{row['binarizer']:<10} {row['teacher']:<8} {row['test_accuracy']:>13.4f} "
            f"{row['train_seconds']:>13.1f}  {row['host']}"
        )
    return "\n".join(lines)


def csv_text(rows: Sequence[dict]) -> str:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue()


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    defaults = Budget()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train-examples", type=int, default=defaults.train_examples)
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--test-examples", type=int, default=defaults.test_examples)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--output-dir", type=Path, default=None, help="default: a new temporary folder")
    parser.add_argument("--csv", type=Path, default=None, help=f"default: <output-dir>/{CSV_NAME}")
    parser.add_argument("--force", action="store_true", help="replace an existing CSV")
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> List[dict]:
    """Run the benchmark; returns its rows.

    Raises:
        UserError: for a budget value out of range, an output folder that is a file, or
            an existing CSV without --force (all before anything trains).
    """
    args = parse_args(argv)
    budget = Budget(args.train_examples, args.epochs, args.batch_size, args.test_examples, args.seed)
    output_dir = args.output_dir or Path(tempfile.mkdtemp(prefix="recipes_fashion_mnist-"))
    if output_dir.exists() and not output_dir.is_dir():
        raise UserError(f"--output-dir must be a folder; received {output_dir}, a file")
    csv_path = args.csv or output_dir / CSV_NAME
    if csv_path.exists() and not args.force:
        raise UserError(f"--csv {csv_path} exists; pass --force to replace it, or choose another path")
    output_dir.mkdir(parents=True, exist_ok=True)
    runs_dir = Path(tempfile.mkdtemp(prefix="runs-", dir=output_dir))  # new: no run is renamed
    host = host_description()
    print(f"host: {host}")
    print(f"budget: {asdict(budget)}; input {INPUT_SHAPE}; runs in {runs_dir}", flush=True)

    rows = run_rows(budget, runs_dir, host)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(csv_path, csv_text(rows))
    print()
    print(table(rows))
    print(f"csv: {csv_path}")
    return rows


if __name__ == "__main__":
    try:
        main()
    except UserError as error:
        sys.exit(f"recipes_fashion_mnist: error: {error}")
