"""Which disk errors are a passing condition of the disk, not a fault of the frame.

A full file system (``ENOSPC``), an exhausted quota (``EDQUOT``), an NFS server
that lost the file handle (``ESTALE``), an I/O error (``EIO``: a flaky mount,
a disk being replaced) or a file system turned read-only by the kernel after
an error (``EROFS``) all go away when someone frees space or the mount comes
back. A frame that meets one of them is not bad: it waits and is tried again,
as a frame waits for a missing staging disk. Any other error (a bad header, a
folder that is not a folder) is the frame's own and fails it with the reason.
"""

from __future__ import annotations

import errno

#: Errors that say "the disk, for now": the frame waits, it does not fail.
PASSING = frozenset({errno.ENOSPC, errno.EDQUOT, errno.ESTALE, errno.EIO, errno.EROFS,
                     errno.ETIMEDOUT, errno.ENODEV, errno.ENXIO})


def passing_disk_error(error: BaseException | None) -> OSError | None:
    """The ``OSError`` of a passing disk condition behind ``error`` (itself, or what it
    was raised from), else None.

    >>> passing_disk_error(OSError(errno.ENOSPC, "No space left on device")).errno == errno.ENOSPC
    True
    >>> passing_disk_error(ValueError("bad header")) is None
    True
    """
    seen = 0
    while error is not None and seen < 8:  # a cause chain, never a cycle
        if isinstance(error, OSError) and error.errno in PASSING:
            return error
        error, seen = error.__cause__ or error.__context__, seen + 1
    return None
