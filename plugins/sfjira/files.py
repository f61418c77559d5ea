"""Local files only their owner can read: files 0600, folders 0700 (state store, run folders, reports).

Object stores (s3://, gs://, ...) have no modes; their access is the bucket's policy, so paths
there are opened as they are.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from airflow.sdk import ObjectStoragePath

FILE_MODE, DIR_MODE = 0o600, 0o700
_LOCAL = ("file", "local", "")


def local_path(path: ObjectStoragePath | str) -> Path | None:
    """The local file system path of `path`, or None for an object store."""
    path = ObjectStoragePath(str(path))
    return Path(path.path) if path.protocol in _LOCAL else None


def private_dirs(path: Path) -> Path:
    """`path` and its missing parents created 0700 (folders that exist already keep their mode)."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(folder, DIR_MODE)  # mkdir's mode passes through the umask
    return path


def make_private(path: Path) -> None:
    """Tighten a file or folder sfjira owns to 0600 / 0700."""
    os.chmod(path, DIR_MODE if path.is_dir() else FILE_MODE)


def private_file(path: Path) -> Path:
    """An (empty, if new) file at `path` that only its owner can read; its folder is created 0700."""
    private_dirs(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE))
    make_private(path)
    return path


@contextmanager
def open_private(path: ObjectStoragePath | str, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open `path` for writing; a local file is created 0600 (an existing one is truncated and tightened)."""
    local = local_path(path)
    if local is None:
        with ObjectStoragePath(str(path)).open(mode) as fh:
            yield fh
        return
    fd = os.open(local, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    with os.fdopen(fd, mode) as fh:
        yield fh
