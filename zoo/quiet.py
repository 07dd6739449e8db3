"""Keep `lqz`'s terminal to progress, results and errors.

A CPU-only TensorFlow, its CUDA stubs, absl and the Larq Compute Engine print dozens of
log lines per run that no user can act on (plugin re-registration, a failed cuInit,
converter sessions), and tf-keras and LCE add warnings about choices lab-bnn makes on
purpose (`model.h5`, LCE's graphdef conversion). `lqz` drops exactly those:

- `TF_CPP_MIN_LOG_LEVEL=3` before TensorFlow loads (a user's own setting wins);
- the C++ lines that ignore it (absl logs them before `absl::InitializeLog()`, from
  TensorFlow's and LCE's own copies of absl) are filtered out of file descriptor 2 by a
  small child process, which matches `CHATTER` only, line by line;
- Python: the `tensorflow` and `absl` loggers at ERROR, and `HARMLESS_WARNINGS`.

`lqz --verbose` or `LQZ_DEBUG=1` keeps everything. Importing this module does not load
TensorFlow (stdlib only): `zoo/__init__.py` calls `before_tensorflow()` first.
Run as a script (`python -I -S zoo/quiet.py`), it is the stderr filter itself.

Example:
    >>> with quiet.python_chatter_silenced():
    ...     model.save("model.h5")   # no HDF5-legacy warning
"""

import atexit
import contextlib
import logging
import os
import re
import select
import signal
import subprocess
import sys
import warnings
from typing import Iterator, Sequence

VERBOSE_FLAG = "--verbose"
DEBUG_VARIABLE = "LQZ_DEBUG"

# C++ log lines that carry no information on a machine that works (matched anywhere in
# a line, so both TensorFlow's and absl's line prefixes are covered).
CHATTER = re.compile(
    "|".join(
        [
            r"All log messages before absl::InitializeLog\(\) is called are written to STDERR",
            r"Unable to register cu(DNN|FFT|BLAS) factory: Attempting to register factory",
            r"computation placer already registered",
            r"failed call to cuInit",
            r"Could not find cuda drivers on your machine",
            r"TF-TRT Warning: Could not find TensorRT",
            r"This TensorFlow binary is optimized to use available CPU instructions",
            r"oneDNN custom operations are on",
            r"Number of eligible GPUs \(core count >= \d+, compute capability >= ",
            r"single_machine\.cc:\d+\] Starting new session",
            r"Created TensorFlow Lite XNNPACK delegate for CPU",
            r"Ignored (output_format|drop_control_dependency)\.",
            r"Estimated count of arithmetic ops",
            r"(Reading SavedModel from|Reading meta graph with tags|Reading SavedModel debug "
            r"info|Restoring SavedModel bundle|Running initialization op on SavedModel|"
            r"SavedModel load for tags)",
        ]
    )
)

# (message regex, category) of warnings about what lab-bnn does on purpose.
HARMLESS_WARNINGS = (
    # Every run writes model.h5, the format the README documents.
    (r"You are saving your model as an HDF5 file via `model\.save\(\)`", UserWarning),
    # LCE converts tf-keras models through the graph def; the fallback is the norm.
    (r"Saved-model conversion failed, falling back to graphdef-based conversion", UserWarning),
)
# Python loggers whose warnings are TensorFlow's internal advice (retracing, metrics
# of a reloaded model), not results.
QUIET_LOGGERS = ("tensorflow", "absl")

# A partial line (a prompt, a progress bar) is passed on after this long without more.
PARTIAL_LINE_SECONDS = 0.1


def verbose_requested(argv: Sequence[str]) -> bool:
    """Whether `argv` (without the program name) or LQZ_DEBUG asks for every log line."""
    return bool(os.environ.get(DEBUG_VARIABLE)) or VERBOSE_FLAG in argv


def running_lqz() -> bool:
    """Whether this process is the `lqz` command (its console script)."""
    return os.path.basename(sys.argv[0]) == "lqz"


def before_tensorflow() -> None:
    """Quiet TensorFlow's C++ logging before it loads: in `lqz` (unless verbose) level 3
    and the stderr filter; in a user's own program level 2, as it always was."""
    if not running_lqz():
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    elif not verbose_requested(sys.argv[1:]):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        start_stderr_filter()


def start_stderr_filter() -> None:
    """Send file descriptor 2 through a child process that drops `CHATTER` lines.

    A child rather than a thread, so the last words of a crash (a C++ CHECK failure, a
    segfault report) still reach the terminal after this process is gone.
    """
    if sys.stderr is None:  # started with stderr closed: nothing to keep quiet
        return
    sys.stderr.flush()
    original = os.dup(2)
    read_end, write_end = os.pipe()
    filter_process = subprocess.Popen(
        [sys.executable, "-I", "-S", os.path.abspath(__file__)],
        stdin=read_end,
        stdout=original,
        stderr=original,
    )
    os.close(read_end)
    os.dup2(write_end, 2)
    os.close(write_end)

    def stop() -> None:
        sys.stderr.flush()
        os.dup2(original, 2)  # closes the pipe; the filter ends once it has passed all on
        try:
            filter_process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # a child of ours still holds the pipe open
            pass

    atexit.register(stop)


def copy_without_chatter(source: int, sink: int) -> None:
    """Copy bytes from file descriptor `source` to `sink` until end of file, dropping
    every whole line that `CHATTER` matches."""
    pending = b""
    while True:
        ready, _, _ = select.select([source], [], [], PARTIAL_LINE_SECONDS if pending else None)
        if not ready:
            _write_all(sink, pending)
            pending = b""
            continue
        chunk = os.read(source, 1 << 16)
        if not chunk:
            break
        *lines, pending = (pending + chunk).split(b"\n")
        kept = [line + b"\n" for line in lines if not CHATTER.search(line.decode("utf-8", "replace"))]
        _write_all(sink, b"".join(kept))
    if pending and not CHATTER.search(pending.decode("utf-8", "replace")):
        _write_all(sink, pending)


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data) :]


@contextlib.contextmanager
def python_chatter_silenced(enabled: bool = True) -> Iterator[None]:
    """Within the block: `HARMLESS_WARNINGS` ignored, `QUIET_LOGGERS` at ERROR. Both are
    restored afterwards, so calling `zoo.cli.main` in-process changes nothing lasting."""
    if not enabled:
        yield
        return
    loggers = [logging.getLogger(name) for name in QUIET_LOGGERS]
    levels = [logger.level for logger in loggers]
    with warnings.catch_warnings():
        for message, category in HARMLESS_WARNINGS:
            warnings.filterwarnings("ignore", message=message, category=category)
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        try:
            yield
        finally:
            for logger, level in zip(loggers, levels):
                logger.setLevel(level)


def _filter_main() -> None:
    # Ctrl-C reaches the whole process group: the filter must outlive `lqz` to pass on
    # its last lines, and ends at end of file instead.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        copy_without_chatter(0, 1)
    except BrokenPipeError:  # whoever read our stderr has gone
        pass


if __name__ == "__main__":
    _filter_main()
