"""The engine against LCE's best x86 path: whole-model latency and binary-MAC throughput.

QuickNet, Bi-RealNet-18 and LabBNN (LAB fused by `converter.convert`) at 224², and
BoolNet (grouped binary convs) at its registry small input, all with 1000 classes and
random weights (seed 0; latency does not depend on weight values). Every LCE path that
prepares the model (`reference_bconv`, an oracle not a speed path, excepted) and the
engine at this CPU's best level (or `$LAB_BNN_ENGINE_LEVEL`) and at avx2 are timed in one
interleaved run over every thread count (`blocked_times`), so load drift hits all alike and
each speed-up over 1 thread divides times of the same rounds. Then each LceBconv2d's
binary-MAC throughput on the engine, from its own op timers, against this host's
microbenchmark peak (`library.peak_binary_macs_per_second`, one thread; × threads for the
multi-thread rows). When more than 1 thread is timed, the run goes in four parts with the link
between the two cores measured around each (`timing_by_link`): on a VM the host may place the
two vCPUs on one die or on two at any moment, and the same code then measures 2 threads /
1 thread at ~1.8× or ~1.35× (AMD EPYC guest), so the speed-ups are also printed for the rounds
of each placement.

How a runner is timed: the thread pools of an interpreter (XNNPACK's, ruy's, ours) spin
on a core for a while after each call before they sleep. Interleaving runners call by call
would let the pools of the runner just timed steal a core from the next one (on a 2-core
host a 2-thread engine runner then measured 5× slower than alone). So before each runner's
turn the process waits until it is idle (no other thread running, at most 0.5 s), every core
computes for `SPEED_UP_S` (`timing.cores_to_speed`: a VM's host leaves an idle vCPU slow for
longer than a turn), then the runner is called untimed for `WARM_S` (it wakes the runner's own
pools and refills caches) and makes `BLOCK` - 1 timed calls, each a sample. Medians are
over `--runs` rounds × (`BLOCK` - 1) samples: back-to-back inference, as a serving loop runs.
Host speed here drifts by up to 1.5× within minutes, for 1 and 2 threads alike (Bi-RealNet
224² at 1 thread: 2.6 to 4.2 ms over 8-round windows); timing the thread counts in separate
runs made their ratio compare two different periods.

    python -m benchmarks.engine_vs_lce [--runs 20] [--warmup 3] [--threads 1,2]
        [--models QuickNet,BiRealNet,LabBNN,BoolNet] [--size 224] [--cache-dir DIR]
        [--csv PATH [--force]]

`--csv` writes a new tidy CSV (one row per model × path × threads) atomically; an existing
file is refused unless `--force` replaces it. Converted flatbuffers are cached under
`--cache-dir` (default: the temp directory), keyed by model, input, and a hash of the
lab_bnn/zoo/converter sources and LCE's version.
"""

import argparse
import csv
import hashlib
import io
import statistics
import sys
import tempfile
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import lab_bnn  # noqa: F401  (legacy Keras before TensorFlow)
from lab_bnn.errors import UserError

import larq_compute_engine
import tensorflow as tf

from benchmarks.engine import library
from benchmarks.flatbuffer_model import load_model
from benchmarks.host import host_description
from benchmarks.kernel_paths import (
    KERNEL_PATHS,
    REFERENCE_KERNEL,
    engine_level_of,
    engine_path,
    engine_unavailable_reason,
    invoker,
    make_interpreter,
    random_inputs,
    runnable_kernel_paths,
)
from benchmarks.timing import blocked_times, start_turn
from benchmarks.timing_by_link import FAR_NS, NEAR_NS, PLACEMENTS, blocked_times_by_link, placement
from converter import convert, multiply_accumulates, read_operators
from zoo.experiments.run_folder import write_text_atomic
from zoo.models import get_model

