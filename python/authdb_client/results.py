"""What the client's methods return: the TypeScript client's result objects, as frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from uuid import UUID

TokenState = Literal["valid", "unknown", "expired", "used", "revoked"]


@dataclass(frozen=True)
class RegisteredUser:
    """``register_user``'s answer. Mail ``token`` to ``email`` (the address as stored); keep
    ``registration_secret`` with the client that registered (an HTTP-only cookie), never in the mail."""

    user_id: UUID
    token: str = field(repr=False)
    expires_at: datetime
    outcome: Literal["created", "reissued"]
    registration_secret: str = field(repr=False)
    email: str


@dataclass(frozen=True)
class IssuedToken:
    """``resend_email_verification``'s answer: mail ``token`` to ``email``."""

    user_id: UUID
    token: str = field(repr=False)
    expires_at: datetime
    email: str


@dataclass(frozen=True)
class VerifiedEmail:
    """``verify_email``'s answer: the user whose address is now confirmed."""

    user_id: UUID


@dataclass(frozen=True)
class EmailVerificationPreview:
    """What ``verify_email`` would do with a token (and secret); when ``sets_password`` is false, ask for a password."""

    user_id: UUID | None
    token_state: TokenState
    token_valid: bool
    registration_secret_matches: bool
    sets_password: bool
    sets_phone: bool
    role: str | None
    expires_at: datetime | None


@dataclass(frozen=True)
class SignedIn:
    """``verify_password``'s answer for a confirmed account whose password matches."""

    user_id: UUID
    role: str
