"""argon2id with the TypeScript client's parameters, verifiable both ways (and imported bcrypt hashes)."""

from __future__ import annotations

import base64

from support import run_node

from authdb_client import DEFAULT_PASSWORD_HASHING, PasswordHashing, PasswordVerifier, hash_password

PASSWORD = "correct horse battery staple ✓"


def phc_parts(phc: str) -> tuple[str, str, bytes, bytes]:
    """(algorithm and version, parameters, salt, hash) of a PHC string."""
    _, algorithm, version, parameters, salt, digest = phc.split("$")

    def decode(text: str) -> bytes:
        return base64.b64decode(text + "=" * (-len(text) % 4))

    return f"{algorithm} {version}", parameters, decode(salt), decode(digest)


def typescript_hash(password: str) -> str:
    return run_node("import { hashPassword } from './dist/index.js'; console.log(await hashPassword(process.argv[1]));", password)


def typescript_verifies(phc: str, password: str) -> bool:
    answer = run_node("import { verify } from '@node-rs/argon2'; console.log(await verify(process.argv[1], process.argv[2]));", phc, password)
    return answer == "true"


def test_the_parameters_are_the_typescript_clients() -> None:
    ours, theirs = phc_parts(hash_password(PASSWORD)), phc_parts(typescript_hash(PASSWORD))
    assert ours[0] == theirs[0] == "argon2id v=19"
    assert ours[1] == theirs[1] == "m=19456,t=2,p=1"
    assert len(ours[2]) == len(theirs[2]) == 16
    assert len(ours[3]) == len(theirs[3]) == 32
    assert DEFAULT_PASSWORD_HASHING == PasswordHashing(memory_cost=19_456, time_cost=2, parallelism=1)


def test_a_typescript_hash_verifies_in_python() -> None:
    phc = typescript_hash(PASSWORD)
    verifier = PasswordVerifier(DEFAULT_PASSWORD_HASHING)
    assert verifier.matches(phc, PASSWORD)
    assert not verifier.matches(phc, PASSWORD + " ")


def test_a_python_hash_verifies_in_typescript() -> None:
    phc = hash_password(PASSWORD)
    assert typescript_verifies(phc, PASSWORD)
    assert not typescript_verifies(phc, PASSWORD + " ")


def test_other_costs_are_written_into_the_hash() -> None:
    phc = hash_password(PASSWORD, PasswordHashing(memory_cost=8192, time_cost=3, parallelism=2))
    assert phc_parts(phc)[1] == "m=8192,t=3,p=2"
    assert typescript_verifies(phc, PASSWORD)


def test_an_imported_bcrypt_hash_verifies_as_in_typescript() -> None:
    phc = run_node("import { hash } from '@node-rs/bcrypt'; console.log(await hash(process.argv[1], 4));", PASSWORD)
    verifier = PasswordVerifier(DEFAULT_PASSWORD_HASHING)
    assert verifier.matches(phc, PASSWORD)
    assert verifier.matches(phc.replace("$2b$", "$2y$", 1), PASSWORD)
    assert not verifier.matches(phc, "wrong")