DEFAULT_MODELS = ("QuickNet", "BiRealNet", "LabBNN", "BoolNet")
AT_SMALL_INPUT = {"BoolNet"}  # the issue times BoolNet at its test size, the rest at --size
LCE_PATHS = tuple(name for name in KERNEL_PATHS if not name.startswith(REFERENCE_KERNEL))
CSV_COLUMNS = (
    "host", "engine_level", "model", "input", "threads", "kernel_path", "median_ms", "runs",
    "warmup", "lce_best_path", "lce_best_ms", "speedup_vs_lce_best", "speedup_vs_1_thread",
    "bconv_ms", "binary_macs", "bconv_binary_macs_per_s", "peak_binary_macs_per_s",
)  # fmt: skip


BLOCK = 3  # per runner per round: one warm-up stretch (discarded), then BLOCK - 1 timed calls
# A runner's turn first calls it, untimed, for at least this long: after an idle wait this host needs
# 3-4 back-to-back QuickNet engine calls (~10 ms) to reach steady speed (after a 30 ms sleep, medians
# of calls 1-8: 4.11, 3.75, 3.55, 3.50, 3.42, 3.42, 3.42, 3.39 ms), while one 24 ms LCE call does.
WARM_S = 0.025
# Every core computes this long first: an idle vCPU here stayed slow for 150+ ms of engine calls.
SPEED_UP_S = 0.05


def input_shape(name: str, size: int) -> Tuple[int, int, int]:
    small = get_model(name).small_input
    return small if name in AT_SMALL_INPUT else (size, size, small[2])


def _source_hash() -> str:
    digest = hashlib.sha256(larq_compute_engine.__version__.encode())
    root = Path(__file__).resolve().parents[1]
    for package in ("lab_bnn", "zoo/models", "converter"):
        for path in sorted((root / package).rglob("*.py")):
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def converted(name: str, shape: Tuple[int, int, int], cache_dir: Path) -> bytes:
    """The model's flatbuffer, from the cache or converted (seed 0) and cached atomically."""
    path = cache_dir / f"{name}-{'x'.join(map(str, shape))}-1000-{_source_hash()}.tflite"
    if path.exists():
        flatbuffer = path.read_bytes()
        load_model(flatbuffer)  # a truncated cache file must not reach LCE's interpreter
        return flatbuffer
    tf.keras.utils.set_random_seed(0)
    flatbuffer = convert(get_model(name).build(input_shape=shape, num_classes=1000))
    tf.keras.backend.clear_session()
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=cache_dir, delete=False, prefix=f".{path.name}.") as tmp:
        tmp.write(flatbuffer)
    Path(tmp.name).replace(path)
    return flatbuffer


def engine_levels() -> List[str]:
    """The levels to time: the best (or forced) level, and avx2 when supported and not it."""
    supported = [engine_level_of(p) for p in runnable_kernel_paths() if engine_level_of(p)]
    if not supported:
        return []
    best = library.engine_level()
    return [best] + (["avx2"] if "avx2" in supported and best != "avx2" else [])


