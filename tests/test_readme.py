"""The README is executed, so what it shows stays true.

- Every ```python block runs as its own script in a fresh interpreter and a temp dir.
- Every `lqz` command is accepted by `lqz` (its task exists, its keys are fields, its
  values have their types), with the task's work skipped.
- The `lqz` commands that run offline run for real, in README order, in one temp dir,
  with tiny settings appended (`TINY`). The others are listed in `NOT_RUN`, each with
  the reason; every README command is in exactly one of the two groups.
- Every documented `package.name` of ours resolves, and every `python -m` script exists.
"""

import importlib
import importlib.util
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from zookeeper.core.cli import cli

from zoo.cli import CHAIN_SEPARATOR, load_tasks, main, split_chain, task_class

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DEVICE_LOG = ROOT / "tests" / "benchmarks" / "fixtures" / "lce_benchmark_small_bnn.txt"
OUR_PACKAGES = ("lab_bnn", "zoo", "converter", "benchmarks", "visualization")

# Appended to a command that runs here: a budget of seconds, not the README's hours.
TINY_DATA = ["train_examples=64", "validation_examples=64", "batch_size=32", "epochs=1"]
TINY = {
    "Quickstart": TINY_DATA,
    "TrainLabBNN": ["dataset.train_examples=64", "dataset.validation_examples=64", "batch_size=32"],
    "Benchmark": ["runs=3", "warmup=1"],
    "Profile": ["runs=2", "warmup=1"],
}
# Commands shown but not run here (a regex matching the whole command), and why.
NOT_RUN = {
    r"\./install_requirements\.sh": "installs the stack; CI (.ci/run) runs it before pytest",
    r"\.venv/bin/python -m pytest": "this test suite itself",
    r"lqz Leaderboard": "the full 13-row leaderboard (an hour)",
    r"lqz Leaderboard binarizers=lab,bnn,float .*": "the Quickstart above runs the same job "
    "(two of these rows) at a tiny budget, and tests/visualization/test_jobs.py runs "
    "lqz Leaderboard itself; a third job here would break this test's 3-minute budget",
    r"lqz TrainLabBNN dataset=Imagenette .*": "needs Imagenette, prepared by `tfds build` (a download)",
    r"lqz TrainBoolNet model\.k=2 .*": "BoolNet on the Synthetic set's full default size; "
    "tests/zoo/test_train_recipes.py runs this command at 32² for 2 steps",
    r"lqz TrainCompactBNN model\.binarizer=lab .*": "100 epochs of Fashion-MNIST; "
    "tests/zoo/test_model_fields.py configures the same component keys",
    r"lqz TrainQuickNet .*": "ImageNet (a download) or QuickNet's 150 epochs",
    r"lqz TrainCompactBNN model\.binarizer=float .*": "two full trainings; "
    "tests/zoo/test_train_recipes.py runs this distillation on a Fashion-MNIST slice",
    r"lqz TrainReActNet stage=1 .*": "two ReActNet trainings; tests/zoo/test_train_recipes.py "
    "runs stage 1 then stage 2 (SmallBNN) and checks the weights carried over",
    r"lqz DeviceBenchmark .*target=ssh://pi@.*": "needs a Raspberry Pi over ssh",
    r"lqz DeviceBenchmark .*target=ssh://ubuntu@jetson.*": "needs a Jetson over ssh",
    r"lqz DeviceBenchmark .*target=adb://.*": "needs an Android phone over adb",
    r"lqz Charts profiles=\S*model\.device-raspberrypi\.ops\.csv": "draws the profile that "
    "DeviceBenchmark brings home from a Raspberry Pi",
    r"\.venv/bin/python -m benchmarks\.\w+": "minutes of benchmarking (each loads "
    "TensorFlow before it parses --help)",
}
# Documented dotted names that are not Python objects.
NOT_PYTHON = {"lab_bnn.tasks": "the entry-point group in setup.cfg"}


def code_blocks(language):
    return re.findall(rf"^```{language}\n(.*?)^```", README, re.M | re.S)


def python_blocks():
    """Every ```python block, named after the README section it is in."""
    blocks = []
    for block in re.finditer(r"^```python\n(.*?)^```", README, re.M | re.S):
        titles = re.findall(r"^#{2,} (.+)$", README[: block.start()], re.M)
        blocks.append(pytest.param(block[1], id=titles[-1]))
    return blocks


def commands():
    """Every shell command of the README's bash blocks, as its words."""
    found = []
    for block in code_blocks("bash"):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            while words:
                end = words.index("&&") if "&&" in words else len(words)
                found.append(words[:end])
                words = words[end + 1 :]
    return found


