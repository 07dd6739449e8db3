"""larq's model summary, kept in the run folder, with one line for the terminal."""

from pathlib import Path

import larq as lq
import tensorflow as tf

from zoo.experiments.run_folder import write_text_atomic

SUMMARY_FILE = "model_summary.txt"


def write_model_summary(model: tf.keras.Model, folder: Path) -> str:
    """Write `lq.models.summary(model)` (a table per layer) to folder/model_summary.txt
    and return one line with its totals: parameters, size, MACs and their binary share.
    """
    lines = []
    lq.models.summary(model, print_fn=lines.append)
    path = Path(folder) / SUMMARY_FILE
    write_text_atomic(path, "\n".join(lines) + "\n")
    profile = lq.models.ModelProfile(model)
    macs = profile.op_count("mac")
    binary = profile.op_count("mac", 1) / macs if macs else 0.0
    return (
        f"{model.name}: {profile.weight_count():,} parameters, {profile.memory / 8 / 1024:.1f} KiB "
        f"as deployed, {macs / 1e6:.1f} M MACs ({binary:.1%} binary); larq's table: {path}"
    )
