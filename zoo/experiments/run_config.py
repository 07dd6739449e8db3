"""A training task's command line and config.json: the shorthands older command lines
use, the model keys a task sets itself, the JSON a run records, and the resume check."""

import json
from pathlib import Path
from typing import Any, Dict, Mapping

from lab_bnn.errors import UserError

from zookeeper.core.component import base_getattr

from zoo.models.factory import TASK_SET_FIELDS

# Older command lines (before models and optimizers were components) keep working:
# each key is rewritten to its component key before zookeeper sees it. They are not
# task Fields, because a configured task Field would also set every sub-component
# Field of the same name (zookeeper's field inheritance).
SHORTHANDS: Dict[str, str] = {
    "lab_blocks": "model.lab_blocks",
    "binarizer": "model.binarizer",
    "learning_rate": "optimizer.learning_rate",
    "final_learning_rate": "optimizer.schedule.final_learning_rate",
}

# Why each model Field in TASK_SET_FIELDS is not the user's to set.
TASK_SET_REASONS: Dict[str, str] = {
    "input_shape": "use input_shape=H,W,C; the default is the dataset's",
    "num_classes": "from the dataset",
    "include_top": "a trained model always has its classifier",
    "dataset": "use dataset=",
    "weights": "a run starts from fresh weights or from initialize_from=<run dir or .h5>",
    "input_tensor": "built from input_shape=",
}

# Settings that must match for `resume=True` to continue a run: they shape the weights,
# the optimizer's slots and the data of every step.
RESUME_MUST_MATCH = (
    "model",
    "model_fields",
    "dataset",
    "input_shape",
    "batch_size",
    "optimizer",
    "teacher",
    "stage",
)


def rewrite_shorthands(conf: Mapping[str, Any]) -> Dict[str, Any]:
    """`conf` with each shorthand key replaced by its component key.

    Raises:
        UserError: if both a shorthand and its component key are given.
    """
    rewritten = dict(conf)
    for short, full in SHORTHANDS.items():
        if short in rewritten:
            if full in rewritten:
                raise UserError(f"{short}= is short for {full}=; give only one of them")
            rewritten[full] = rewritten.pop(short)
    return rewritten


def refuse_task_set_keys(conf: Mapping[str, Any], task_name: str, model_name: str) -> None:
    """Refuse `model=` (a task trains one model) and the model keys the task sets.

    Raises:
        UserError: naming the key, the value and what to do instead.
    """
    if "model" in conf:
        raise UserError(
            f"{task_name} trains {model_name}, so model={conf['model']!r} cannot replace it; "
            f"set its fields as model.<field>=value (see `lqz {task_name} --help`)"
        )
    for key, value in conf.items():
        parts = key.split(".")
        if parts[0] == "model" and len(parts) > 1 and parts[1] in TASK_SET_REASONS:
            raise UserError(
                f"model.{parts[1]} is set by the task ({TASK_SET_REASONS[parts[1]]}); "
                f"received {key}={value!r}"
            )


def jsonable(value: Any) -> Any:
    """Tuples (zookeeper's sequences) as lists, recursively, as JSON stores them."""
    if isinstance(value, (tuple, list)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def model_fields(task) -> Dict[str, Any]:
    """Every Field of the task's model factory except those the task sets, as
    configured (or defaulted), JSON-ready."""
    factory = base_getattr(task, "model")  # `task.model` would build the model
    return {
        name: jsonable(getattr(factory, name))
        for name in factory.__component_fields__
        if name not in TASK_SET_FIELDS
    }


def flatten(value: Any, prefix: str) -> Dict[str, Any]:
    """{"a": {"name": "X", "b": 1}} under "p" → {"p.a": "X", "p.a.b": 1}: a component's
    `name` is the component itself, as the command line spells it."""
    if not isinstance(value, dict):
        return {prefix: value}
    flat: Dict[str, Any] = {}
    for key, item in value.items():
        flat.update(flatten(item, prefix if key == "name" else f"{prefix}.{key}"))
    return flat


def check_resumable(folder: Path, config: Dict[str, Any]) -> None:
    """Raises UserError if a setting that shapes the run differs from the saved one,
    naming each such key with both values (one line)."""
    saved = json.loads((folder / "config.json").read_text())
    if "model_fields" not in saved:
        raise UserError(
            f"resume=True but {folder} was written before lab-bnn recorded model and optimizer "
            "fields (issue 16); resume it with an older lab-bnn or start a new run"
        )
    now, then = {}, {}
    for key in RESUME_MUST_MATCH:
        shown_as = "model" if key == "model_fields" else key  # model.k, as typed
        now.update(flatten(json.loads(json.dumps(jsonable(config[key]))), shown_as))
        then.update(flatten(saved.get(key), shown_as))
    missing = object()
    changed = [k for k in {**then, **now} if now.get(k, missing) != then.get(k, missing)]
    # Another component (optimizer=SGD) is the difference, not each of its fields.
    changed = [k for k in changed if not any(k.startswith(f"{c}.") for c in changed)]
    if changed:

        def shown(values):
            return ", ".join(f"{k}={values[k]!r}" if k in values else f"{k} unset" for k in changed)

        verb = "differs" if len(changed) == 1 else "differ"
        raise UserError(f"resume=True but {shown(now)} {verb} from the run in {folder} ({shown(then)})")
