"""BaseNet (k=1) against Bi-RealNet-18 at 224×224: latency and what stays float.

Both converted with LCE and timed side by side on this host (LCE interpreter, same
threads and kernel path, interleaved runs); for each graph the number of float ops and
float MACs (binary MACs for reference).

    python -m benchmarks.boolnet_vs_birealnet [--runs 30] [--threads 1]
"""

import argparse
import collections
import statistics

import lab_bnn  # noqa: F401  (legacy Keras before TensorFlow)

import numpy as np
from larq_compute_engine.tflite.python.interpreter import Interpreter
from larq_zoo.literature import BiRealNet

from benchmarks.host import host_description
from benchmarks.timing import HOST_KERNEL_PATH, interleaved_times, kernel_path_name
from converter import convert, float_ops, is_binary, multiply_accumulates, read_operators
from zoo.models import BaseNet


def graph_costs(flatbuffer: bytes) -> dict:
    ops = read_operators(flatbuffer)
    floats = float_ops(ops)
    return {
        "float ops": len(floats),
        "float MACs": sum(multiply_accumulates(op) for op in floats),
        "binary MACs": sum(multiply_accumulates(op) for op in ops if is_binary(op)),
        "float op types": dict(sorted(collections.Counter(op.op_type for op in floats).items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    print(
        f"host: {host_description()}; LCE interpreter kernel path: "
        f"{kernel_path_name(HOST_KERNEL_PATH)}; threads: {args.threads}"
    )
    models = {
        "Bi-RealNet-18": BiRealNet(input_shape=(224, 224, 3), weights=None),
        "BaseNet k=1 (replicate pad)": BaseNet(input_shape=(224, 224, 3), k=1),
        "BaseNet k=1 (one pad)": BaseNet(input_shape=(224, 224, 3), k=1, padding_mode="one"),
    }
    flatbuffers = {name: convert(model) for name, model in models.items()}
    image = np.random.RandomState(0).rand(1, 224, 224, 3).astype(np.float32)
    runners = {}
    for name, flatbuffer in flatbuffers.items():
        interpreter = Interpreter(flatbuffer, num_threads=args.threads, **HOST_KERNEL_PATH)
        runners[name] = lambda it=interpreter: it.predict(image)
    medians = {
        k: statistics.median(v) * 1e3
        for k, v in interleaved_times(runners, args.runs, 3, threads=args.threads).items()
    }

    reference = medians["Bi-RealNet-18"]
    for name, flatbuffer in flatbuffers.items():
        costs = graph_costs(flatbuffer)
        print(
            f"\n{name}: median {medians[name]:.2f} ms over {args.runs} runs "
            f"(ratio to Bi-RealNet-18: {medians[name] / reference:.3f})"
        )
        print(
            f"  float ops {costs['float ops']}, float MACs {costs['float MACs'] / 1e6:.1f} M, "
            f"binary MACs {costs['binary MACs'] / 1e6:.1f} M"
        )
        print(f"  float op types: {costs['float op types']}")


if __name__ == "__main__":
    main()
