"""Run the installed `lqz` console script as a user would, in a child process."""

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
