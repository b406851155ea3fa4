"""authdb's input bounds, in characters (code points, what ``len`` and PostgreSQL's ``char_length`` count).

The same as src/client/input-limits.ts and the SQL functions' (README, "Input limits").
The client refuses a longer value before any hashing or round trip, with the class
the database would raise. Use them for your forms' ``maxlength`` too.
"""

from typing import Final

MAX_EMAIL_LENGTH: Final = 1024
"""An e-mail address as given, before trimming or normalisation. Longer: InvalidEmailError (AU005)."""

MAX_DOMAIN_LABEL_LENGTH: Final = 63
"""Each label of an address's domain, as given (cut where canonical_email cuts it). Longer: InvalidEmailError (AU005)."""

MAX_PASSWORD_HASH_LENGTH: Final = 1024
"""A password hash (``password_hash``). Longer: InvalidArgumentError (AU009)."""

MAX_PASSWORD_LENGTH: Final = 1024
"""A plaintext ``password``, checked before it is hashed. Longer: InvalidArgumentError (AU009)."""

MAX_PHONE_LENGTH: Final = 64
"""A phone number as typed, separators included. Longer: InvalidPhoneError (AU006)."""

MAX_ROLE_LENGTH: Final = 63
"""A role name. Longer: UnknownRoleError (AU003)."""

MAX_TOKEN_LENGTH: Final = 64
"""A verification token or registration secret (authdb issues 43). Longer: InvalidArgumentError (AU009)."""
