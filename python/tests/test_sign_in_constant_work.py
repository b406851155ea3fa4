"""verify_password does one password-hash verification whatever the account's state (the dummy hash otherwise)."""

from __future__ import annotations

import pytest
from support import database_url, fresh_email, schema

from authdb_client import AuthDb, PasswordChecks, UnsupportedPasswordHashError, connect_per_call
from authdb_client.password_verification import DEFAULT_PASSWORD_CHECKS

PASSWORD = "correct horse battery staple"


class CountingChecks:
    """The default checks, each call recorded with the hash it was given."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def checks(self) -> PasswordChecks:
        def argon2(stored_hash: str, password: str) -> bool:
            self.calls.append(("argon2", stored_hash))
            return DEFAULT_PASSWORD_CHECKS.argon2(stored_hash, password)

        def bcrypt(stored_hash: str, password: str) -> bool:
            self.calls.append(("bcrypt", stored_hash))
            return DEFAULT_PASSWORD_CHECKS.bcrypt(stored_hash, password)

        return PasswordChecks(argon2=argon2, bcrypt=bcrypt)


@pytest.fixture
def counting() -> CountingChecks:
    return CountingChecks()


@pytest.fixture
def counted_auth(counting: CountingChecks) -> AuthDb:
    return AuthDb(connect_per_call(database_url()), schema=schema(), password_checks=counting.checks())


def confirmed(auth: AuthDb, email: str, *, password: str | None = None, password_hash: str | None = None) -> None:
    registered = auth.register_user(email, password=password, password_hash=password_hash)
    auth.verify_email(registered.token, registration_secret=registered.registration_secret)


def test_every_outcome_costs_one_argon2_verification(counted_auth: AuthDb, counting: CountingChecks) -> None:
    known, passwordless, unconfirmed = fresh_email("known"), fresh_email("passwordless"), fresh_email("unconfirmed")
    confirmed(counted_auth, known, password=PASSWORD)
    confirmed(counted_auth, passwordless)
    counted_auth.register_user(unconfirmed, password=PASSWORD)
    outcomes = {
        "right password": (known, PASSWORD, True),
        "wrong password": (known, "wrong", False),
        "unknown address": (fresh_email("unknown"), PASSWORD, False),
        "unconfirmed address": (unconfirmed, PASSWORD, False),
        "passwordless account": (passwordless, PASSWORD, False),
    }
    dummies = set()
    for name, (email, password, signs_in) in outcomes.items():
        counting.calls.clear()
        assert (counted_auth.verify_password(email, password) is not None) == signs_in, name
        assert [kind for kind, _ in counting.calls] == ["argon2"], name
        stored = counting.calls[0][1]
        assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$"), f"{name}: the dummy hash has the configured costs"
        if not name.endswith("password"):
            dummies.add(stored)
    assert len(dummies) == 1, "unknown, unconfirmed and passwordless accounts are all checked against the one dummy hash"


def test_an_unsupported_stored_hash_costs_the_same_then_raises(counted_auth: AuthDb, counting: CountingChecks) -> None:
    email = fresh_email("pbkdf2")
    confirmed(counted_auth, email, password_hash="pbkdf2_sha256$600000$salt$hash")
    counting.calls.clear()
    with pytest.raises(UnsupportedPasswordHashError) as raised:
        counted_auth.verify_password(email, PASSWORD)
    assert "pbkdf2" not in str(raised.value), "the hash is never quoted"
    assert raised.value.code == "AUTHDB_PASSWORD_HASH"
    assert [kind for kind, _ in counting.calls] == ["argon2"]


def test_an_imported_bcrypt_hash_is_checked_at_its_own_cost(counted_auth: AuthDb, counting: CountingChecks) -> None:
    import bcrypt

    email = fresh_email("bcrypt")
    confirmed(counted_auth, email, password_hash=bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode())
    counting.calls.clear()
    assert counted_auth.verify_password(email, PASSWORD) is not None
    assert [kind for kind, _ in counting.calls] == ["bcrypt"]
