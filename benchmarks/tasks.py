"""`lqz Benchmark`, `lqz Profile`, `lqz ImportProfile`: host latency, per-op profiles
and device profiles as tidy CSV files beside the model."""

from pathlib import Path

import pandas as pd
from zookeeper import Field, task

from benchmarks.device_profile import read_device_profile
from benchmarks.kernel_paths import HOST_KERNEL
from benchmarks.latency import measure_latency
from benchmarks.op_profile import profile_ops
from converter.output_files import next_free_path


def read_tflite(path: str) -> bytes:
    if not path or not Path(path).is_file():
        raise FileNotFoundError(f"tflite={path!r} is not a file; give a .tflite from "
                                f"`lqz Convert`")
    return Path(path).read_bytes()


def append_row(path: Path, row: dict) -> None:
    """Append to a CSV (header on creation): earlier measurements are kept."""
    pd.DataFrame([row]).to_csv(path, mode="a", header=not path.exists(), index=False)


@task
class Benchmark:
    """Host latency of a .tflite with LCE's interpreter; kernel=auto tries every kernel
    path, keeps those whose outputs agree with the reference kernel and reports the
    fastest. Appends a row (host, kernel path, threads, min/median/p90 ms) to
    <model>.latency.csv."""

    tflite: str = Field("")
    threads: int = Field(1)
    runs: int = Field(50)
    warmup: int = Field(5)
    kernel: str = Field("auto")

    def run(self):
        flatbuffer = read_tflite(self.tflite)
        print(f"timing {self.tflite} ({self.kernel} kernel path, {self.threads} thread(s), "
              f"{self.runs} runs)…", flush=True)
        record = measure_latency(flatbuffer, self.threads, self.runs, self.warmup, self.kernel)
        row = {"model": Path(self.tflite).stem, **record.as_dict()}
        append_row(Path(self.tflite).with_suffix(".latency.csv"), row)
        for key, value in row.items():
            print(f"  {key}: {value}")


@task
class Profile:
    """Per-operator host latency: each operator timed as its own one-op model, beside
    the whole model in the same rounds. Writes <model>.op_profile.csv."""

    tflite: str = Field("")
    threads: int = Field(1)
    runs: int = Field(20)
    warmup: int = Field(3)
    kernel: str = Field(HOST_KERNEL)

    def run(self):
        flatbuffer = read_tflite(self.tflite)
        print(f"profiling every operator of {self.tflite} ({self.runs} rounds)…", flush=True)
        table = profile_ops(flatbuffer, self.threads, self.runs, self.warmup, self.kernel)
        table.insert(0, "model", Path(self.tflite).stem)
        path = next_free_path(Path(self.tflite).with_suffix(".op_profile.csv"))
        table.rename(columns={"median_ms": "ms"}).to_csv(path, index=False)
        print(table.groupby("op_type").median_ms.sum().sort_values(ascending=False).to_string())
        print(f"sum of per-op medians {table.attrs['sum_of_ops_ms']:.3f} ms, whole model "
              f"{table.attrs['model_median_ms']:.3f} ms ({table.attrs['kernel']}, "
              f"{table.attrs['host']}); written to {path}")


@task
class ImportProfile:
    """Read `lce_benchmark_model --enable_op_profiling=true` output (text or its CSV)
    from a device into the same tidy table: <path>.ops.csv, labelled `model`."""

    path: str = Field("")
    model: str = Field("")

    def run(self):
        table = read_device_profile(self.path)
        table.insert(0, "model", self.model or Path(self.path).stem)
        out = next_free_path(Path(self.path).with_suffix(".ops.csv"))
        table.rename(columns={"avg_ms": "ms", "node_type": "op_type"}).to_csv(out, index=False)
        print(f"{len(table)} operators, {table.avg_ms.sum():.3f} ms in total; written to {out}")