def bconv_throughput(engine, flatbuffer: bytes, run, runs: int) -> List[dict]:
    """Each LceBconv2d's mean time over `runs` calls (engine timers) and binary MACs; a conv fused with
    its ADD, or starting a pixel chain, with that op's time (`+add`, `+chain`)."""
    ops = {op.index: op for op in read_operators(flatbuffer)}
    start_turn(run, WARM_S, SPEED_UP_S)  # as blocked_times starts each runner's turn
    engine.reset_op_times()
    for _ in range(runs):
        run()
    layers = []
    for index, kind, ns in engine.op_times():
        chain = kind == "LabBnnPixelChain" and ops[index].op_type == "LceBconv2d"  # a chain's first step
        if kind in ("LceBconv2d", "LabBnnBconv2dAdd") or chain:  # a fused op's time includes its ADD
            op, seconds = ops[index], ns / runs / 1e9
            (_, h, w, _), (cout, kh, kw, _) = op.output_shapes[0], op.input_shapes[1]
            fused = "+chain" if chain else "+add" if kind != "LceBconv2d" else ""
            describe = f"op {index}{fused}: {h}x{w} {op.options['channels_in']}->{cout} {kh}x{kw}"
            groups = op.input_shapes[0][-1] // op.input_shapes[1][-1]
            describe += f" s{op.options['stride_height']}" + (f" g{groups}" if groups > 1 else "")
            macs = multiply_accumulates(op)
            layers.append({"layer": describe, "seconds": seconds, "macs": macs, "rate": macs / seconds})
    return layers


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="timed rounds (every runner once per round)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls per runner first")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS), help="comma-separated zoo models")
    parser.add_argument("--size", type=int, default=224, help="input height and width (not BoolNet's)")
    parser.add_argument("--slowest", type=int, default=3, help="slowest LceBconv2d layers listed per model")
    parser.add_argument(
        "--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "lab_bnn_engine_vs_lce"
    )
    parser.add_argument("--csv", type=Path, help="write a tidy CSV here (new file)")
    parser.add_argument("--force", action="store_true", help="let --csv replace an existing file")
    args = parser.parse_args(argv)
    try:
        args.threads = [int(t) for t in args.threads.split(",")]
    except ValueError:
        raise UserError(f"--threads takes comma-separated integers; received {args.threads!r}") from None
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    for name in args.models:
        get_model(name)  # an unknown name: UserError listing the zoo
    for option, value, least in (("runs", args.runs, 1), ("warmup", args.warmup, 0), ("size", args.size, 1)):
        if value < least:
            raise UserError(f"--{option} must be >= {least}; received {value}")
    if any(t < 1 for t in args.threads):
        raise UserError(f"--threads must all be >= 1; received {args.threads}")
    if args.csv and args.csv.exists() and not args.force:
        raise UserError(f"--csv {args.csv} exists; pass --force to replace it, or choose another path")
    return args


def main(argv: Optional[Sequence[str]] = None) -> List[dict]:
    """Run the benchmark and print it; returns the CSV rows (also written with --csv)."""
    args = parse_args(argv)
    levels = engine_levels()
    host = host_description()
    level_note = ", ".join(levels) or f"unavailable ({engine_unavailable_reason()})"
    print(f"host: {host}\nengine dispatch levels timed: {level_note}; supported: "
          f"{', '.join(library.supported_levels()) if levels else 'none'}")  # fmt: skip
    print(
        f"weights: random (seed 0), 1000 classes; {args.warmup} warm-up calls, then one interleaved "
        f"run of {args.runs} rounds over every thread count: each runner starts on an idle process "
        f"after {SPEED_UP_S * 1e3:.0f} ms of compute on every core, is called untimed for "
        f"{WARM_S * 1e3:.0f} ms (at least once), then {BLOCK - 1} timed "
        f"calls; median of {args.runs * (BLOCK - 1)} timed calls"
    )
    flatbuffers = {
        name: converted(name, input_shape(name, args.size), args.cache_dir) for name in args.models
    }
    runners, engines, skipped = {}, {}, []
    for name, flatbuffer in flatbuffers.items():
        for threads in args.threads:
            for path in [*LCE_PATHS, *(engine_path(level) for level in levels)]:
                try:
                    interpreter = make_interpreter(flatbuffer, path, threads)
                except (RuntimeError, ValueError):  # its reason is in LCE's ERROR lines above
                    skipped.append(f"{name} {path} {threads}t")
                    continue
                key = (name, threads, path)
                runners[key] = invoker(interpreter, random_inputs(interpreter, seed=0))
                if engine_level_of(path):
                    engines[key] = interpreter
    if skipped:
        print(f"skipped, the interpreter cannot prepare the model on this path: {', '.join(skipped)}")
    awake = {engine.keeps_workers_awake for key, engine in engines.items() if key[1] > 1}
    if awake:
        state = (
            "kept awake between ops and calls"
            if all(awake)
            else "put to sleep after each partition (warned above)"
        )
        print(f"engine at more than 1 thread: XNNPACK's workers {state}")
    links, by_placement = [], {}
    if any(t > 1 for t in args.threads) and levels:  # link measured; speed-ups from the same rounds
        times, placed, links = blocked_times_by_link(
            runners, args.runs, args.warmup, BLOCK, WARM_S, speed_up_seconds=SPEED_UP_S
        )
        for kind, samples in placed.items():
            by_placement[kind] = {k: statistics.median(v) * 1e3 for k, v in samples.items()}
    else:
        times = blocked_times(runners, args.runs, args.warmup, BLOCK, WARM_S, speed_up_seconds=SPEED_UP_S)
    medians = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    peaks = {level: library.peak_binary_macs_per_second(level) for level in levels}
    rows = _rows(args, host, levels, medians, engines, runners, flatbuffers, peaks)
    _print(args, levels, rows)
    _print_by_link(args, levels, rows, links, by_placement)
    if args.csv:
        text = io.StringIO()
        writer = csv.DictWriter(text, CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: ("" if row.get(k) is None else row[k]) for k in CSV_COLUMNS} for row in rows)
        write_text_atomic(args.csv, text.getvalue())
        print(f"\nwrote {len(rows)} rows to {args.csv}")
    return rows


