"""The authdb client: the TypeScript client's methods (src/client/create-auth-db.ts) on psycopg 3.

Every write goes through authdb's SQL functions, called with named arguments on the
schema-qualified, quoted function name, each call in a transaction of its own
(transaction.py). Arguments are always bound (never written into the SQL text), so
tokens, secrets and hashes stay out of the statement text and logs.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Final, Literal, Sequence, cast
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.rows import DictRow

from .durations import interval_text
from .errors import InvalidArgumentError, raise_authdb_error
from .input_bounds import require_input_bounds
from .password_hashing import DEFAULT_PASSWORD_HASHING, PasswordHashing, hash_password
from .password_verification import DEFAULT_PASSWORD_CHECKS, PasswordChecks, PasswordVerifier
from .results import EmailVerificationPreview, IssuedToken, RegisteredUser, SignedIn, TokenState, VerifiedEmail
from .transaction import CallTransactions, ConnectionSource

DEFAULT_SCHEMA: Final = "authdb"
"""The schema README recommends installing into (``authdb migrate up --schema authdb``)."""

_Argument = tuple[str, "str | None", Literal["text", "interval"]]

# to_char with a fixed pattern: no DateStyle or TimeZone of the session changes what is read.
_ISO_UTC: Final = "pg_catalog.to_char(pg_catalog.timezone('UTC'::pg_catalog.text, {}), 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'::pg_catalog.text)"


class AuthDb:
    """authdb's SQL API from Python.

    ``connection``: a psycopg connection (autocommit on or off; idle between calls; threads take turns), or a callable
    giving one per call as a context manager (``ConnectionPool.connection``, :func:`connect_per_call`).
    ``schema``: where the migrations were applied (default ``authdb``).
    Methods raise the :mod:`authdb_client.errors` class of each ``AU`` SQLSTATE; anything else untouched.
    """

    def __init__(
        self,
        connection: ConnectionSource,
        *,
        schema: str = DEFAULT_SCHEMA,
        password_hashing: PasswordHashing = DEFAULT_PASSWORD_HASHING,
        password_checks: PasswordChecks = DEFAULT_PASSWORD_CHECKS,
    ) -> None:
        self._transactions = CallTransactions(connection)
        self._schema = schema
        self._hashing = password_hashing
        self._verifier = PasswordVerifier(password_hashing, password_checks)

    def register_user(
        self,
        email: str,
        *,
        password: str | None = None,
        password_hash: str | None = None,
        phone: str | None = None,
        role: str | None = None,
        token_ttl: timedelta | None = None,
        min_resend_interval: timedelta | None = None,
    ) -> RegisteredUser:
        """``register_user_with_token``. A ``password`` is hashed with argon2id here first, whatever the outcome,
        so a registered address answers as slowly as a new one."""
        _require_str(email, "email")
        _require_password_input(password, password_hash)
        _require_optional_str(phone, "phone")
        _require_optional_str(role, "role")
        require_input_bounds(email=email, password=password, password_hash=password_hash, phone=phone, role=role)
        ttl = interval_text(token_ttl, "token_ttl")
        resend = interval_text(min_resend_interval, "min_resend_interval", allow_zero=True)
        stored_hash = password_hash if password is None else hash_password(password, self._hashing)
        row = self._one(
            "register_user_with_token",
            f"r.user_id::pg_catalog.text AS user_id, r.token, {_ISO_UTC.format('r.expires_at')} AS expires_at, r.outcome, r.registration_secret, r.email",
            [
                ("p_email", email, "text"),
                ("p_password_hash", stored_hash, "text"),
                ("p_phone", phone, "text"),
                ("p_role", role, "text"),
                ("p_token_ttl", ttl, "interval"),
                ("p_min_resend_interval", resend, "interval"),
            ],
        )
        return RegisteredUser(
            user_id=UUID(row["user_id"]),
            token=row["token"],
            expires_at=_timestamp(row["expires_at"]),
            outcome=row["outcome"],
            registration_secret=row["registration_secret"],
            email=row["email"],
        )

    def verify_email(
        self, token: str, *, registration_secret: str | None = None, password: str | None = None, password_hash: str | None = None
    ) -> VerifiedEmail:
        """``verify_email``: with the registration's secret its password hash and phone take effect; a
        ``password`` (hashed here) or ``password_hash`` given here becomes the password either way."""
        _require_str(token, "token")
        _require_optional_str(registration_secret, "registration_secret")
        _require_password_input(password, password_hash)
        require_input_bounds(token=token, registration_secret=registration_secret, password=password, password_hash=password_hash)
        stored_hash = password_hash if password is None else hash_password(password, self._hashing)
        row = self._one(
            "verify_email",
            "r.r::pg_catalog.text AS user_id",
            [("p_token", token, "text"), ("p_registration_secret", registration_secret, "text"), ("p_password_hash", stored_hash, "text")],
        )
        return VerifiedEmail(user_id=UUID(row["user_id"]))

    def preview_email_verification(self, token: str, *, registration_secret: str | None = None) -> EmailVerificationPreview:
        """``preview_email_verification``: what ``verify_email`` would do, read-only."""
        _require_str(token, "token")
        _require_optional_str(registration_secret, "registration_secret")
        require_input_bounds(token=token, registration_secret=registration_secret)
        row = self._one(
            "preview_email_verification",
            "r.user_id::pg_catalog.text AS user_id, r.token_state, r.token_valid, r.registration_secret_matches, "
            f"r.sets_password, r.sets_phone, r.role, {_ISO_UTC.format('r.expires_at')} AS expires_at",
            [("p_token", token, "text"), ("p_registration_secret", registration_secret, "text")],
        )
        return EmailVerificationPreview(
            user_id=None if row["user_id"] is None else UUID(row["user_id"]),
            token_state=cast(TokenState, row["token_state"]),
            token_valid=row["token_valid"],
            registration_secret_matches=row["registration_secret_matches"],
            sets_password=row["sets_password"],
            sets_phone=row["sets_phone"],
            role=row["role"],
            expires_at=None if row["expires_at"] is None else _timestamp(row["expires_at"]),
        )

    def resend_email_verification(
        self,
        email: str,
        *,
        token_ttl: timedelta | None = None,
        min_resend_interval: timedelta | None = None,
        registration_secret: str | None = None,
    ) -> IssuedToken:
        """``resend_email_verification``: a new token for an unconfirmed user (for that registration with its secret)."""
        _require_str(email, "email")
        ttl = interval_text(token_ttl, "token_ttl")
        resend = interval_text(min_resend_interval, "min_resend_interval", allow_zero=True)
        _require_optional_str(registration_secret, "registration_secret")
        require_input_bounds(email=email, registration_secret=registration_secret)
        row = self._one(
            "resend_email_verification",
            f"r.user_id::pg_catalog.text AS user_id, r.token, {_ISO_UTC.format('r.expires_at')} AS expires_at, r.email",
            [
                ("p_email", email, "text"),
                ("p_token_ttl", ttl, "interval"),
                ("p_min_resend_interval", resend, "interval"),
                ("p_registration_secret", registration_secret, "text"),
            ],
        )
        return IssuedToken(user_id=UUID(row["user_id"]), token=row["token"], expires_at=_timestamp(row["expires_at"]), email=row["email"])

    def verify_password(self, email: str, password: str) -> SignedIn | None:
        """Sign-in: ``sign_in_credentials``, then one password-hash verification here whatever the outcome
        (a dummy argon2id hash for unknown, unconfirmed and passwordless accounts), so timing tells none apart.
        ``None`` unless a confirmed account's stored hash matches."""
        _require_str(email, "email")
        _require_str(password, "password")
        require_input_bounds(email=email, password=password)
        rows = self._rows("sign_in_credentials", "r.user_id::pg_catalog.text AS user_id, r.password_hash, r.role", [("p_email", email, "text")])
        row = rows[0] if rows else None
        matches = self._verifier.matches(None if row is None else row["password_hash"], password)
        return SignedIn(user_id=UUID(row["user_id"]), role=row["role"]) if row is not None and matches else None

    def purge_expired_tokens(self, older_than: timedelta | None = None) -> int:
        """``purge_expired_email_verification_tokens`` (needs ``authdb grant --maintenance``): tokens deleted."""
        interval = interval_text(older_than, "older_than")
        row = self._one("purge_expired_email_verification_tokens", "r.r AS deleted", [("p_older_than", interval, "interval")])
        return int(row["deleted"])

    def _one(self, function: str, columns: str, arguments: Sequence[_Argument]) -> DictRow:
        rows = self._rows(function, columns, arguments)
        if not rows:
            raise RuntimeError(f"authdb: {function} returned no row; are the authdb migrations applied to schema {self._schema!r}?")
        return rows[0]

    def _rows(self, function: str, columns: str, arguments: Sequence[_Argument]) -> list[DictRow]:
        present = [(name, value, kind) for name, value, kind in arguments if value is not None]
        # Omitted arguments take the SQL function's own defaults. Types are pg_catalog-qualified:
        # an unqualified `text` would resolve through the session's search_path.
        query = sql.SQL("SELECT {columns} FROM {function}({arguments}) AS r").format(
            columns=sql.SQL(columns),  # this module's constants only
            function=sql.Identifier(self._schema, function),
            arguments=sql.SQL(", ").join(sql.SQL("{} => %s::{}").format(sql.Identifier(name), sql.Identifier("pg_catalog", kind)) for name, _, kind in present),
        )
        params: list[Any] = [value for _, value, _ in present]
        try:
            with self._transactions.call() as cursor:
                cursor.execute(query, params)
                return cursor.fetchall()
        except psycopg.Error as error:
            raise_authdb_error(error)


def _timestamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def _require_str(value: object, argument: str) -> None:
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{argument}: must be a str, got {type(value).__name__}", argument=argument)


def _require_optional_str(value: object, argument: str) -> None:
    if value is not None:
        _require_str(value, argument)


def _require_password_input(password: object, password_hash: object) -> None:
    """``password`` xor ``password_hash`` (or neither: a passwordless account); a password is never empty."""
    if password is not None and password_hash is not None:
        raise InvalidArgumentError("password, password_hash: give one of them, not both", argument="password")
    _require_optional_str(password, "password")
    _require_optional_str(password_hash, "password_hash")
    if password == "":
        raise InvalidArgumentError("password: must not be empty", argument="password")
