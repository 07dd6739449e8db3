"""`lqz Benchmark`, `lqz Profile`, `lqz ImportProfile`: host latency, per-op profiles
and device profiles as tidy CSV files beside the model."""

from pathlib import Path

from lab_bnn.errors import UserError

from zookeeper import Field

from benchmarks.device import benchmark_on_device, store_device_result
from benchmarks.device_profile import read_device_profile
from benchmarks.device_target import parse_target
from benchmarks.kernel_paths import known_kernel_paths
from benchmarks.latency import measure_latency
from benchmarks.op_profile import profile_ops
from benchmarks.tidy_csv import append_rows
from converter import convert
from converter.output_files import next_free_path
from converter.tasks import Convert
from zoo.task_help import task


def read_tflite(path: str) -> bytes:
    if not path or not Path(path).is_file():
        raise UserError(f"tflite={path!r} is not a file; give a .tflite from `lqz Convert`")
    return Path(path).read_bytes()


def model_label(tflite: str) -> str:
    """The name a measurement is labelled with: the file's stem, or for the
    `model.tflite` that `lqz Convert run_dir=…` writes, the run folder's name."""
    path = Path(tflite).resolve()
    return path.parent.name if path.stem == "model" and path.parent.name else path.stem


# What the shared fields of the timing tasks mean, for `lqz <Task> --help`.
TIMING_HELP = {
    "tflite": "the .tflite file to measure (from `lqz Convert`)",
    "threads": "interpreter threads",
    "warmup": "untimed inferences before the timed ones",
}


@task
class Benchmark:
    """Host latency of a .tflite with LCE's interpreter or our engine; kernel=auto tries
    every LCE kernel path and the engine, keeps those whose outputs agree with the
    reference kernel and reports the fastest. Appends a row (host, kernel path, threads, min/median/p90 ms) to
    <model>.latency.csv."""

    field_help = {
        **TIMING_HELP,
        "runs": "timed inferences per kernel path",
        "kernel": "auto (the fastest path agreeing with the reference kernel) or "
        "one of " + ", ".join(known_kernel_paths()),
    }
    tflite: str = Field("")
    threads: int = Field(1)
    runs: int = Field(50)
    warmup: int = Field(5)
    kernel: str = Field("auto")

    def run(self):
        flatbuffer = read_tflite(self.tflite)
        print(
            f"timing {self.tflite} ({self.kernel} kernel path, {self.threads} thread(s), {self.runs} runs)…",
            flush=True,
        )
        record = measure_latency(flatbuffer, self.threads, self.runs, self.warmup, self.kernel)
        row = {"model": model_label(self.tflite), **record.as_dict()}
        path = append_rows(Path(self.tflite).with_suffix(".latency.csv"), [row])
        for key, value in row.items():
            if value not in (None, ""):
                print(f"  {key}: {value}")
        print(f"appended to {path}")


@task
class Profile:
    """Per-operator host latency: each operator timed as its own one-op model, beside
    the whole model in the same rounds. Writes <model>.op_profile.csv."""

    field_help = {
        **TIMING_HELP,
        "runs": "timed rounds (each operator and the whole model once per round)",
        "kernel": "the kernel path, auto or one of "
        + ", ".join(known_kernel_paths())
        + "; default: auto (the fastest path agreeing with the reference kernel, the engine included)",
    }
    tflite: str = Field("")
    threads: int = Field(1)
    runs: int = Field(20)
    warmup: int = Field(3)
    kernel: str = Field("auto")

    def run(self):
        flatbuffer = read_tflite(self.tflite)
        print(f"profiling every operator of {self.tflite} ({self.runs} rounds)…", flush=True)
        table = profile_ops(flatbuffer, self.threads, self.runs, self.warmup, self.kernel)
        table.insert(0, "model", model_label(self.tflite))
        path = next_free_path(Path(self.tflite).with_suffix(".op_profile.csv"))
        table.rename(columns={"median_ms": "ms"}).to_csv(path, index=False)
        print(table.groupby("op_type").median_ms.sum().sort_values(ascending=False).to_string())
        print(
            f"sum of per-op times {table.attrs['sum_of_ops_ms']:.3f} ms, whole model "
            f"{table.attrs['model_median_ms']:.3f} ms ({table.attrs['kernel']}, "
            f"{table.attrs['host']}); written to {path}"
        )


