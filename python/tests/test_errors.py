"""Every AU SQLSTATE arrives as its own class, from a real call; anything else untouched."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Callable
from uuid import UUID

import psycopg
import pytest
from support import admin_url, database_url, fresh_email, fresh_phone, run_node, schema

from authdb_client import (
    ERROR_CLASSES,
    AuthDb,
    AuthDbError,
    EmailAlreadyRegisteredError,
    InvalidArgumentError,
    InvalidEmailError,
    InvalidPhoneError,
    PhoneAlreadyRegisteredError,
    ResendTooSoonError,
    RoleNotSelfAssignableError,
    TokenAlreadyUsedError,
    TokenExpiredError,
    TooManyOutstandingTokensError,
    UnknownRoleError,
    UnknownTokenError,
    UserNotFoundError,
    connect_per_call,
)


def test_the_classes_are_the_typescript_clients() -> None:
    names = json.loads(
        run_node(
            "import * as authdb from './dist/index.js';"
            "console.log(JSON.stringify(Object.fromEntries(authdb.AUTH_DB_ERROR_CODES.map((code) => "
            "[code, Object.values(authdb).find((v) => typeof v === 'function' && v.prototype instanceof authdb.AuthDbError && new v('m').code === code).name]))))"
        )
    )
    assert {code: cls.__name__ for code, cls in ERROR_CLASSES.items()} == names
    assert list(ERROR_CLASSES) == [f"AU{n:03}" for n in range(1, 14)]
    assert all(issubclass(cls, AuthDbError) and cls.sqlstate == code for code, cls in ERROR_CLASSES.items())


def confirmed(auth: AuthDb, email: str, phone: str | None = None) -> UUID:
    registered = auth.register_user(email, password="correct horse battery staple", phone=phone)
    return auth.verify_email(registered.token, registration_secret=registered.registration_secret).user_id


def au001(auth: AuthDb) -> None:
    email = fresh_email()
    confirmed(auth, email)
    auth.register_user(email, password="another password")


def au002(auth: AuthDb) -> None:
    phone = fresh_phone()
    owner = confirmed(auth, fresh_email(), phone)
    # No API function confirms a phone number: an operator does.
    with psycopg.connect(admin_url(), autocommit=True) as admin:
        admin.execute(f'UPDATE "{schema()}".users SET phone_confirmed_at = now() WHERE id = %s', [owner])
    auth.register_user(fresh_email(), phone=phone)


def au008(auth: AuthDb) -> None:
    email = fresh_email()
    auth.register_user(email)
    auth.register_user(email)


def au010(auth: AuthDb) -> None:
    auth.verify_email(secrets.token_urlsafe(32))


def au011(auth: AuthDb) -> None:
    registered = auth.register_user(fresh_email(), token_ttl=timedelta(milliseconds=1))
    # Wait on the state, not on a clock: the token's expiry is the server's.
    for _ in range(1000):
        if auth.preview_email_verification(registered.token).token_state == "expired":
            break
    auth.verify_email(registered.token)


def au012(auth: AuthDb) -> None:
    registered = auth.register_user(fresh_email())
    auth.verify_email(registered.token)
    auth.verify_email(registered.token)


def au013(auth: AuthDb) -> None:
    email = fresh_email()
    for _ in range(6):
        auth.register_user(email, min_resend_interval=timedelta(0))


CALLS: list[tuple[type[AuthDbError], Callable[[AuthDb], object]]] = [
    (EmailAlreadyRegisteredError, au001),
    (PhoneAlreadyRegisteredError, au002),
    (UnknownRoleError, lambda auth: auth.register_user(fresh_email(), role="no_such_role")),
    (RoleNotSelfAssignableError, lambda auth: auth.register_user(fresh_email(), role="admin")),
    (InvalidEmailError, lambda auth: auth.register_user("not an address")),
    (InvalidPhoneError, lambda auth: auth.register_user(fresh_email(), phone="+0123456789")),
    (UserNotFoundError, lambda auth: auth.resend_email_verification(fresh_email())),
    (ResendTooSoonError, au008),
    (InvalidArgumentError, lambda auth: auth.register_user(fresh_email(), password_hash="")),
    (UnknownTokenError, au010),
    (TokenExpiredError, au011),
    (TokenAlreadyUsedError, au012),
    (TooManyOutstandingTokensError, au013),
]


def test_every_code_has_a_call() -> None:
    assert sorted(cls.sqlstate for cls, _ in CALLS) == list(ERROR_CLASSES)


@pytest.mark.parametrize(("error_class", "call"), CALLS, ids=[cls.sqlstate for cls, _ in CALLS])
def test_a_real_call_raises_its_class(auth: AuthDb, error_class: type[AuthDbError], call: Callable[[AuthDb], object]) -> None:
    with pytest.raises(error_class) as raised:
        call(auth)
    error = raised.value
    assert type(error) is error_class
    assert isinstance(error.__cause__, psycopg.Error) and error.__cause__.sqlstate == error_class.sqlstate
    assert error.message == error.__cause__.diag.message_primary


def test_detail_hint_and_argument_come_from_the_server(auth: AuthDb) -> None:
    with pytest.raises(ResendTooSoonError) as too_soon:
        au008(auth)
    assert too_soon.value.hint is not None and "Retry after" in too_soon.value.hint
    with pytest.raises(InvalidArgumentError) as invalid:
        auth.register_user(fresh_email(), password_hash="")
    assert invalid.value.argument == "p_password_hash"


def test_other_errors_are_raised_untouched() -> None:
    # A schema without the migrations: PostgreSQL's own 3F000/42883, not an authdb class.
    auth = AuthDb(connect_per_call(database_url()), schema="no_such_schema")
    with pytest.raises(psycopg.Error) as raised:
        auth.register_user(fresh_email())
    assert not isinstance(raised.value, AuthDbError)
    assert raised.value.sqlstate in ("3F000", "42883")


def test_over_long_input_is_refused_before_any_query() -> None:
    def no_connection() -> psycopg.Connection[object]:
        raise AssertionError("no connection may be opened")

    auth = AuthDb(no_connection)
    with pytest.raises(InvalidEmailError) as email:
        auth.register_user("a" * 1025, password="x")
    assert email.value.__cause__ is None and email.value.message == "email: must be at most 1024 characters"
    with pytest.raises(InvalidEmailError, match="each domain label must be at most 63"):
        auth.verify_password("a@" + "b" * 64 + ".example", "x")
    with pytest.raises(InvalidArgumentError) as token:
        auth.verify_email("t" * 65)
    assert token.value.argument == "token"
    with pytest.raises(InvalidArgumentError, match="give one of them"):
        auth.register_user(fresh_email(), password="x", password_hash="y")
    with pytest.raises(InvalidArgumentError, match="not a valid duration"):
        auth.register_user(fresh_email(), token_ttl=timedelta(0))
