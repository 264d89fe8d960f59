"""The ``nuextract`` command: project endpoints and bulk jobs from a shell.

Run ``nuextract --help`` for the commands, the output formats and the table
of exit statuses.
"""

from ._exits import ExitStatus
from ._main import main

__all__ = ["ExitStatus", "main"]
