"""What LAB costs against a plain sign, deployed and in training, measured side by side.

Deployed: a Bi-RealNet-18 (larq-zoo's layout) at 224×224 with Sign, with LAB as trained
(converted without fusion), and with LAB fused (one depthwise conv + sign); LCE
interpreter latency on this host, same threads and kernel path, runs interleaved.
Training: one optimizer step of a small BNN on 28×28 inputs (batch 128, CPU), Sign vs LAB.

    python -m benchmarks.lab_overhead [--runs 40] [--threads 1] [--train-steps 30]
"""

import argparse
import statistics
from typing import Dict, List

import lab_bnn  # noqa: F401  (legacy Keras before TensorFlow)

import numpy as np
import tensorflow as tf
from larq_compute_engine.tflite.python.interpreter import Interpreter
from larq_zoo.literature.birealnet import BiRealNetFactory
from zookeeper import factory

from benchmarks.host import host_description
from benchmarks.timing import HOST_KERNEL_PATH, interleaved_times, kernel_path_name
from converter import convert
from zoo.models import SmallBNN


def birealnet18(input_quantizer: str) -> tf.keras.Model:
    """larq-zoo's Bi-RealNet-18 with `input_quantizer` on every binary conv."""

    @factory
    class Variant(BiRealNetFactory):
        pass

    Variant.input_quantizer = input_quantizer
    return Variant(input_shape=(224, 224, 3), weights=None, num_classes=1000).build()


def deployed_latency(runs: int, threads: int) -> Dict[str, List[float]]:
    sign = birealnet18("approx_sign")
    lab = birealnet18("lab")
    flatbuffers = {
        "Sign": convert(sign),
        "LAB as trained": convert(lab, fuse=False),
        "LAB fused": convert(lab),
    }
    image = np.random.RandomState(0).rand(1, 224, 224, 3).astype(np.float32)
    runners = {}
    for name, flatbuffer in flatbuffers.items():
        interpreter = Interpreter(flatbuffer, num_threads=threads, **HOST_KERNEL_PATH)
        runners[name] = lambda it=interpreter: it.predict(image)
    return interleaved_times(runners, runs=runs, warmup=3, threads=threads)


def training_step_time(steps: int) -> Dict[str, List[float]]:
    rng = np.random.RandomState(0)
    images = rng.rand(128, 28, 28, 1).astype(np.float32)
    labels = rng.randint(0, 10, size=128)
    runners = {}
    for name, quantizer in (("Sign", "ste_sign"), ("LAB", "lab")):
        model = SmallBNN(input_quantizer=quantizer)
        model.compile(
            optimizer=tf.keras.optimizers.Adam(1e-3),
            loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        runners[name] = lambda m=model: m.train_on_batch(images, labels)
    return interleaved_times(runners, runs=steps, warmup=3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=40, help="timed inferences per model")
    parser.add_argument("--threads", type=int, default=1, help="LCE interpreter threads")
    parser.add_argument("--train-steps", type=int, default=30, help="timed training steps")
    args = parser.parse_args()

    host = host_description()
    path = kernel_path_name(HOST_KERNEL_PATH)
    print(f"host: {host}; LCE interpreter kernel path: {path}; threads: {args.threads}")

    latency = {k: statistics.median(v) * 1e3 for k, v in deployed_latency(args.runs, args.threads).items()}
    print("\nBi-RealNet-18, 224x224, median latency over", args.runs, "interleaved runs:")
    for name, ms in latency.items():
        print(f"  {name:15s} {ms:8.2f} ms")
    print(f"  ratio LAB as trained / Sign = {latency['LAB as trained'] / latency['Sign']:.3f}")
    print(f"  ratio LAB fused / Sign      = {latency['LAB fused'] / latency['Sign']:.3f}  (target <= 1.05)")

    step = {k: statistics.median(v) * 1e3 for k, v in training_step_time(args.train_steps).items()}
    print("\nsmall BNN, 28x28x1, batch 128, median training step over", args.train_steps, "steps:")
    for name, ms in step.items():
        print(f"  {name:15s} {ms:8.2f} ms")
    print(f"  ratio LAB / Sign            = {step['LAB'] / step['Sign']:.3f}  (target <= 1.3)")


if __name__ == "__main__":
    main()
