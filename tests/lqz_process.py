"""Run the installed `lqz` console script as a user would, in a child process."""

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

LQZ = shutil.which("lqz", path=str(Path(sys.executable).parent))


def lqz_env(**extra):
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **extra}


def lqz(*args, cwd=None, timeout=600, **env):
    """Run `lqz args…` to completion; returns the CompletedProcess (text output)."""
    return subprocess.run(
        [LQZ, *args], capture_output=True, text=True, cwd=cwd, env=lqz_env(**env), timeout=timeout
    )


def start_lqz(*args, log_path, **env):
    """Start `lqz args…` in the background, output to `log_path`; returns the Popen."""
    log = open(log_path, "w")
    return subprocess.Popen([LQZ, *args], stdout=log, stderr=subprocess.STDOUT, env=lqz_env(**env))


# SmallBNN on 12×12 synthetic images: 32 steps of 32 per epoch, a few seconds here.
SMALL_RUN = (
    "TrainSmallBNN",
    "dataset=Synthetic",
    "dataset.input_shape=12,12,1",
    "dataset.train_examples=1024",
    "batch_size=32",
)


def metrics(run_dir):
    """A finished run's metrics.csv rows (one dict per epoch)."""
    return list(csv.DictReader((run_dir / "metrics.csv").open()))
