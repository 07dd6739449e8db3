"""`lqz` is quiet by default: progress and results, no TensorFlow/absl/CUDA-stub
chatter and no known-harmless warnings; `--verbose` brings them back."""

import os
import subprocess
import threading
import warnings

import pytest

from zoo import quiet

from lqz_process import LQZ

# A tiny real training run: 2 steps, 8×8 synthetic images.
TINY_RUN = (
    "TrainSmallBNN",
    "dataset=Synthetic",
    "dataset.input_shape=8,8,1",
    "dataset.train_examples=16",
    "dataset.validation_examples=16",
    "epochs=1",
    "batch_size=8",
)
HDF5_WARNING = "You are saving your model as an HDF5 file"


def lqz_as_a_user_runs_it(*args, cwd):
    """`lqz args…` with no TF_CPP_MIN_LOG_LEVEL or LQZ_DEBUG of ours in the way."""
    env = {
        key: value for key, value in os.environ.items() if key not in ("TF_CPP_MIN_LOG_LEVEL", "LQZ_DEBUG")
    }
    return subprocess.run([LQZ, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


def test_a_run_prints_its_progress_and_results_and_nothing_else(tmp_path):
    result = lqz_as_a_user_runs_it(*TINY_RUN, f"output_dir={tmp_path}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout + result.stderr
    assert not result.stderr.strip(), result.stderr
    assert not quiet.CHATTER.search(output)
    assert "WARNING:tensorflow" not in output and HDF5_WARNING not in output
    lines = result.stdout.splitlines()
    assert any(line.startswith("training SmallBNN on Synthetic") for line in lines)
    assert any(line.startswith("2/2 - ") and "val_accuracy" in line for line in lines)
    assert any(line.startswith("final model: ") for line in lines)
    assert any(line.startswith("trainable weights sha256: ") for line in lines)


def test_verbose_brings_the_chatter_back(tmp_path):
    result = lqz_as_a_user_runs_it("--verbose", *TINY_RUN, f"output_dir={tmp_path}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert quiet.CHATTER.search(result.stderr), result.stderr[-3000:]
    assert HDF5_WARNING in result.stderr
    assert any(line.startswith("final model: ") for line in result.stdout.splitlines())


def filtered(data: bytes) -> bytes:
    read_end, write_end = os.pipe()
    out_read, out_write = os.pipe()
    writer = threading.Thread(target=lambda: (os.write(write_end, data), os.close(write_end)))
    writer.start()
    quiet.copy_without_chatter(read_end, out_write)
    writer.join()
    os.close(read_end)
    os.close(out_write)
    with os.fdopen(out_read, "rb") as out:
        return out.read()


def test_the_stderr_filter_drops_only_known_chatter_lines():
    kept = (
        b"Traceback (most recent call last):\n"
        b"E0000 00:00:1796140126.6 6754 conv_ops.cc:12] a real error\n"
        b"lqz: error: epochs must be int\n"
    )
    chatter = (
        b"WARNING: All log messages before absl::InitializeLog() is called are "
        b"written to STDERR\n"
        b"E0000 00:00:1796140126.671693    6754 cuda_dnn.cc:8579] Unable to register "
        b"cuDNN factory: Attempting to register factory for plugin cuDNN when one "
        b"has already been registered\n"
        b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n"
    )
    assert filtered(chatter + kept + chatter) == kept
    assert filtered(b"a prompt without newline: ") == b"a prompt without newline: "


def test_python_chatter_is_silenced_only_for_known_warnings_and_restored():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with quiet.python_chatter_silenced():
            warnings.warn(
                f"{HDF5_WARNING} via `model.save()`. This file format is considered legacy.",
                UserWarning,
                stacklevel=1,
            )
            warnings.warn("something a user should see", UserWarning, stacklevel=1)
        warnings.warn(f"{HDF5_WARNING} via `model.save()`.", UserWarning, stacklevel=1)
    assert [str(w.message)[:28] for w in caught] == ["something a user should see", HDF5_WARNING[:28]]


@pytest.mark.parametrize(
    "argv, environment, verbose",
    [
        ([], {}, False),
        (["Quickstart", "--verbose"], {}, True),
        (["--verbose", "Quickstart"], {}, True),
        (["Quickstart"], {"LQZ_DEBUG": "1"}, True),
    ],
)
def test_verbose_is_a_flag_anywhere_or_lqz_debug(monkeypatch, argv, environment, verbose):
    monkeypatch.delenv("LQZ_DEBUG", raising=False)
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    assert quiet.verbose_requested(argv) is verbose