@task
class ImportProfile:
    """Read `lce_benchmark_model --enable_op_profiling=true` output (text or its CSV)
    from a device into the same tidy table: <path>.ops.csv, labelled `model`."""

    field_help = {
        "path": "a file: the saved log of `lce_benchmark_model "
        "--enable_op_profiling=true`, or its --profiling_output_csv_file",
        "model": "the `model` label of every row; '' = the file's name",
    }
    path: str = Field("")
    model: str = Field("")

    def run(self):
        table = read_device_profile(self.path)
        table.insert(0, "model", self.model or Path(self.path).stem)
        out = next_free_path(Path(self.path).with_suffix(".ops.csv"))
        table.rename(columns={"avg_ms": "ms", "node_type": "op_type"}).to_csv(out, index=False)
        print(f"{len(table)} operators, {table.avg_ms.sum():.3f} ms in total; written to {out}")


@task
class DeviceBenchmark(Convert):
    """Run LCE's `lce_benchmark_model --enable_op_profiling` on an ARM board
    (target=ssh://user@host[:port]) or Android phone (target=adb://serial) and store
    its per-op profile and whole-model timings beside the model:
    <model>.device-<device>.ops.csv (model, op_type, ms, …) and .json (device, CPU,
    kernel options, threads). Give tflite=, or run_dir=/model= to convert first.
    Files on the device are removed afterwards unless keep_files=True."""

    field_help = {
        "tflite": "a converted model to run; '' = convert run_dir= or model= first",
        "target": "ssh://user@host[:port] (an ARM board) or adb://serial (a phone)",
        "binary": "the path of lce_benchmark_model on the device",
        "threads": "--num_threads of the benchmark binary",
        "runs": "--num_runs of the benchmark binary",
        "use_xnnpack": "pass --use_xnnpack=true",
        "use_indirect_bgemm": "pass --use_indirect_bgemm=true",
        "keep_files": "leave the model on the device afterwards",
        "timeout": "seconds allowed per step",
        "retries": "extra attempts of a step whose connection dropped",
        "identity_file": "the SSH private key; '' = ssh's default",
        "known_hosts": "the SSH known-hosts file; '' = ssh's default",
    }
    tflite: str = Field("")
    target: str = Field("")
    binary: str = Field("")
    threads: int = Field(1)
    runs: int = Field(50)
    use_xnnpack: bool = Field(False)
    use_indirect_bgemm: bool = Field(False)
    keep_files: bool = Field(False)
    timeout: float = Field(600.0)
    retries: int = Field(2)
    identity_file: str = Field("")
    known_hosts: str = Field("")

    def run(self):
        parse_target(self.target)  # a bad address fails before any conversion
        if self.tflite:
            tflite, flatbuffer = Path(self.tflite), read_tflite(self.tflite)
        else:
            model, default_dir, name = self.load()
            out = Path(self.output_dir) if self.output_dir else default_dir
            out.mkdir(parents=True, exist_ok=True)
            tflite = next_free_path(out / f"{name}.tflite")
            print(f"converting {model.name} with LCE (inference forms fused)…", flush=True)
            flatbuffer = convert(model)
            tflite.write_bytes(flatbuffer)
        result = benchmark_on_device(
            flatbuffer,
            self.target,
            self.binary,
            threads=self.threads,
            runs=self.runs,
            use_xnnpack=self.use_xnnpack,
            use_indirect_bgemm=self.use_indirect_bgemm,
            keep_files=self.keep_files,
            timeout=self.timeout,
            retries=self.retries,
            identity_file=self.identity_file,
            known_hosts=self.known_hosts,
            model_name=tflite.stem,
        )
        paths = store_device_result(result, tflite.with_suffix(""))
        stats = {k: v for k, v in result.info.items() if k.startswith("model_")}
        print(
            f"{result.info['device']} ({result.info['cpu']}): {len(result.ops)} operators; "
            + ", ".join(f"{k}={v:.4g}" for k, v in stats.items() if isinstance(v, float))
        )
        print(f"per-op table: {paths['ops']}\ndevice and options: {paths['info']}")
