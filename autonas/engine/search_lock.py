"""One search at a time in a search directory: a lock held for the whole of a `fit`.

Two `fit`s on one `directory` at once would write the same keras-tuner project: both would
resume it, run the same trial ids and overwrite each other's files, or one would delete the
project (`overwrite=True`) under the other. The first `fit` takes an exclusive lock on
`<directory>/.autonas.lock` (`fcntl.flock`) and writes its process id and host there while it
holds it; a second one is refused at once, before it reads or writes anything, with the holder
named. A directory that cannot be written is refused here too (`check_writable`).

The lock belongs to the open file, not to the file's existence: the operating system releases
it when the process ends in any way (an exception, Ctrl-C, SIGKILL, a crash), so a lock file
left behind is never stale and the next `fit` takes it. The workers of a chief/worker search
share the chief's directory and take no lock; the chief holds it for them. Where `fcntl` is
missing (Windows) or the directory is not a local path (`gs://...`), no lock is taken.

Example:
    >>> with search_lock("searches/digits"):            # doctest: +SKIP
    ...     run_search(...)
"""
from __future__ import annotations

import contextlib
import errno
import os
import socket

from autonas.engine.project_files import check_writable

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

LOCK_FILE = ".autonas.lock"


class SearchDirectoryBusy(RuntimeError):
    """Another process is running a search in the same directory."""


def lock_path(directory):
    """The lock file of the searches kept in `directory`."""
    return os.path.join(os.fspath(directory), LOCK_FILE)


@contextlib.contextmanager
def search_lock(directory):
    """Hold the search lock of `directory` (created if missing) for the duration of the block.

    Args:
        directory: the search directory.

    Yields:
        `directory`.

    Raises:
        SearchDirectoryBusy: another process holds the lock (its pid and host are named).
        SearchDirectoryNotWritable: the directory cannot be created or written.
    """
    if fcntl is None or "://" in os.fspath(directory):
        yield directory
        return
    check_writable(directory)
    path = lock_path(directory)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            raise SearchDirectoryBusy(
                f"Another search is running in {os.fspath(directory)} ({_holder(descriptor)} holds {path}). "
                "Wait for it to end, or give this search another directory=. (The lock is released when that "
                "process ends, however it ends: there is no stale lock to delete.)") from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
        try:
            yield directory
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(descriptor, 0)  # held by none: the file is left empty
    finally:
        os.close(descriptor)  # releases the lock


def _holder(descriptor):
    with contextlib.suppress(OSError, UnicodeDecodeError):
        text = os.pread(descriptor, 200, 0).decode().strip()
        if text:
            return f"process {text}"
    return "another process"