def not_run_reason(words):
    reasons = [why for pattern, why in NOT_RUN.items() if re.fullmatch(pattern, shlex.join(words))]
    return reasons[0] if reasons else None


def lqz_args(words):
    """The arguments after `lqz`, or None if the command is not an `lqz` command."""
    return words[1:] if Path(words[0]).name == "lqz" else None


def tiny(args):
    """`args` with each chained task's tiny settings appended to that task."""
    steps = split_chain(args)
    return [
        word
        for i, step in enumerate(steps)
        for word in ([CHAIN_SEPARATOR] if i else []) + step + TINY.get(step[0], [])
    ]


def test_the_readme_shows_code_and_commands():
    assert len(code_blocks("python")) >= 4
    assert sum(lqz_args(words) is not None for words in commands()) >= 12


def test_every_command_runs_here_or_says_why_not():
    for words in commands():
        assert lqz_args(words) is not None or not_run_reason(words), shlex.join(words)
    for pattern in NOT_RUN:  # no stale entries
        assert any(re.fullmatch(pattern, shlex.join(words)) for words in commands()), pattern


@pytest.mark.parametrize("block", python_blocks())
def test_python_block_runs(block, tmp_path):
    script = tmp_path / "readme_block.py"
    script.write_text(block, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"{block}\n{result.stderr[-3000:]}"


def test_every_lqz_command_is_accepted(monkeypatch, capsys):
    load_tasks()
    ran = []
    for words in commands():
        args = lqz_args(words)
        if args is None:
            continue
        for step in split_chain(args):
            command = cli.commands.get(step[0])
            assert command is not None, f"no task {step[0]!r}: {shlex.join(words)}"
            monkeypatch.setattr(task_class(command), "run", lambda self: ran.append(self))
        assert main(args) == 0, (shlex.join(words), capsys.readouterr().err)
    assert len(ran) == sum(
        len(split_chain(lqz_args(w))) for w in commands() if lqz_args(w) is not None and "--help" not in w
    )


def test_offline_lqz_commands_run_with_tiny_settings(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    shutil.copy(DEVICE_LOG, "pi4.txt")  # the log `lce_benchmark_model` prints on a Pi
    ran = []
    for words in commands():
        args = lqz_args(words)
        if args is None or not_run_reason(words):
            continue
        if args[0] == "Charts":  # results.csv is the user's own table, as the README says
            write_results_csv("runs/LabBNN-FashionMnist/model.latency.csv", "results.csv")
        status = main(tiny(args))
        assert status == 0, (shlex.join(words), capsys.readouterr().err[-3000:])
        ran += [step[0] for step in split_chain(args)]
    assert ran == [
        "Quickstart",
        "TrainLabBNN",
        "TrainBiRealNet",
        "Convert",
        "Benchmark",
        "Profile",
        "ImportProfile",
        "Charts",
    ]
    for made in [
        "runs/quickstart/report.html",
        "runs/LabBNN-FashionMnist/model.tflite",
        "pi4.ops.csv",
        "runs/charts.html",
    ]:
        assert (tmp_path / made).stat().st_size > 0, made


def write_results_csv(latency_csv, path):
    latency = pd.read_csv(latency_csv)
    size = Path(latency_csv).with_suffix("").with_suffix(".tflite").stat().st_size
    pd.DataFrame(
        {
            "model": ["LabBNN"],
            "accuracy": [0.5],
            "size_bytes": [size],
            "latency_ms": [latency.median_ms.iloc[-1]],
        }
    ).to_csv(path, index=False)


def documented_names():
    pattern = rf"`((?:{'|'.join(OUR_PACKAGES)})(?:\.[A-Za-z_]\w*)+)"
    return sorted(set(re.findall(pattern, README)) - set(NOT_PYTHON))


def test_every_documented_name_resolves():
    assert {"benchmarks.read_device_profile", "converter.check_parity"} <= set(documented_names())
    for dotted in documented_names():
        parts = dotted.split(".")
        target = importlib.import_module(parts[0])
        for depth, part in enumerate(parts[1:], start=2):
            if not hasattr(target, part):  # a submodule not imported by its package
                importlib.import_module(".".join(parts[:depth]))
            target = getattr(target, part)
    setup = (ROOT / "setup.cfg").read_text()
    assert all(f"\n{name} =" in setup for name in NOT_PYTHON)


def test_python_m_scripts_exist():
    scripts = sorted(
        {words[2] for words in commands() if words[1:2] == ["-m"]}
        | set(re.findall(r"`python -m ([\w.]+)", README)) - {"pytest"}
    )
    assert {"benchmarks.lab_overhead", "lab_bnn.catalog"} <= set(scripts)
    for module in scripts:
        assert importlib.util.find_spec(module) is not None, module
