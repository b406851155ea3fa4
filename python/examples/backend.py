"""An example backend on authdb_client, dependency-free: sign-up → mail → verify → sign-in.

Each handler is what one HTTP endpoint of a web framework would call; the framework
would keep ``registration_secret`` in an HTTP-only cookie. Run it against a migrated
database whose application role was granted (README, "Use from Python"):

    DATABASE_URL="$(npx authdb db url)" python3 python/examples/backend.py

It registers a fresh address, "mails" the link (printed, without the secret), verifies it
with the secret from the cookie, signs in, then shows that a duplicate sign-up gets the
same answer (the owner is mailed instead) and that a bad phone number is the requester's
own mistake.
"""

from __future__ import annotations

import os
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # python/, for authdb_client when run from a checkout

from authdb_client import (  # noqa: E402
    AuthDb,
    AuthDbError,
    EmailAlreadyRegisteredError,
    ResendTooSoonError,
    TooManyOutstandingTokensError,
    connect_per_call,
)

VERIFY_URL = "https://app.example/verify-email?token="


@dataclass(frozen=True)
class Mail:
    to: str
    template: Literal["verify-email", "already-registered"]
    body: str


@dataclass
class MailQueue:
    """A stub of your mail queue: enqueue, never send inside the request (sending time would differ)."""

    sent: list[Mail] = field(default_factory=list)

    def enqueue(self, mail: Mail) -> None:
        self.sent.append(mail)
        print(f"mail to {mail.to} ({mail.template}): {mail.body}")


@dataclass(frozen=True)
class Answer:
    status: int
    message: str
    registration_secret: Optional[str] = field(default=None, repr=False)
    """For the HTTP-only cookie of the browser that signed up; never in the mail."""


SIGN_UP_ACCEPTED = "Check your inbox to finish signing up."


def sign_up(auth: AuthDb, mail: MailQueue, email: str, password: str, phone: Optional[str] = None) -> Answer:
    """One answer whatever the address's state (README, "Not revealing whether an address is registered")."""
    try:
        registered = auth.register_user(email, password=password, phone=phone)
    except (ResendTooSoonError, TooManyOutstandingTokensError):
        return Answer(202, SIGN_UP_ACCEPTED)  # links are in the owner's mailbox already
    except EmailAlreadyRegisteredError:
        mail.enqueue(Mail(email, "already-registered", "Someone tried to sign up with your address; sign in or reset your password."))
        return Answer(202, SIGN_UP_ACCEPTED)
    except AuthDbError as error:
        return Answer(422, error.message)  # the requester's own input (AU005 address, AU006 phone, …)
    # The token goes to the address as stored; the secret stays with this browser.
    mail.enqueue(Mail(registered.email, "verify-email", f"Confirm your address: {VERIFY_URL}{registered.token}"))
    return Answer(202, SIGN_UP_ACCEPTED, registered.registration_secret)


def verify(auth: AuthDb, token: str, registration_secret: Optional[str]) -> Answer:
    """The link's endpoint; ``registration_secret`` from the cookie (absent in another browser)."""
    try:
        preview = auth.preview_email_verification(token, registration_secret=registration_secret)
        if preview.token_valid and not preview.sets_password:
            return Answer(200, "Choose a password to finish.")  # then auth.verify_email(token, password=...)
        auth.verify_email(token, registration_secret=registration_secret)
    except AuthDbError as error:
        return Answer(410, f"This link cannot be used ({error.sqlstate}); sign up again for a new one.")
    return Answer(200, "Address confirmed.")


def sign_in(auth: AuthDb, email: str, password: str) -> Answer:
    signed_in = auth.verify_password(email, password)
    return Answer(401, "Wrong address or password.") if signed_in is None else Answer(200, f"Signed in as {signed_in.user_id} ({signed_in.role}).")


def main() -> int:
    url = os.environ.get("DATABASE_URL")
    if not url:
        print('Set DATABASE_URL first: export DATABASE_URL="$(npx authdb db url)"', file=sys.stderr)
        return 2
    auth = AuthDb(connect_per_call(url), schema=os.environ.get("AUTHDB_SCHEMA", "authdb"))
    mail = MailQueue()
    email, password = f"ada.{uuid.uuid4().hex[:12]}@example.com", "correct horse battery staple"

    answer = sign_up(auth, mail, email, password)
    print(f"sign-up: {answer.status} {answer.message}")
    # The user opens the link in the browser that signed up (the cookie holds the secret).
    link = mail.sent[-1].body.split(": ", 1)[1]
    token = parse_qs(urlsplit(link).query)["token"][0]
    print(f"verify: {verify(auth, token, answer.registration_secret).message}")
    print(f"sign-in: {sign_in(auth, email, password).status}")
    duplicate = sign_up(auth, mail, email, "another password")
    print(f"duplicate sign-up: {duplicate.status} {duplicate.message} (the owner was mailed: {mail.sent[-1].template})")
    bad_phone = sign_up(auth, mail, f"grace.{uuid.uuid4().hex[:12]}@example.com", password, phone="+0123")
    print(f"bad phone: {bad_phone.status} {bad_phone.message}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
