"""Refuses over-long arguments before any work, as src/client/input-bounds.ts does."""

from __future__ import annotations

import re
from typing import Callable, Final

from .errors import AuthDbError, InvalidArgumentError, InvalidEmailError, InvalidPhoneError, UnknownRoleError
from .input_limits import (
    MAX_DOMAIN_LABEL_LENGTH,
    MAX_EMAIL_LENGTH,
    MAX_PASSWORD_HASH_LENGTH,
    MAX_PASSWORD_LENGTH,
    MAX_PHONE_LENGTH,
    MAX_ROLE_LENGTH,
    MAX_TOKEN_LENGTH,
)


def _invalid_argument(message: str, argument: str) -> AuthDbError:
    return InvalidArgumentError(message, argument=argument)


_Bound = tuple[int, Callable[[str, str], AuthDbError]]

# In the order of the SQL functions' parameters; each refused with the class of the SQLSTATE the database would raise.
_BOUNDS: Final[dict[str, _Bound]] = {
    "email": (MAX_EMAIL_LENGTH, lambda message, _: InvalidEmailError(message)),
    "token": (MAX_TOKEN_LENGTH, _invalid_argument),
    "registration_secret": (MAX_TOKEN_LENGTH, _invalid_argument),
    "password": (MAX_PASSWORD_LENGTH, _invalid_argument),
    "password_hash": (MAX_PASSWORD_HASH_LENGTH, _invalid_argument),
    "phone": (MAX_PHONE_LENGTH, lambda message, _: InvalidPhoneError(message)),
    "role": (MAX_ROLE_LENGTH, lambda message, _: UnknownRoleError(message)),
}

# The characters that end a domain label as given: the same as canonical_email's (authdb_email_canonical_once).
_LABEL_SEPARATORS: Final = ".\u2024-\u2026\u2488-\u249b\u3002\u33c2\u33c7\u33d8\ufe12\ufe19\ufe30\ufe52\uff0e\uff61\U0001f100 \t\n\r\f\v"

# A run of more than MAX_DOMAIN_LABEL_LENGTH characters of one label, after the first "@".
_LONG_LABEL: Final = re.compile(f"@.*?[^@{_LABEL_SEPARATORS}]{{{MAX_DOMAIN_LABEL_LENGTH + 1}}}", re.DOTALL)


def require_input_bounds(**values: str | None) -> None:
    """Raises, before any work, for the first given value longer than its bound — or an e-mail
    address with a domain label over 63 characters — the error the SQL function would raise
    (the message names the argument and the limit, never the value)."""
    for argument, (limit, error) in _BOUNDS.items():
        value = values.get(argument)
        if value is None:
            continue
        if len(value) > limit:
            raise error(f"{argument}: must be at most {limit} characters", argument)
        if argument == "email" and _LONG_LABEL.search(value):
            raise error(f"email: each domain label must be at most {MAX_DOMAIN_LABEL_LENGTH} characters", argument)
