"""Benchmark a .tflite on an ARM board (SSH) or Android phone (adb) with LCE's
`lce_benchmark_model --enable_op_profiling`, and bring the per-op profile home.

    result = benchmark_on_device(flatbuffer, "ssh://pi@raspberrypi.local",
                                 "/home/pi/lce_benchmark_model", threads=4, runs=50)
    store_device_result(result, Path("runs/LabBNN-FashionMnist/model"))

Steps: connect (device name, CPU, a fresh work folder), copy the model, run the
binary, parse its output with `read_device_profile`'s parser, remove the work folder
(unless `keep_files`). A connection dropped after it was made is retried per step.
"""

import json
import shlex
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict

from lab_bnn.errors import UserError

import pandas as pd

from benchmarks.device_profile import parse_device_profile
from benchmarks.device_target import parse_target
from benchmarks.device_transport import (
    DeviceCommandError,
    DeviceConnectionError,
    make_transport,
    tail,
)

WORK_ROOT = {"ssh": "/tmp", "adb": "/data/local/tmp"}
COMMAND_NOT_FOUND = (126, 127)  # POSIX shells: found but not executable / not found
_PROBE = (
    "uname -n; uname -m; (grep -m1 -i -E '^(model name|hardware|model)' /proc/cpuinfo "
    "|| echo unknown) | cut -d: -f2-; mktemp -d {root}/lab-bnn.XXXXXX"
)


@dataclass
class DeviceResult:
    """`ops`: the per-operator table (read_device_profile's columns plus the tidy
    model/op_type/ms the charts read); `info`: device, CPU, options and whole-model
    statistics."""

    ops: pd.DataFrame
    info: Dict = field(default_factory=dict)


def with_retries(action: Callable, step: str, retries: int, log: Callable[[str], None]):
    """Run `action`; after a dropped connection, again up to `retries` times."""
    for attempt in range(retries + 1):
        try:
            return action()
        except DeviceConnectionError as error:
            if not error.dropped or attempt == retries:
                if error.dropped:
                    raise DeviceConnectionError(
                        f"{error} — gave up after {retries + 1} attempts", dropped=True
                    ) from None
                raise
            log(f"  connection dropped during {step}; retry {attempt + 1} of {retries}")
            time.sleep(min(2**attempt, 10))


