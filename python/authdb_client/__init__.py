"""authdb from Python: the SQL API of authdb's migrations on psycopg 3, as the TypeScript client calls it.

>>> from authdb_client import AuthDb, connect_per_call
>>> auth = AuthDb(connect_per_call(os.environ["DATABASE_URL"]))   # schema "authdb"
>>> registered = auth.register_user("ada@example.com", password="correct horse battery staple")
>>> # mail registered.token to registered.email; keep registered.registration_secret in an HTTP-only cookie
>>> auth.verify_email(registered.token, registration_secret=registered.registration_secret)
"""

from .client import DEFAULT_SCHEMA, AuthDb
from .durations import MAX_DURATION
from .errors import (
    ERROR_CLASSES,
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
    raise_authdb_error,
    to_authdb_error,
)
from .input_limits import (
    MAX_DOMAIN_LABEL_LENGTH,
    MAX_EMAIL_LENGTH,
    MAX_PASSWORD_HASH_LENGTH,
    MAX_PASSWORD_LENGTH,
    MAX_PHONE_LENGTH,
    MAX_ROLE_LENGTH,
    MAX_TOKEN_LENGTH,
)
from .password_hashing import DEFAULT_PASSWORD_HASHING, PasswordHashing, hash_password
from .password_verification import MAX_BCRYPT_COST, PasswordChecks, PasswordVerifier, UnsupportedPasswordHashError
from .results import EmailVerificationPreview, IssuedToken, RegisteredUser, SignedIn, TokenState, VerifiedEmail
from .transaction import ConnectionInTransactionError, ConnectionSource, connect_per_call

__all__ = [
    "DEFAULT_PASSWORD_HASHING",
    "DEFAULT_SCHEMA",
    "ERROR_CLASSES",
    "MAX_BCRYPT_COST",
    "MAX_DOMAIN_LABEL_LENGTH",
    "MAX_DURATION",
    "MAX_EMAIL_LENGTH",
    "MAX_PASSWORD_HASH_LENGTH",
    "MAX_PASSWORD_LENGTH",
    "MAX_PHONE_LENGTH",
    "MAX_ROLE_LENGTH",
    "MAX_TOKEN_LENGTH",
    "AuthDb",
    "AuthDbError",
    "ConnectionInTransactionError",
    "ConnectionSource",
    "EmailAlreadyRegisteredError",
    "EmailVerificationPreview",
    "InvalidArgumentError",
    "InvalidEmailError",
    "InvalidPhoneError",
    "IssuedToken",
    "PasswordChecks",
    "PasswordHashing",
    "PasswordVerifier",
    "PhoneAlreadyRegisteredError",
    "RegisteredUser",
    "ResendTooSoonError",
    "RoleNotSelfAssignableError",
    "SignedIn",
    "TokenAlreadyUsedError",
    "TokenExpiredError",
    "TokenState",
    "TooManyOutstandingTokensError",
    "UnknownRoleError",
    "UnknownTokenError",
    "UnsupportedPasswordHashError",
    "UserNotFoundError",
    "VerifiedEmail",
    "connect_per_call",
    "hash_password",
    "raise_authdb_error",
    "to_authdb_error",
]
