"""Error types that decide the CLI's exit code.

UserError means "bad input or config": the CLI prints its one-line message and exits 2.
Anything else is a bug or an environment failure: exit 1 (traceback only with --debug).
"""
import contextlib


class WikiQAError(Exception):
    """Base class for wiki_qa's own errors."""


class UserError(WikiQAError):
    """Bad input or config. `str(err)` is the single line shown to the user; it names the file
    (or config key) and the problem, and must never contain a secret."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None):
        from wiki_qa.secrets import redact  # a URL in the message may carry credentials (also outside the CLI)

        self.path = path
        super().__init__(redact(f"{path}: {message}" if path else message))


class BuildAborted(WikiQAError):
    """The build stopped on purpose (e.g. max_cost_usd reached, auth failed). Exit 1, no output published."""

    exit_code = 1


@contextlib.contextmanager
def user_errors_unwrapped():
    """datasets wraps whatever a generator raises in DatasetGenerationError; a UserError inside (a bad
    namespace name, a stub dump) must still reach the CLI as the one-line error it is."""
    import datasets

    try:
        yield
    except datasets.exceptions.DatasetGenerationError as e:
        cause = e.__cause__ or e.__context__
        while cause is not None and not isinstance(cause, UserError):
            cause = cause.__cause__ or cause.__context__
        if cause is not None:
            raise cause from None
        raise
