"""API key format, generation and hashing (pure functions, no database).

A key is ``psk_live_`` followed by 43 URL-safe characters (``secrets.token_urlsafe(32)``: 256 random
bits). Only its SHA-256 is stored. A fast hash is right here, unlike for passwords: slow hashes
(PBKDF2, bcrypt, Argon2) exist to slow down guessing of low-entropy secrets, and nobody can guess
among 2**256 keys however fast the hash is. A fast, unsalted, deterministic hash is also what lets
authentication find the key with one indexed equality lookup.
"""

import hashlib
import re
import secrets

KEY_PREFIX = "psk_live_"
# How many leading characters are stored in clear to identify a key in the admin and in logs
# (the fixed "psk_live_" plus 3 random characters; the other 40 random characters stay secret).
DISPLAY_PREFIX_LENGTH = 16  # "psk_live_" + 7 random characters
KEY_RANDOM_BYTES = 32
_KEY_RE = re.compile(r"psk_live_[A-Za-z0-9_-]{43}")


def generate_raw_key() -> str:
    """Return a new random API key."""
    return KEY_PREFIX + secrets.token_urlsafe(KEY_RANDOM_BYTES)


def hash_key(raw_key: str) -> str:
    """Return the hex SHA-256 of a key, as stored in ``ApiKey.key_hash``."""
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()


def display_prefix(raw_key: str) -> str:
    """Return the part of a key that may be shown and logged."""
    return raw_key[:DISPLAY_PREFIX_LENGTH]


def is_well_formed(raw_key: str) -> bool:
    """Whether a string has the shape of a key (checked before any database lookup)."""
    return _KEY_RE.fullmatch(raw_key) is not None


def generate_notification_secret() -> str:
    """Return a new secret for HMAC-signing a client application's callbacks (32 random bytes)."""
    return secrets.token_urlsafe(32)


def generate_endpoint_secret() -> str:
    """A new signing secret for a webhook endpoint: ``whsec_`` + 32 random bytes, URL-safe."""
    return "whsec_" + secrets.token_urlsafe(32)
