"""The SQLSTATEs authdb's SQL functions raise (class ``AU``), one exception class each.

The same codes and concept names as the TypeScript client (src/client/errors.ts).
Messages, details and hints may quote e-mail addresses, phone numbers and role
names; they never contain passwords, password hashes, tokens or registration
secrets.
"""

from __future__ import annotations

import re
from typing import ClassVar, Final, NoReturn

import psycopg


class AuthDbError(Exception):
    """Base class of the errors authdb's SQL functions raise on purpose.

    ``sqlstate`` is the code (``AU001`` … ``AU013``). When the database raised it,
    ``__cause__`` is the original :class:`psycopg.Error`; when the client refused
    an argument before sending anything, there is no cause.
    """

    sqlstate: ClassVar[str] = ""

    def __init__(self, message: str, *, detail: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message: Final = message
        self.detail: Final = detail
        self.hint: Final = hint


class EmailAlreadyRegisteredError(AuthDbError):
    """AU001: the e-mail address belongs to a confirmed account."""

    sqlstate = "AU001"


class PhoneAlreadyRegisteredError(AuthDbError):
    """AU002: the phone number is confirmed by another account."""

    sqlstate = "AU002"


class UnknownRoleError(AuthDbError):
    """AU003: no row of the roles table has that name."""

    sqlstate = "AU003"


class RoleNotSelfAssignableError(AuthDbError):
    """AU004: the role exists but users may not choose it at registration (or it stopped being self-assignable)."""

    sqlstate = "AU004"


class InvalidEmailError(AuthDbError):
    """AU005: not an e-mail address (not mappable to its canonical form; the message says why)."""

    sqlstate = "AU005"


class InvalidPhoneError(AuthDbError):
    """AU006: not an E.164 phone number."""

    sqlstate = "AU006"


class UserNotFoundError(AuthDbError):
    """AU007: no user has that e-mail address."""

    sqlstate = "AU007"


class ResendTooSoonError(AuthDbError):
    """AU008: the last verification token is younger than the minimum resend interval; ``hint`` says when to retry."""

    sqlstate = "AU008"


_ARGUMENT = re.compile(r"^(p_[a-z_]+):")


class InvalidArgumentError(AuthDbError):
    """AU009: any other invalid argument, raised by the database or, before anything is sent, by the client.

    ``argument`` names it: the keyword argument for the client's own refusals,
    the SQL parameter (``p_token_ttl``) for the database's.
    """

    sqlstate = "AU009"

    def __init__(self, message: str, *, detail: str | None = None, hint: str | None = None, argument: str | None = None) -> None:
        super().__init__(message, detail=detail, hint=hint)
        found = _ARGUMENT.match(message)
        self.argument: Final = argument if argument is not None else (found.group(1) if found else None)


class UnknownTokenError(AuthDbError):
    """AU010: no verification token has that value (mistyped, or deleted by a purge)."""

    sqlstate = "AU010"


class TokenExpiredError(AuthDbError):
    """AU011: the verification token's lifetime is over."""

    sqlstate = "AU011"


class TokenAlreadyUsedError(AuthDbError):
    """AU012: the verification token was used already, or revoked."""

    sqlstate = "AU012"


class TooManyOutstandingTokensError(AuthDbError):
    """AU013: the address has 5 usable verification links outstanding; none is issued until the oldest expires (``hint`` says when)."""

    sqlstate = "AU013"


_CLASSES: Final[tuple[type[AuthDbError], ...]] = (
    EmailAlreadyRegisteredError,
    PhoneAlreadyRegisteredError,
    UnknownRoleError,
    RoleNotSelfAssignableError,
    InvalidEmailError,
    InvalidPhoneError,
    UserNotFoundError,
    ResendTooSoonError,
    InvalidArgumentError,
    UnknownTokenError,
    TokenExpiredError,
    TokenAlreadyUsedError,
    TooManyOutstandingTokensError,
)

ERROR_CLASSES: Final[dict[str, type[AuthDbError]]] = {cls.sqlstate: cls for cls in _CLASSES}
"""Every authdb SQLSTATE, in order, with its class."""


def to_authdb_error(error: BaseException) -> BaseException:
    """The typed error for a :class:`psycopg.Error` with an authdb SQLSTATE (its ``__cause__`` set to it);
    any other exception is returned untouched (the same object), to be re-raised as is."""
    if not isinstance(error, psycopg.Error) or error.sqlstate not in ERROR_CLASSES:
        return error
    diag = error.diag
    mapped = ERROR_CLASSES[error.sqlstate](diag.message_primary or str(error), detail=diag.message_detail, hint=diag.message_hint)
    mapped.__cause__ = error
    return mapped


def raise_authdb_error(error: BaseException) -> NoReturn:
    """Raises :func:`to_authdb_error` of ``error``: for ``except psycopg.Error as e: raise_authdb_error(e)`` around your own calls."""
    mapped = to_authdb_error(error)
    if mapped is error:
        raise error
    raise mapped from error
