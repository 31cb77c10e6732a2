"""The project's base exception: every error about the user's input subclasses it.

:class:`ProjectError` subclasses :class:`ValueError`, so a caller that knows only the standard
library can still catch bad input; the CLI turns exactly these (and nothing else) into a one-line
message and exit code 2.
"""

from __future__ import annotations


class ProjectError(ValueError):
    """Base class of every exception the project raises about its input (data, scenario)."""


class ScenarioFileError(ProjectError):
    """A scenario file is unreadable or invalid; the message names the file and the key."""
