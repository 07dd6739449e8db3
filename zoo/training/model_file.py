"""A finished run's model, named by its run folder (its model.h5) or by an .h5 file."""

from pathlib import Path

import lab_bnn  # noqa: F401  (registers lab-bnn's layers and binarizers for load_model)
from lab_bnn.errors import UserError

import larq  # noqa: F401  (registers larq's layers and quantizers)
import tensorflow as tf


def resolve_model_file(path: str, field: str) -> Path:
    """The .h5 file that `field=path` names.

    Args:
        path: a run folder (one that `lqz Train…` finished, so it holds model.h5) or a
            path to an `.h5` file.
        field: the configuration field the path came from (`teacher`,
            `initialize_from`), named in the error.

    Returns:
        The path of the .h5 file.

    Raises:
        UserError: if the folder has no model.h5, or the path does not exist or is a
            file not ending in .h5.

    Example:
        >>> resolve_model_file("runs/CompactBNN-2026-12-01", "teacher")
        PosixPath('runs/CompactBNN-2026-12-01/model.h5')
    """
    location = Path(str(path)).expanduser()
    if location.is_dir():
        model_file = location / "model.h5"
        if not model_file.is_file():
            raise UserError(
                f"{field}={path} has no model.h5; train it to the end first "
                "(model.h5 is written when the last epoch finishes)"
            )
        return model_file
    if not location.exists():
        raise UserError(f"{field}={path} does not exist; give a run folder or an .h5 file")
    if location.suffix != ".h5":
        raise UserError(f"{field}={path} is not an .h5 file; give a run folder or an .h5 file")
    return location


def load_model_file(path: str, field: str) -> tf.keras.Model:
    """The model that `field=path` names, loaded without its optimizer (`compile=False`).

    Call it inside `strategy.scope()` for distributed variables.

    Args:
        path: a finished run folder or an `.h5` file (see `resolve_model_file`).
        field: the configuration field the path came from, named in errors.

    Returns:
        The loaded Keras model.

    Raises:
        UserError: if the path does not name an .h5 file (see `resolve_model_file`) or
            the file is not a Keras model this installation can read.
    """
    model_file = resolve_model_file(path, field)
    try:
        return tf.keras.models.load_model(str(model_file), compile=False)
    except (OSError, ValueError) as error:
        lines = str(error).strip().splitlines() or [type(error).__name__]
        raise UserError(
            f"{field}={path}: {model_file} is not a readable Keras .h5 model ({lines[0]})"
        ) from error