def _rows(args, host, levels, medians, engines, runners, flatbuffers, peaks) -> List[dict]:
    rows = []
    for name, flatbuffer in flatbuffers.items():
        for threads in args.threads:
            lce = {p: medians[(name, threads, p)] for p in LCE_PATHS if (name, threads, p) in medians}
            best = min(lce, key=lce.get) if lce else None
            for path in [*lce, *(engine_path(level) for level in levels)]:
                key = (name, threads, path)
                if key not in medians:
                    continue
                one = medians.get((name, 1, path))
                row = {
                    "host": host, "engine_level": levels[0] if levels else None, "model": name,
                    "input": input_shape_text(args, name), "threads": threads,
                    "kernel_path": path, "median_ms": round(medians[key], 4), "runs": args.runs,
                    "warmup": args.warmup, "lce_best_path": best,
                    "lce_best_ms": round(lce[best], 4) if best else None,
                    "speedup_vs_lce_best": round(lce[best] / medians[key], 3) if best else None,
                    "speedup_vs_1_thread": round(one / medians[key], 3) if one else None,
                }  # fmt: skip
                if key in engines:
                    layers = bconv_throughput(engines[key], flatbuffer, runners[key], args.runs)
                    seconds, macs = sum(x["seconds"] for x in layers), sum(x["macs"] for x in layers)
                    row.update(
                        bconv_ms=round(seconds * 1e3, 4), binary_macs=macs,
                        bconv_binary_macs_per_s=round(macs / seconds) if seconds else None,
                        peak_binary_macs_per_s=round(peaks[engine_level_of(path)] * threads),
                        layers=layers,
                    )  # fmt: skip
                rows.append(row)
    return rows


def _square(shape: str) -> str:
    h, w, _ = shape.split("x")
    return f"{h}²" if h == w else f"{h}x{w}"


