"""python/examples/backend.py end to end: as a program, and its handlers one by one."""

from __future__ import annotations

import os
import subprocess
import sys

from support import PYTHON_DIR, database_url, fresh_email, schema

sys.path.insert(0, str(PYTHON_DIR / "examples"))

import backend  # noqa: E402

from authdb_client import AuthDb  # noqa: E402

PASSWORD = "correct horse battery staple"


def test_the_example_runs_end_to_end() -> None:
    result = subprocess.run(
        [sys.executable, str(PYTHON_DIR / "examples" / "backend.py")],
        env={**os.environ, "DATABASE_URL": database_url(), "AUTHDB_SCHEMA": schema()},
        check=True,
        capture_output=True,
        text=True,
    )
    lines = [line for line in result.stdout.splitlines() if not line.startswith("mail to ")]
    assert lines == [
        "sign-up: 202 Check your inbox to finish signing up.",
        "verify: Address confirmed.",
        "sign-in: 200",
        "duplicate sign-up: 202 Check your inbox to finish signing up. (the owner was mailed: already-registered)",
        'bad phone: 422 p_phone: "+0123" is not a valid E.164 phone number',
    ]


def test_the_mail_carries_the_token_never_the_secret(auth: AuthDb) -> None:
    mail = backend.MailQueue()
    email = fresh_email()
    answer = backend.sign_up(auth, mail, email, PASSWORD)
    assert answer.registration_secret is not None
    [sent] = mail.sent
    assert sent.to == email and sent.template == "verify-email"
    assert answer.registration_secret not in sent.body
    assert answer.registration_secret not in repr(answer), "kept out of logs of the answer too"
    token = sent.body.split("token=", 1)[1]
    # Opened in another browser (no cookie): the registration's password is not applied.
    assert backend.verify(auth, token, None).message == "Choose a password to finish."
    assert backend.verify(auth, token, answer.registration_secret).message == "Address confirmed."
    assert backend.sign_in(auth, email, PASSWORD).status == 200


def test_a_duplicate_sign_up_answers_as_a_new_one(auth: AuthDb) -> None:
    mail = backend.MailQueue()
    email = fresh_email()
    first = backend.sign_up(auth, mail, email, PASSWORD)
    backend.verify(auth, mail.sent[0].body.split("token=", 1)[1], first.registration_secret)
    again = backend.sign_up(auth, mail, email, "another password")
    assert (again.status, again.message) == (first.status, first.message)
    assert again.registration_secret is None
    assert mail.sent[-1].template == "already-registered" and "token" not in mail.sent[-1].body
    assert backend.sign_in(auth, email, "another password").status == 401
