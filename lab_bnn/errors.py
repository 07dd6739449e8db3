"""The one exception type for a user's mistake (bad argument, file, field or shape).

`lqz` prints a UserError as one `lqz: error: ...` line; every other exception is a bug
and keeps its traceback. It subclasses ValueError, so `except ValueError` still works.
"""


class UserError(ValueError):
    """Bad input from a user: the message names the value received and what is allowed.

    Example:
        >>> raise UserError("epochs must be a positive integer; received 0")
    """
