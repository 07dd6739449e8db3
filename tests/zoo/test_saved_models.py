"""Every registered zoo model × {sign, LAB in every stage}, with its weights moved off
their initial values, saved as .h5 (what `lqz Train*` writes as model.h5) reopens in a
fresh Python process — where only `import zoo.models` has registered anything — and
gives the in-memory model's outputs on a fixed batch."""

import json
import os
import subprocess
import sys

import numpy as np
import tensorflow as tf

from zoo.models import available, get_model

from conftest import perturb_weights

VARIANTS = {"sign": (False,) * 4, "lab": (True,) * 4}
CASES = [(name, variant) for name in available() for variant in VARIANTS]

# Runs in the fresh process: load every .h5 in the folder, outputs → outputs.npz and
# load or run failures → errors.json, so one broken model does not hide the others.
LOADER = """
import json, sys, traceback
from pathlib import Path
import numpy as np
import zoo.models  # noqa: F401  (the only registration the saved files may rely on)
import tensorflow as tf

folder = Path(sys.argv[1])
batches = np.load(folder / "batches.npz")
outputs, errors = {}, {}
for path in sorted(folder.glob("*.h5")):
    try:
        model = tf.keras.models.load_model(path, compile=False)
        outputs[path.stem] = model(batches[path.stem], training=False).numpy()
    except Exception:
        errors[path.stem] = traceback.format_exc(limit=-3)
np.savez(folder / "outputs.npz", **outputs)
(folder / "errors.json").write_text(json.dumps(errors))
"""


def key(name, variant):
    return f"{name}-{variant}"


def save_and_reload(folder):
    """(outputs in memory, outputs after reloading, load errors) by case key."""
    rng = np.random.RandomState(0)
    batches, expected = {}, {}
    for name, variant in CASES:
        tf.keras.utils.set_random_seed(0)
        zoo_model = get_model(name)
        model = zoo_model.build(
            input_shape=zoo_model.small_input, num_classes=10, lab_blocks=VARIANTS[variant]
        )
        perturb_weights(model, rng, 0.05)  # BN statistics, β, LAB, T: all off their init
        batch = rng.uniform(-1, 1, (4, *zoo_model.small_input)).astype(np.float32)
        batches[key(name, variant)] = batch
        expected[key(name, variant)] = model(batch, training=False).numpy()
        model.save(str(folder / f"{key(name, variant)}.h5"), save_format="h5")
        tf.keras.backend.clear_session()
    np.savez(folder / "batches.npz", **batches)
    result = subprocess.run(
        [sys.executable, "-c", LOADER, str(folder)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    errors = json.loads((folder / "errors.json").read_text())
    return expected, dict(np.load(folder / "outputs.npz")), errors


def test_every_case_reopens_in_a_fresh_process_with_the_same_outputs(tmp_path):
    # One test for all cases: they share the fresh process, and a module fixture would be
    # rebuilt by every xdist worker that takes one of its tests.
    expected, reloaded, errors = save_and_reload(tmp_path)
    problems = []
    for name, variant in CASES:
        case = key(name, variant)
        if case in errors:
            problems.append(f"{case} failed to reopen:\n{errors[case]}")
            continue
        assert np.isfinite(expected[case]).all(), case
        # The same graph on the same CPU: only reordered float sums could differ.
        worst = float(np.abs(reloaded[case] - expected[case]).max())
        if worst > 1e-6:
            problems.append(f"{case}: reopened outputs differ by up to {worst:.3g} (allowed 1e-6)")
    assert not problems, "\n".join(problems)
