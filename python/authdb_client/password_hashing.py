"""Argon2id password hashing with the TypeScript client's parameters (src/client/password-hashing.ts).

@node-rs/argon2 with OWASP's minimum costs: m=19456 KiB, t=2, p=1, a 32-byte hash and a
random 16-byte salt, written as a PHC string (``$argon2id$v=19$m=19456,t=2,p=1$salt$hash``).
Hashes made here verify in the TypeScript client and the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from argon2 import PasswordHasher, Type

HASH_LENGTH: Final = 32
"""Bytes of argon2 output: @node-rs/argon2's default ``outputLen``."""

SALT_LENGTH: Final = 16
"""Bytes of random salt: @node-rs/argon2's."""


@dataclass(frozen=True)
class PasswordHashing:
    """Argon2id cost parameters; the defaults are the TypeScript client's ``DEFAULT_PASSWORD_HASHING``."""

    memory_cost: int = 19_456
    """Memory per hash, in KiB (19 MiB)."""
    time_cost: int = 2
    """Passes over the memory."""
    parallelism: int = 1
    """Lanes computed in parallel."""

    def hasher(self) -> PasswordHasher:
        """An argon2-cffi hasher with these costs, argon2id, a 32-byte hash and a 16-byte salt."""
        return PasswordHasher(
            time_cost=self.time_cost,
            memory_cost=self.memory_cost,
            parallelism=self.parallelism,
            hash_len=HASH_LENGTH,
            salt_len=SALT_LENGTH,
            type=Type.ID,
        )


DEFAULT_PASSWORD_HASHING: Final = PasswordHashing()


def hash_password(password: str, hashing: PasswordHashing = DEFAULT_PASSWORD_HASHING) -> str:
    """The argon2id PHC string of ``password`` with a random salt, as ``hashPassword`` of the TypeScript client makes it."""
    phc: str = hashing.hasher().hash(password)
    return phc
