"""Compile ``csrc/*.c`` into ``_build/liblbe.so`` (plain ``cc``, no ``-march``: levels chosen at run time).

The library is written to a temporary file and renamed into place, then the SHA-256 of the
sources is recorded next to it, so concurrent builds never expose a half-written library and
``library.py`` can tell a stale build from a current one.

Example:
    python -m benchmarks.engine.build
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SOURCE_DIR = Path(__file__).parent / "csrc"
BUILD_DIR = Path(__file__).parent / "_build"
LIBRARY_PATH = BUILD_DIR / "liblbe.so"
HASH_PATH = BUILD_DIR / "liblbe.sha256"
# -ffp-contract=off: no fused multiply-add in the output transform, like LCE's x86 build.
CFLAGS = ("-O2", "-fPIC", "-shared", "-pthread", "-ffp-contract=off", "-std=gnu11")
LDLIBS = ("-lm",)  # fmaf, roundf: resolved by the library itself, not by whichever process loads it


class BuildError(RuntimeError):
    """The C library could not be compiled (no compiler, or a compile error)."""


def sources() -> list[Path]:
    """Every C source and header of the library (the adapter's file included when present)."""
    return sorted([*SOURCE_DIR.glob("*.c"), *SOURCE_DIR.glob("*.h")])


def sources_hash() -> str:
    """SHA-256 over the sources' names and bytes and the compiler flags."""
    digest = hashlib.sha256(" ".join(CFLAGS + LDLIBS).encode())
    for path in sources():
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def compiler() -> str:
    """The C compiler: ``$CC`` or ``cc``; raises BuildError when there is none."""
    name = os.environ.get("CC", "cc")
    found = shutil.which(name)
    if found is None:
        raise BuildError(f"no C compiler: {name!r} is not on PATH (install gcc, e.g. apt-get install -y gcc)")
    return found


def build() -> Path:
    """Compile the library and record its sources' hash; returns the library path.

    Raises:
        BuildError: no compiler, or the compiler's error text.
    """
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    digest = sources_hash()
    c_files = [str(path) for path in sources() if path.suffix == ".c"]
    fd, tmp = tempfile.mkstemp(prefix=".liblbe-", suffix=".so", dir=BUILD_DIR)
    os.close(fd)
    try:
        result = subprocess.run(
            [compiler(), *CFLAGS, "-o", tmp, *c_files, *LDLIBS], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise BuildError(f"compiling the engine failed:\n{result.stderr.strip()}")
        os.replace(tmp, LIBRARY_PATH)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    fd, tmp = tempfile.mkstemp(prefix=".liblbe-", suffix=".sha256", dir=BUILD_DIR)
    with os.fdopen(fd, "w") as handle:
        handle.write(digest + "\n")
    os.replace(tmp, HASH_PATH)
    return LIBRARY_PATH


def is_current() -> bool:
    """Whether the built library exists and was built from the current sources."""
    try:
        return LIBRARY_PATH.exists() and HASH_PATH.read_text().strip() == sources_hash()
    except OSError:
        return False


if __name__ == "__main__":
    try:
        print(build())
    except BuildError as error:
        sys.exit(str(error))
