"""`lqz` errors: a user's mistake is one `lqz: error:` line (exit 2); anything else is
a bug and keeps its traceback, followed by a hint (exit 1)."""

import logging
import os
import re
import subprocess

from lab_bnn.errors import UserError

import pytest
from zookeeper.core.cli import cli

from benchmarks.tasks import ImportProfile
from zoo import cli as lqz_cli
from zoo.cli import BUG_HINT, main

from lqz_process import LQZ


def run_in_process(capsys, *args):
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err.splitlines()


@pytest.fixture
def no_debug(monkeypatch):
    monkeypatch.delenv("LQZ_DEBUG", raising=False)


@pytest.mark.parametrize(
    "args, named",
    [
        (["Quickstart", "epochs=abc"], "'abc'"),  # zookeeper's type check
        (["Quickstart", "epoch=1"], "'epoch'"),  # an unknown key
        (["NoSuchTask"], "'NoSuchTask'"),  # an unknown task
        (["Quickstart", "epochs"], "'epochs'"),  # not key=value
        (["LarqZooTrainQuickNet"], "TrainQuickNet.dataset"),  # a required field unset
        (["TrainSmallBNN", "lab_blocks=False"], "False"),  # a bool for a sequence
    ],
)
def test_a_users_mistake_is_one_line_naming_the_value(capsys, no_debug, args, named):
    status, out, err = run_in_process(capsys, *args)
    assert status == 2
    assert len(err) == 1 and err[0].startswith("lqz: error: "), err
    assert named in err[0]


def test_an_unknown_key_lists_the_fields_allowed(capsys, no_debug):
    _, _, err = run_in_process(capsys, "Quickstart", "epoch=1")
    assert "its fields: batch_size, dataset, epochs," in err[0]


def test_a_user_error_raised_by_a_task_is_one_line(capsys, monkeypatch, no_debug):
    def run(self):
        raise UserError(f"no profile at {self.path!r}; pass path=FILE")

    monkeypatch.setattr(ImportProfile, "run", run)
    status, _, err = run_in_process(capsys, "ImportProfile", "path=missing.txt")
    assert (status, err) == (2, ["lqz: error: no profile at 'missing.txt'; pass path=FILE"])


def test_a_multi_line_user_error_is_one_line_with_all_of_it(capsys, monkeypatch, no_debug):
    def run(self):
        raise UserError("lce_benchmark_model failed on the device:\n\n  ERROR: no model.tflite\n")

    monkeypatch.setattr(ImportProfile, "run", run)
    _, _, err = run_in_process(capsys, "ImportProfile")
    assert err == ["lqz: error: lce_benchmark_model failed on the device: ERROR: no model.tflite"]


def test_lqz_debug_shows_a_user_errors_traceback_too(capsys, monkeypatch):
    monkeypatch.setenv("LQZ_DEBUG", "1")
    status, _, err = run_in_process(capsys, "Quickstart", "epochs=abc")
    assert status == 2
    assert err[0] == "Traceback (most recent call last):"
    assert err[-1] == "lqz: error: Quickstart.epochs must be int; received 'abc'"


@pytest.mark.parametrize("bug", [ValueError("bad shape (3,)"), KeyError("conv2d_7")])
def test_any_other_exception_is_a_bug_with_traceback_and_hint(capsys, monkeypatch, no_debug, bug):
    def run(self):
        raise bug

    monkeypatch.setattr(ImportProfile, "run", run)
    status, _, err = run_in_process(capsys, "ImportProfile", "path=x.txt")
    assert status == 1
    assert err[0] == "Traceback (most recent call last):"
    assert err[-2] == f"{type(bug).__name__}: {bug}"
    assert err[-1] == BUG_HINT
    assert not any(line.startswith("lqz: error:") for line in err)


def test_a_type_error_in_our_own_code_is_a_bug_not_a_user_error(capsys, monkeypatch, no_debug):
    def run(self):
        # Reads a field the way a task does, but the mistake is ours.
        return self.path + 1

    monkeypatch.setattr(ImportProfile, "run", run)
    status, _, err = run_in_process(capsys, "ImportProfile", "path=x.txt")
    assert status == 1 and err[-1] == BUG_HINT


def test_interrupted_is_one_line(capsys, monkeypatch, no_debug):
    def run(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(ImportProfile, "run", run)
    status, _, err = run_in_process(capsys, "ImportProfile")
    # click first ends the line that ^C interrupted.
    assert (status, [line for line in err if line]) == (130, ["lqz: interrupted"])


def test_main_in_process_leaves_logging_as_it_was(capsys, no_debug):
    tensorflow_logger = logging.getLogger("tensorflow")
    before = tensorflow_logger.level
    run_in_process(capsys, "Quickstart", "epochs=abc")
    assert tensorflow_logger.level == before


def test_every_tasks_help_lists_its_fields(capsys):
    """Ours say what each field means (tests/visualization/test_task_help.py); larq-zoo's
    get their defaults and types from zoo.cli."""
    lqz_cli.load_tasks()
    for name, command in sorted(cli.commands.items()):
        status, out, _ = run_in_process(capsys, name, "--help")
        assert status == 0
        fields = lqz_cli.task_class(command).__component_fields__
        listed = set(re.findall(r"^\s+(\w+) = \S.*: \S", out.split("Fields (key=value")[1], re.M))
        assert set(fields) <= listed, (name, set(fields) - listed)


def test_the_lqz_command_prints_a_users_mistake_as_one_line():
    env = {
        key: value for key, value in os.environ.items() if key not in ("TF_CPP_MIN_LOG_LEVEL", "LQZ_DEBUG")
    }  # as a user runs it
    result = subprocess.run(
        [LQZ, "Quickstart", "epochs=abc"], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["lqz: error: Quickstart.epochs must be int; received 'abc'"]


def test_chained_tasks_run_in_turn_and_stop_at_the_first_failure(capsys, monkeypatch, no_debug):
    paths = []

    def run(self):
        paths.append(self.path)
        if self.path == "bad":
            raise UserError("no profile at 'bad'")

    monkeypatch.setattr(ImportProfile, "run", run)
    status, _, err = run_in_process(
        capsys, "ImportProfile", "path=a", "+", "ImportProfile", "path=bad", "+", "ImportProfile", "path=c"
    )
    assert (status, paths, err) == (2, ["a", "bad"], ["lqz: error: no profile at 'bad'"])


@pytest.mark.parametrize("args", [["+", "Charts"], ["Charts", "+"], ["Charts", "+", "+", "Charts"]])
def test_a_chain_with_an_empty_step_is_one_line(capsys, no_debug, args):
    status, _, err = run_in_process(capsys, *args)
    assert status == 2 and len(err) == 1 and "'+' must stand between two tasks" in err[0]
