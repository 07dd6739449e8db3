"""`lqz Convert`: a trained run or a zoo model → .tflite, parity report and audit."""

import json
from pathlib import Path
from typing import Optional, Sequence

from lab_bnn.errors import UserError

import numpy as np
import tensorflow as tf
from zookeeper import Field

from converter.audit import audit
from converter.convert import convert
from converter.output_files import next_free_path
from converter.parity import check_parity
from zoo.experiments.fingerprint import compare_to_fingerprint
from zoo.models import available, get_model
from zoo.task_help import task


def report_reload(reload: dict) -> None:
    """Say whether the reopened model.h5 gives the outputs its run stored."""
    if not reload:
        return
    where = (
        ""
        if reload["fingerprint_host"] == reload["host"]
        else f" (trained on {reload['fingerprint_host']}, reopened on {reload['host']})"
    )
    if reload["reproduced"]:
        print(
            f"model.h5 reproduces the trained model's outputs: max |Δ| "
            f"{reload['reload_max_abs_diff']:.2e}{where}",
            flush=True,
        )
    else:
        print(
            f"WARNING: model.h5 does not reproduce the trained model's outputs: max |Δ| "
            f"{reload['reload_max_abs_diff']:.3g}{where}; state may have been lost on save",
            flush=True,
        )


@task
class Convert:
    """Convert `run_dir`'s model.h5 (a `lqz Train*` run) or the zoo `model` (untrained,
    for cost studies) with LCE, LAB fused; check Keras-vs-LCE parity on random inputs
    and audit which layers really became binary. Writes <name>.tflite,
    <name>.audit.csv and <name>.parity.json, never replacing earlier files."""

    field_help = {
        "run_dir": "a finished `lqz Train*` run folder whose model.h5 is converted",
        "model": "or a zoo model, built untrained: " + ", ".join(available()),
        "input_shape": "height,width,channels the zoo model is built for",
        "num_classes": "logits of the zoo model",
        "lab_blocks": "one True/False per stage of the zoo model, LAB where True; None = the model's default",
        "parity_samples": "random inputs on which Keras and LCE outputs are compared",
        "output_dir": "where the files go; '' = the run folder, or runs/convert",
        "seed": "seed of the zoo model's weights and of the parity inputs",
    }
    run_dir: str = Field("")
    model: str = Field("")
    input_shape: Sequence[int] = Field((224, 224, 3))
    num_classes: int = Field(1000)
    lab_blocks: Optional[Sequence[bool]] = Field(None)
    parity_samples: int = Field(8)
    output_dir: str = Field("")  # default: the run folder, or runs/convert
    seed: int = Field(0)

    def load(self):
        if bool(self.run_dir) == bool(self.model):
            raise UserError(
                "give exactly one of run_dir=<a lqz Train* run folder> or "
                f"model=<one of {', '.join(available())}>; received "
                f"run_dir={self.run_dir!r}, model={self.model!r}"
            )
        if self.run_dir:
            path = Path(self.run_dir) / "model.h5"
            if not path.exists():
                raise UserError(f"{path} not found: run_dir must be a finished `lqz Train*` run folder")
            return tf.keras.models.load_model(path), Path(self.run_dir), "model"
        lab_blocks = None if self.lab_blocks is None else tuple(self.lab_blocks)
        model = get_model(self.model).build(
            input_shape=tuple(self.input_shape), num_classes=self.num_classes, lab_blocks=lab_blocks
        )
        return model, Path("runs/convert"), self.model

    def run(self):
        tf.keras.utils.set_random_seed(self.seed)
        model, default_dir, name = self.load()
        reload = compare_to_fingerprint(model, Path(self.run_dir)) if self.run_dir else {}
        report_reload(reload)
        out = Path(self.output_dir) if self.output_dir else default_dir
        out.mkdir(parents=True, exist_ok=True)
        print(f"converting {model.name} with LCE (inference forms fused)…", flush=True)
        flatbuffer = convert(model)
        tflite = next_free_path(out / f"{name}.tflite")
        tflite.write_bytes(flatbuffer)

        print(f"checking parity on {self.parity_samples} random inputs…", flush=True)
        samples = (
            np.random.RandomState(self.seed)
            .uniform(-1, 1, (self.parity_samples, *model.input_shape[1:]))
            .astype(np.float32)
        )
        parity = check_parity(model, flatbuffer, samples)
        report = audit(flatbuffer, model)
        report.operators.to_csv(tflite.with_suffix(".audit.csv"), index=False)
        tflite.with_suffix(".parity.json").write_text(
            json.dumps(
                {
                    **parity.as_dict(),
                    **reload,
                    "sign_flip_rates": parity.sign_flip_rates,
                    "audit": report.summary,
                    "stayed_float": report.stayed_float.to_dict("records"),
                    "warnings": report.warnings.to_dict("records"),
                },
                indent=2,
            )
            + "\n"
        )

        print(f"\n{tflite} ({len(flatbuffer) / 1024:.1f} KiB)")
        print("parity: " + ", ".join(f"{k}={v}" for k, v in parity.as_dict().items()))
        print(
            "audit: "
            + ", ".join(
                f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in report.summary.items()
            )
        )
        if not report.stayed_float.empty:
            print("meant binary but stayed float:")
            print(report.stayed_float.to_string(index=False))
        for message in report.warnings.message:
            print(f"WARNING: {message}")
