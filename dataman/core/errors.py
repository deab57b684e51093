"""Named failures of frame processing.

Each one carries a reason an operator can act on; the worker turns it into a
journal record and a log line. Nothing in ``dataman.core`` swallows them.
"""


#: Exit status after ctrl+c, as a shell reports a command ended by SIGINT (128 + 2).
EXIT_INTERRUPTED = 130


class DataManError(Exception):
    """Base class of every failure dataMan reports by name."""


class ConfigError(DataManError):
    """The configuration file is unreadable or invalid (file, key and reason in the message)."""


class FrameError(DataManError):
    """A raw frame cannot be processed; the message names the file and the reason."""


class FrameIncomplete(FrameError):
    """The file is shorter than its FITS headers imply (still being written, or truncated)."""


class BadFrame(FrameError):
    """The file is not a MODS raw frame: not FITS, missing extensions, wrong shapes or types."""


class FrameTooLarge(BadFrame):
    """The frame does not fit the buffer it was given (a slot sized by ``[workers] slotSize``)."""


class BadHeader(FrameError):
    """A header value needed to process the frame is missing or absurd."""


class DeliveryFailed(DataManError):
    """The processed file could not be written or delivered (disk missing, read-only, full)."""
