"""Checks passwords against stored hashes in constant work, as src/client/password-verification.ts does."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Callable, Final, NoReturn

import bcrypt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHash, VerificationError, VerifyMismatchError

from .password_hashing import PasswordHashing, hash_password

MAX_BCRYPT_COST: Final = 16
"""The highest bcrypt cost factor checked (2^16 rounds); a higher one is refused rather than run for minutes."""

_BCRYPT: Final = re.compile(r"^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$")


class UnsupportedPasswordHashError(Exception):
    """``verify_password`` met a stored hash it cannot check (neither argon2 nor bcrypt of a supported cost, or a
    damaged one). Raised after the same argon2 work as any other sign-in; the message never quotes the hash."""

    code: Final = "AUTHDB_PASSWORD_HASH"


_ARGON2: Final = PasswordHasher()  # verify() reads the costs from the hash itself


def _argon2_check(stored_hash: str, password: str) -> bool:
    try:
        matched: bool = _ARGON2.verify(stored_hash, password)
        return matched
    except VerifyMismatchError:
        return False


def _bcrypt_check(stored_hash: str, password: str) -> bool:
    # bcrypt reads only the first 72 bytes of a password, as the system that made the hash did.
    return bcrypt.checkpw(password.encode("utf-8")[:72], stored_hash.encode("ascii"))


@dataclass(frozen=True)
class PasswordChecks:
    """The checks :class:`PasswordVerifier` runs; each answers whether ``password`` matches ``stored_hash``."""

    argon2: Callable[[str, str], bool] = _argon2_check
    bcrypt: Callable[[str, str], bool] = _bcrypt_check


DEFAULT_PASSWORD_CHECKS: Final = PasswordChecks()


class PasswordVerifier:
    """One password-hash verification per call, whatever is stored.

    - an argon2 PHC string (``$argon2id$…``): verified with its own parameters;
    - a bcrypt hash (``$2a$``/``$2b$``/``$2y$``, cost up to :data:`MAX_BCRYPT_COST`): verified at its own cost;
    - no hash (unknown, unconfirmed or passwordless account): verified against a dummy argon2 hash of the
      configured costs, answering ``False``;
    - anything else: the same dummy verification, then :class:`UnsupportedPasswordHashError`.
    """

    def __init__(self, hashing: PasswordHashing, checks: PasswordChecks = DEFAULT_PASSWORD_CHECKS) -> None:
        self._hashing = hashing
        self._checks = checks
        self._dummy: str | None = None

    def matches(self, stored_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches ``stored_hash``; see the class for each kind of stored hash."""
        if stored_hash is None:
            self._dummy_check(password)
            return False
        check = self._check_for(stored_hash)
        if check is None:
            self._refuse(password)
        try:
            return check(stored_hash, password)
        except (InvalidHash, VerificationError, ValueError) as error:
            # A damaged hash of a known scheme fails before any work: do it, then refuse.
            self._refuse(password, error)

    def _check_for(self, stored_hash: str) -> Callable[[str, str], bool] | None:
        if stored_hash.startswith("$argon2"):
            return self._checks.argon2
        found = _BCRYPT.match(stored_hash)
        if found is not None and int(found.group(1)) <= MAX_BCRYPT_COST:
            return self._checks.bcrypt
        return None

    def _refuse(self, password: str, cause: BaseException | None = None) -> NoReturn:
        self._dummy_check(password)
        raise UnsupportedPasswordHashError(
            "authdb: the stored password hash of this account is neither an argon2 PHC string ($argon2id$…) nor a bcrypt hash "
            f"($2a$, $2b$, $2y$, cost at most {MAX_BCRYPT_COST}), so verify_password cannot check it; store such hashes in one of "
            "those schemes, or check them with sign_in_credentials and your own code"
        ) from cause

    def _dummy_check(self, password: str) -> None:
        if self._dummy is None:
            # A hash of a random password nobody knows, made once with the configured costs.
            self._dummy = hash_password(secrets.token_urlsafe(32), self._hashing)
        self._checks.argon2(self._dummy, password)
