"""register → verify → sign in, and the semantics of the registration secret, resend and purge."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from uuid import UUID

from support import fresh_email, fresh_phone

from authdb_client import AuthDb
from authdb_client.durations import interval_text

PASSWORD = "correct horse battery staple"


def test_register_verify_sign_in(auth: AuthDb) -> None:
    typed = fresh_email("Ada").replace("@example.com", "@Example.COM")
    before = datetime.now(timezone.utc)
    registered = auth.register_user(f"  {typed} ", password=PASSWORD, phone=fresh_phone())
    assert registered.outcome == "created"
    assert registered.email == typed.strip().lower(), "the address as stored: mail the token there"
    assert isinstance(registered.user_id, UUID)
    assert len(registered.token) == len(registered.registration_secret) == 43
    assert registered.expires_at - before > timedelta(hours=23)
    assert auth.verify_password(typed, PASSWORD) is None, "unconfirmed: no sign-in"
    preview = auth.preview_email_verification(registered.token, registration_secret=registered.registration_secret)
    assert (preview.token_state, preview.registration_secret_matches, preview.sets_password, preview.sets_phone) == ("valid", True, True, True)
    verified = auth.verify_email(registered.token, registration_secret=registered.registration_secret)
    assert verified.user_id == registered.user_id
    signed_in = auth.verify_password(typed.upper(), PASSWORD)
    assert signed_in is not None and (signed_in.user_id, signed_in.role) == (registered.user_id, "user")
    assert auth.verify_password(typed, PASSWORD + "!") is None


def test_without_the_secret_the_registrations_password_never_applies(auth: AuthDb) -> None:
    email = fresh_email()
    registered = auth.register_user(email, password="the squatter's password")
    preview = auth.preview_email_verification(registered.token)
    assert (preview.token_valid, preview.registration_secret_matches, preview.sets_password) == (True, False, False)
    auth.verify_email(registered.token, password="the owner's password")
    assert auth.verify_password(email, "the squatter's password") is None
    assert auth.verify_password(email, "the owner's password") is not None


def test_reregistration_and_resend(auth: AuthDb) -> None:
    email = fresh_email()
    first = auth.register_user(email, password=PASSWORD, min_resend_interval=timedelta(0))
    second = auth.register_user(email, password="other", min_resend_interval=timedelta(0))
    assert (second.outcome, second.user_id) == ("reissued", first.user_id)
    resent = auth.resend_email_verification(email, registration_secret=first.registration_secret, min_resend_interval=timedelta(0))
    assert (resent.user_id, resent.email) == (first.user_id, email)
    assert auth.preview_email_verification(first.token).token_state == "revoked", "a resend with its secret replaces that registration's link"
    assert auth.preview_email_verification(second.token).token_state == "valid", "other registrations keep theirs"
    auth.verify_email(resent.token, registration_secret=first.registration_secret)
    assert auth.verify_password(email, PASSWORD) is not None


def test_unknown_token_preview_and_purge(auth: AuthDb) -> None:
    preview = auth.preview_email_verification("x" * 43)
    assert (preview.user_id, preview.token_state, preview.expires_at) == (None, "unknown", None)
    assert auth.purge_expired_tokens(timedelta(days=7)) >= 0
    assert auth.purge_expired_tokens() >= 0


def test_durations_are_exact_and_long_ones_fit_postgresql_14(auth: AuthDb) -> None:
    registered = auth.register_user(fresh_email(), token_ttl=timedelta(days=36524, seconds=1, microseconds=5000))
    preview = auth.preview_email_verification(registered.token)
    assert preview.expires_at == registered.expires_at
    assert registered.expires_at - datetime.now(timezone.utc) > timedelta(days=36523)
    assert interval_text(timedelta(days=1, microseconds=1), "x") == "24 hours 0 seconds 1 microseconds"
    assert interval_text(timedelta(0), "x", allow_zero=True) == "0 hours 0 seconds 0 microseconds"


def test_repr_leaves_the_secrets_out(auth: AuthDb) -> None:
    registered = auth.register_user(fresh_email())
    resent = auth.resend_email_verification(registered.email, min_resend_interval=timedelta(0))
    for secret in (registered.token, registered.registration_secret):
        assert secret not in repr(registered)
    assert resent.token not in repr(resent)
