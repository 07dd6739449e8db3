"""QuickNet at 224×224 on this host: per-operator medians against the whole model.

Converts `zoo.models.QuickNet()` with `converter.convert`, times every operator as its
own model interleaved with the whole model (`profile_ops`), and prints the sum of the
per-op medians, the whole-model median and their ratio (target: within ±25 %). Then
times the whole model on every kernel path (`measure_latency`, kernel="auto").

    python -m benchmarks.profile_quicknet [--runs 20] [--threads 1] [--kernel indirect_bgemm]
"""

import argparse

import lab_bnn  # noqa: F401  (legacy Keras before TensorFlow)

from benchmarks.kernel_paths import HOST_KERNEL, known_kernel_paths
from benchmarks.latency import measure_latency
from benchmarks.op_profile import profile_ops
from converter import convert
from zoo.models import QuickNet

TARGET = 0.25  # |sum of per-op medians / whole-model median - 1|


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="timed rounds")
    parser.add_argument("--threads", type=int, default=1, help="LCE interpreter threads")
    parser.add_argument(
        "--kernel",
        default=HOST_KERNEL,
        choices=["auto", *known_kernel_paths()],
        help="kernel path of the per-op profile",
    )
    parser.add_argument(
        "--latency-runs", type=int, default=30, help="timed inferences per kernel path for measure_latency"
    )
    args = parser.parse_args()

    flatbuffer = convert(QuickNet())
    df = profile_ops(flatbuffer, threads=args.threads, runs=args.runs, kernel=args.kernel)
    attrs = df.attrs
    print(
        f"host: {attrs['host']}; kernel path: {attrs['kernel']}; threads: {attrs['threads']}; "
        f"{attrs['runs']} interleaved rounds"
    )
    print(f"\nQuickNet 224x224, {len(df)} operators; median ms by op type:")
    by_type = df.groupby(["op_type", "precision"]).median_ms.agg(["count", "sum"])
    print(by_type.sort_values("sum", ascending=False).round(3).to_string())
    ratio = attrs["sum_of_ops_ms"] / attrs["model_median_ms"]
    print(f"\nsum of per-op medians: {attrs['sum_of_ops_ms']:8.2f} ms")
    print(f"whole-model median:    {attrs['model_median_ms']:8.2f} ms")
    print(
        f"ratio sum / whole:     {ratio:8.3f}  (target {1 - TARGET:.2f} to {1 + TARGET:.2f}: "
        f"{'met' if abs(ratio - 1) <= TARGET else 'NOT met'})"
    )

    record = measure_latency(flatbuffer, threads=args.threads, runs=args.latency_runs)
    print(f"\nmeasure_latency(kernel='auto'), {record.runs} interleaved runs per path:")
    for path, ms in sorted(record.candidates.items(), key=lambda item: item[1]):
        print(f"  {path:25s} median {ms:8.2f} ms")
    for path, why in record.rejected.items():
        print(f"  {path:25s} dropped: {why}")
    print(
        f"  fastest: {record.kernel} (min {record.min_ms:.2f}, median {record.median_ms:.2f}, "
        f"p90 {record.p90_ms:.2f} ms)"
    )


if __name__ == "__main__":
    main()
