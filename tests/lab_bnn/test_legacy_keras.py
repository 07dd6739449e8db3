"""`import lab_bnn` selects Keras 2, or says clearly why it cannot."""

import os
import subprocess
import sys


def run_python(code):
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


def test_import_selects_legacy_keras_before_tensorflow_loads():
    result = run_python(
        "import lab_bnn, os, tensorflow as tf\n"
        "print(os.environ['TF_USE_LEGACY_KERAS'], tf.keras.layers.Layer.__module__)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "tf_keras.src.engine.base_layer"]


def test_keras_3_already_loaded_is_one_clear_error():
    result = run_python("import tensorflow as tf; tf.keras.layers; import lab_bnn")
    assert result.returncode == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("ImportError: lab_bnn needs Keras 2 (tf-keras) but tf.keras is keras 3.")
    assert "TF_USE_LEGACY_KERAS=1" in last_line and "import lab_bnn (or larq) before tensorflow" in last_line