def benchmark_on_device(
    flatbuffer: bytes,
    target: str,
    binary: str,
    *,
    threads: int = 1,
    runs: int = 50,
    use_xnnpack: bool = False,
    use_indirect_bgemm: bool = False,
    keep_files: bool = False,
    timeout: float = 600.0,
    retries: int = 2,
    identity_file: str = "",
    known_hosts: str = "",
    model_name: str = "model",
    work_root: str = "",
    log: Callable[[str], None] = print,
) -> DeviceResult:
    """Run LCE's benchmark binary on the device and return its parsed profile.

    Arguments:
        flatbuffer: the converted model.
        target: "ssh://user@host[:port]" or "adb://serial".
        binary: path of `lce_benchmark_model` on the device.
        threads, runs: `--num_threads`, `--num_runs`.
        use_xnnpack, use_indirect_bgemm: add `--use_xnnpack=true` /
            `--use_indirect_bgemm=true`.
        keep_files: leave the work folder (model, nothing else) on the device.
        timeout: seconds allowed per step.
        retries: extra attempts of a step whose connection dropped.
        identity_file, known_hosts: SSH key and known-hosts file ("" = ssh's defaults).
        model_name: the `model` column of the tidy table.
        work_root: the device folder to make the work folder in ("" = /tmp over SSH,
            /data/local/tmp over adb).

    Raises:
        UserError: a bad target or count, or output that is not a profile. The
            device errors below are UserErrors too, and the builtin named after each.
        DeviceConnectionError (ConnectionError): unreachable, refused, wrong host key,
            or dropped after every retry.
        DeviceCommandError (ChildProcessError): the binary is missing or failed on the
            device (its output is in the message).
        DeviceTimeout (TimeoutError): a step took longer than `timeout`.
    """
    device = parse_target(target)
    for name, value in (("threads", threads), ("runs", runs), ("retries", retries + 1)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise UserError(f"{name} must be a positive integer; received {value!r}")
    if not binary:
        raise UserError("binary= is empty: give the path of lce_benchmark_model on the device")
    transport = make_transport(
        device, timeout=timeout, identity_file=identity_file or None, known_hosts=known_hosts or None
    )
    steps = 5

    log(f"[1/{steps}] connecting to {device}")
    root = shlex.quote(work_root or WORK_ROOT[device.kind])
    probe = transport.shell(_PROBE.format(root=root), "connecting")
    lines = probe.stdout.strip().splitlines()
    if probe.returncode or len(lines) < 4:
        raise DeviceCommandError(
            f"connecting: {device} could not make a work folder: {tail(probe.stderr or probe.stdout)}"
        )
    device_name, machine, cpu, workdir = (
        lines[0].strip(),
        lines[1].strip(),
        lines[2].strip(),
        lines[-1].strip(),
    )
    remote_model = f"{workdir}/{model_name.replace('/', '_')}.tflite"
    try:
        log(f"[2/{steps}] copying the model ({len(flatbuffer):,} bytes) to {device_name}:{workdir}")
        with tempfile.TemporaryDirectory() as local:
            path = Path(local) / "model.tflite"
            path.write_bytes(flatbuffer)
            with_retries(
                lambda: transport.push(path, remote_model, "copying the model"),
                "copying the model",
                retries,
                log,
            )

        flags = [
            f"--graph={shlex.quote(remote_model)}",
            f"--num_threads={threads}",
            f"--num_runs={runs}",
            "--enable_op_profiling=true",
        ]
        flags += ["--use_xnnpack=true"] if use_xnnpack else []
        flags += ["--use_indirect_bgemm=true"] if use_indirect_bgemm else []
        command = f"{shlex.quote(binary)} {' '.join(flags)} 2>&1"
        log(f"[3/{steps}] running {binary} {' '.join(flags)}")
        result = with_retries(
            lambda: transport.shell(command, "running the benchmark"), "running the benchmark", retries, log
        )
        if result.returncode:
            what = (
                "was not found or is not executable"
                if result.returncode in COMMAND_NOT_FOUND
                else f"failed (exit {result.returncode})"
            )
            raise DeviceCommandError(f"{binary} on {device} {what}:\n{tail(result.stdout + result.stderr)}")

        log(f"[4/{steps}] parsing the profile ({len(result.stdout.splitlines())} lines)")
        ops = parse_device_profile(result.stdout, source=f"{binary} on {device}")
    finally:
        if not keep_files:
            log(f"[5/{steps}] removing {workdir} from the device")
            try:
                transport.shell(f"rm -rf {shlex.quote(workdir)}", "removing the work folder")
            except (DeviceConnectionError, TimeoutError) as error:
                log(f"  could not remove {workdir}: {error}")
        else:
            log(f"[5/{steps}] keeping {remote_model} on the device (keep_files)")
    ops.insert(0, "model", model_name)
    ops["op_type"], ops["ms"] = ops["node_type"], ops["avg_ms"]
    info = {
        "target": str(device),
        "device": device_name,
        "machine": machine,
        "cpu": cpu,
        "binary": binary,
        "threads": threads,
        "runs": runs,
        "use_xnnpack": use_xnnpack,
        "use_indirect_bgemm": use_indirect_bgemm,
        "model": model_name,
        "model_bytes": len(flatbuffer),
        **ops.attrs,
    }
    return DeviceResult(ops, info)


def store_device_result(result: DeviceResult, stem: Path) -> Dict[str, Path]:
    """Write <stem>.device-<device>[-N].ops.csv and .json beside the model; an earlier
    result is never replaced (N is the first number free for both files)."""
    base = stem.with_name(f"{stem.name}.device-{result.info['device'] or 'unknown'}")
    n, suffix = 1, ""
    while any(base.with_name(base.name + suffix + ext).exists() for ext in (".ops.csv", ".json")):
        n += 1
        suffix = f"-{n}"
    paths = {
        "ops": base.with_name(base.name + suffix + ".ops.csv"),
        "info": base.with_name(base.name + suffix + ".json"),
    }
    paths["ops"].parent.mkdir(parents=True, exist_ok=True)
    result.ops.to_csv(paths["ops"], index=False)
    paths["info"].write_text(json.dumps(result.info, indent=2, default=str) + "\n")
    return paths


__all__ = ["DeviceResult", "benchmark_on_device", "store_device_result"]