def _print(args, levels: List[str], rows: List[dict]) -> None:
    engine_cols = [engine_path(level) for level in levels]
    by_key = {(r["model"], r["threads"], r["kernel_path"]): r for r in rows}
    lce_best = {(r["model"], r["threads"]): r for r in rows if r["kernel_path"] == r["lce_best_path"]}
    for threads in args.threads:
        print(f"\n{threads} thread{'s' * (threads > 1)}: median ms; × = LCE best / engine")
        print(f"  {'model':10s} {'input':10s} {'LCE best path':24s} {'ms':>8s}"
              + "".join(f" {c:>16s} {'×':>6s}" for c in engine_cols))  # fmt: skip
        for name in args.models:
            best = lce_best.get((name, threads))
            cells = [
                f"{best['kernel_path']:24s} {best['median_ms']:8.2f}" if best else f"{'-':24s} {'-':>8s}"
            ]
            for column in engine_cols:
                r = by_key.get((name, threads, column))
                ms = f"{r['median_ms']:16.2f}" if r else f"{'-':>16s}"
                ratio = (
                    f"{r['speedup_vs_lce_best']:5.2f}×" if r and r["speedup_vs_lce_best"] else f"{'-':>6s}"
                )
                cells.append(f"{ms} {ratio}")
            print(f"  {name:10s} {_square(input_shape_text(args, name)):10s} " + " ".join(cells))
    if 1 in args.threads and len(args.threads) > 1:
        print("\nspeed-up over 1 thread (same path)")
        for r in rows:
            if r["threads"] != 1 and (
                r["kernel_path"] in engine_cols or r["kernel_path"] == r["lce_best_path"]
            ):
                print(
                    f"  {r['model']:10s} {r['threads']}t {r['kernel_path']:24s} "
                    f"{r['speedup_vs_1_thread']:.2f}×"
                )
    print("\nLceBconv2d binary-MAC throughput on the engine (its op timers, mean of --runs calls; +add,"
          " +chain: with the ADD fused into it, the pixel chain it starts); peak = this host's one-thread"
          " microbenchmark × threads")  # fmt: skip
    for r in rows:
        if r.get("bconv_binary_macs_per_s"):
            peak = r["peak_binary_macs_per_s"]
            share = r["bconv_binary_macs_per_s"] / peak
            print(f"  {r['model']} {r['kernel_path']} {r['threads']}t: "
                  f"{r['binary_macs'] / 1e9:.3f} G MACs in "
                  f"{r['bconv_ms']:.2f} ms (model {r['median_ms']:.2f} ms) → "
                  f"{r['bconv_binary_macs_per_s'] / 1e12:.3f} T/s, {share:.0%} of peak "
                  f"{r['peak_binary_macs_per_s'] / 1e12:.2f} T/s")  # fmt: skip
            for layer in sorted(r["layers"], key=lambda x: x["rate"])[: args.slowest]:
                print(f"      slow: {layer['layer']:30s} {layer['seconds'] * 1e3:7.3f} ms "
                      f"{layer['rate'] / 1e12:6.3f} T/s ({layer['rate'] / peak:.0%} of peak)")  # fmt: skip
    print()
    for name in args.models:
        parts = []
        for threads in args.threads:
            best = lce_best.get((name, threads))
            text = f"LCE {best['kernel_path']} {best['median_ms']:.2f} ms" if best else "LCE -"
            for column in engine_cols:
                r = by_key.get((name, threads, column))
                if r:
                    ratio = f" → {r['speedup_vs_lce_best']:.1f}×" if r["speedup_vs_lce_best"] else ""
                    text += f", {column} {r['median_ms']:.2f} ms{ratio}"
            parts.append(f"{threads}t: {text}" if len(args.threads) > 1 else text)
        print(f"{name} {_square(input_shape_text(args, name))}: " + "; ".join(parts))


def _print_by_link(args, levels, rows, links, by_placement) -> None:
    """The core-to-core link around each part of the run, and the speed-ups over 1 thread of
    the rounds where it stayed near or far (`timing_by_link`)."""
    if not links:
        return
    trips = ", ".join(f"{before:.0f}→{after:.0f}" for before, after, _ in links)
    print(f"\ncore-to-core link (`library.core_link`: cache-line round trip before→after each part "
          f"of the run): {trips} ns; near < {NEAR_NS:.0f} ns (one die), far > {FAR_NS:.0f} ns")  # fmt: skip
    counts = {kind: sum(r for b, a, r in links if placement(b, a) == kind) for kind in PLACEMENTS}
    shown = [kind for kind in ("near", "far") if counts[kind]]
    if 1 not in args.threads or not shown:
        return
    print(f"  speed-up over 1 thread by placement ({', '.join(f'{k}: {counts[k]} rounds' for k in shown)})")
    engines = [engine_path(level) for level in levels]
    for r in rows:
        if r["threads"] == 1 or r["kernel_path"] not in engines:
            continue
        key, one = (r["model"], r["threads"], r["kernel_path"]), (r["model"], 1, r["kernel_path"])
        cells = [
            f"{kind} {by_placement[kind][one] / by_placement[kind][key]:.2f}×"
            for kind in shown
            if key in by_placement.get(kind, {}) and one in by_placement.get(kind, {})
        ]
        print(f"  {r['model']:10s} {r['threads']}t {r['kernel_path']:24s} " + "   ".join(cells))


def input_shape_text(args, name: str) -> str:
    return "x".join(map(str, input_shape(name, args.size)))


if __name__ == "__main__":
    try:
        main()
    except UserError as error:
        sys.exit(f"error: {error}")
