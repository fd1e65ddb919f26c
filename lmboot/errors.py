"""The one error type users see.

Every problem caused by the user's input (a missing file, a bad line, a bitext whose sides
differ) is raised as :class:`LmbootError`; the CLI prints it as one line and exits with
status 2, without a traceback.
"""
from __future__ import annotations

from pathlib import Path


class LmbootError(Exception):
    """A user-facing error: one line, naming the file (and line) and what is wrong.

    >>> str(LmbootError("invalid UTF-8", path="seed.hi", line=3))
    'seed.hi:3: invalid UTF-8'
    """

    exit_code = 2

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line is not None else f"{self.path}: "
        return where + self.message.replace("\n", " ")


def os_error_line(e: OSError) -> str:
    """One line for an OSError: ``PATH: cause`` (the OS's words).

    >>> os_error_line(FileNotFoundError(2, "No such file or directory", "seed.hi"))
    'seed.hi: No such file or directory'
    """
    # numpy's tofile raises OSError("N requested and M written") without errno: its own words
    why = e.strerror or (str(e.args[0]) if e.args and e.args[0] is not None else "") or type(e).__name__
    name = e.filename if e.filename is not None else None
    if name is not None and e.filename2 is not None:
        return f"{name} -> {e.filename2}: {why}".replace("\n", " ")
    return (f"{name}: {why}" if name is not None else why).replace("\n", " ")
