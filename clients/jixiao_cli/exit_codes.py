"""The `jixiao` command's exit statuses and the error that carries one to the top."""

from __future__ import annotations

OK = 0
FAILED = 1  # a pack test failed, a publish or change was refused, or the server failed
USAGE = 2  # bad usage or input: missing file, bad JSON/YAML, unknown pack, invalid facts or pack
UNAVAILABLE = 3  # the server could not be reached or did not answer in time
DENIED = 4  # no token, an unknown token, or a token without the role the call needs
INTERRUPTED = 130  # Ctrl-C: `jixiao batch` stopped, and a rerun resumes it


class CliError(Exception):
    """An expected failure: one line for stderr and the exit status to end with."""

    def __init__(self, message: str, exit_code: int = USAGE):
        super().__init__(message)
        self.exit_code = exit_code


class UnreadableOutput(CliError):
    """A `jixiao batch` output its reader refuses. `problem` says what is wrong; the message
    adds what `jixiao batch` has its user do, and another reader (`jixiao summary`) gives
    its own advice with the same problem."""

    ADVICE = "choose another --out, or remove the file to start over"

    def __init__(self, problem: str):
        super().__init__(f"{problem}: {self.ADVICE}")
        self.problem = problem
