"""Output paths that never replace an earlier result."""

from pathlib import Path


def next_free_path(path: Path) -> Path:
    """`path`, or name-2.ext, name-3.ext, … : the first that does not exist yet."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate
