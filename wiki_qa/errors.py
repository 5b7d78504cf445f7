"""Error types that decide the CLI's exit code.

UserError means "bad input or config": the CLI prints its one-line message and exits 2.
Anything else is a bug or an environment failure: exit 1 (traceback only with --debug).
"""


class WikiQAError(Exception):
    """Base class for wiki_qa's own errors."""


class UserError(WikiQAError):
    """Bad input or config. `str(err)` is the single line shown to the user; it names the file
    (or config key) and the problem, and must never contain a secret."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None):
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class BuildAborted(WikiQAError):
    """The build stopped on purpose (e.g. max_cost_usd reached, auth failed). Exit 1, no output published."""

    exit_code = 1
