"""The one error type that means 'bad input': main() prints it as one line and exits 2."""

from __future__ import annotations


class InputError(Exception):
    """Input reviewbot cannot use. The message names the input and the problem."""


class UsageError(InputError):
    """A command line that does not make sense."""


class RuleError(InputError):
    """A rule file that cannot be run (a language rule whose pattern ast-grep rejects, found
    when the rule first meets a C file). Not caught per rule like other failures."""


class IndexDamaged(Exception):
    """The tree index database gave back something that is not what reviewbot wrote there
    (found while a check reads it lazily): the check starts again from a rebuilt index."""
