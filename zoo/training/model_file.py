"""Where a finished run's model lives: a run folder's model.h5, or an .h5 file named directly."""

from pathlib import Path

from lab_bnn.errors import UserError


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
