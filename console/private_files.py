"""The files the run command makes are the user's alone: 0600 files, 0700 directories (issue 12).

The run command sets the umask 077 before it creates anything (the SQLite database and its -wal
and -shm files, the embedded Redis's socket and log, media, exports, key files), and tightens what
an older run left readable by others. No Django: the run command calls it before anything starts.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077
FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


def make_private_by_default() -> int:
    """Set the process's umask so that new files and directories are the user's alone; return the old one."""
    return os.umask(PRIVATE_UMASK)


def tighten(*roots: Path) -> list[Path]:
    """Take group and other permissions off every file and directory under ``roots``; return what changed.

    Symbolic links are not followed (a link out of var/ must not widen what is touched); modes are
    only narrowed, never widened, so an executable stays executable for its owner.
    """
    changed: list[Path] = []
    for root in roots:
        if not root.is_dir() or root.is_symlink():
            continue
        for directory, names, files in os.walk(root, followlinks=False):
            for path in [Path(directory), *(Path(directory) / name for name in files)]:
                try:
                    status = path.lstat()
                except FileNotFoundError:  # a -wal or a socket gone meanwhile
                    continue
                if stat.S_ISLNK(status.st_mode):
                    continue
                mode = stat.S_IMODE(status.st_mode)
                if mode & 0o077:
                    os.chmod(path, mode & 0o700)
                    changed.append(path)
            names[:] = [name for name in names if not (Path(directory) / name).is_symlink()]
    return changed
