"""`lqz LabDemo`: train a small LAB BNN on Fashion-MNIST, convert it, show its ops."""

import collections
from pathlib import Path

import numpy as np
import tensorflow as tf
from larq_compute_engine.tflite.python.interpreter import Interpreter
from zookeeper import Field

from converter.convert import convert
from converter.tflite_ops import read_operators
from zoo.datasets import load_fashion_mnist
from zoo.models import SmallBNN
from zoo.task_help import task


def next_free_dir(parent: Path, prefix: str = "run-") -> Path:
    """parent/run-N with the smallest N not taken, so no earlier result is overwritten."""
    parent.mkdir(parents=True, exist_ok=True)
    n = 1
    while (parent / f"{prefix}{n}").exists():
        n += 1
    path = parent / f"{prefix}{n}"
    path.mkdir()
    return path


@task
class LabDemo:
    """Train a small BNN with LAB in every block for a few steps on Fashion-MNIST
    (offline, from the Debian package), convert it with LCE (LAB fused to one depthwise
    conv + sign) and print the converted op list and Keras-vs-LCE agreement."""

    field_help = {
        "steps": "training steps (batches)",
        "batch_size": "images per step",
        "learning_rate": "Adam's learning rate",
        "test_images": "test images on which Keras and LCE accuracy are compared",
        "data_dir": "Fashion-MNIST's folder; '' = $LAB_BNN_FASHION_MNIST_DIR or the Debian package",
        "output_dir": "runs go to output_dir/run-N",
        "seed": "seed of weights and shuffling",
    }
    steps: int = Field(200)
    batch_size: int = Field(64)
    learning_rate: float = Field(2.5e-3)
    test_images: int = Field(2000)
    data_dir: str = Field("")  # "" = $LAB_BNN_FASHION_MNIST_DIR or the Debian package
    output_dir: str = Field("runs/lab_demo")
    seed: int = Field(0)

    def run(self):
        tf.keras.utils.set_random_seed(self.seed)
        train_x, train_y = load_fashion_mnist("train", self.data_dir or None)
        test_x, test_y = load_fashion_mnist("test", self.data_dir or None)
        n_train = min(self.steps * self.batch_size, len(train_x))
        train_x, train_y = _as_float(train_x[:n_train]), train_y[:n_train]
        test_x, test_y = _as_float(test_x[: self.test_images]), test_y[: self.test_images]

        model = SmallBNN(input_quantizer="lab")
        model.compile(
            optimizer=tf.keras.optimizers.Adam(self.learning_rate),
            loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        print(f"training {n_train // self.batch_size} steps of {self.batch_size} images")
        model.fit(train_x, train_y, batch_size=self.batch_size, epochs=1, verbose=1)
        keras_logits = model.predict(test_x, batch_size=256, verbose=0)

        print("converting with LCE (LAB fused to one depthwise conv + sign)")
        flatbuffer = convert(model)
        out = next_free_dir(Path(self.output_dir))
        (out / "lab_demo.tflite").write_bytes(flatbuffer)
        model.save(out / "lab_demo.h5")
        lce_logits = Interpreter(flatbuffer).predict(test_x)

        operators = [op.op_type for op in read_operators(flatbuffer)]
        print("\nconverted op list:", " -> ".join(operators))
        print("op counts:", dict(collections.Counter(operators)))
        keras_acc = np.mean(keras_logits.argmax(1) == test_y)
        lce_acc = np.mean(lce_logits.argmax(1) == test_y)
        print(
            f"\ntest accuracy on {len(test_y)} images: Keras {keras_acc:.4f}, "
            f"LCE {lce_acc:.4f}; max |logit difference| "
            f"{np.abs(keras_logits - lce_logits).max():.2e}"
        )
        print(f"model size {len(flatbuffer) / 1024:.1f} KiB; files in {out}")


def _as_float(images: np.ndarray) -> np.ndarray:
    return (images.astype(np.float32) / 255.0)[..., None]
