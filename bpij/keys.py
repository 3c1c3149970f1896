"""The encryption keyring: key-encryption keys from the environment, each with an id.

``ENCRYPTION_KEYS`` holds one or more 256-bit keys as ``id:base64,id:base64``; the first
is current and seals everything new, the others only open what they sealed before
(docs/security.md, Keys and rotation). Each use (stored files, the SSN column,
second-factor secrets) gets its own subkey derived with HKDF, so one ciphertext can
never be taken for another kind, and one variable rotates them all.
"""

import base64
import binascii
import hashlib
import os
import re
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

KEY_BYTES = 32
NONCE_BYTES = 12
KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,32}")
# A sealed value is "<key id>:<base64 of nonce and ciphertext>"; the colon is in no
# base64, base32 or hex text, which is how values sealed before key ids are told apart.
SEPARATOR = ":"

# Made-up key for development only: with DEBUG on and ENCRYPTION_KEYS unset, `make run`
# works, and files sealed under it open again after a restart. Never accepted with DEBUG
# off.
DEV_KEY_ID = "dev"
DEV_KEY = hashlib.sha256(b"bpij-dev-only-encryption-key-not-for-production").digest()

FILES = "files"
SSN = "ssn"
MFA = "mfa"


class UnknownKey(Exception):
    def __init__(self, kid: str) -> None:
        super().__init__(
            f"Sealed under key {kid!r}, which is not in ENCRYPTION_KEYS: put the key back, "
            "or run `manage.py rotate_keys` before removing a key."
        )
        self.kid = kid


def keyring_from_env(value: str, *, debug: bool) -> list[tuple[str, bytes]]:
    """Parse ``ENCRYPTION_KEYS`` for the settings; refuse a malformed or short key."""
    value = value.strip()
    if not value:
        if debug:
            return [(DEV_KEY_ID, DEV_KEY)]
        raise ImproperlyConfigured(
            "ENCRYPTION_KEYS must be set when DEBUG is off: id:base64 of 32 random bytes, "
            'e.g. `python -c \'import os,base64;print("k1:"+base64.b64encode(os.urandom(32))'
            ".decode())'` (see docs/security.md)."
        )
    keyring = parse_keyring(value, setting="ENCRYPTION_KEYS")
    if not debug and any(key == DEV_KEY for _, key in keyring):
        raise ImproperlyConfigured("ENCRYPTION_KEYS: the development key is not a secret.")
    return keyring


def parse_keyring(
    value: str, *, setting: str, error: type[Exception] = ImproperlyConfigured
) -> list[tuple[str, bytes]]:
    """``id:base64-of-32-random-bytes``, comma-separated, the first current: the stored
    files' keys (ENCRYPTION_KEYS) and the backups' (BACKUP_ENCRYPTION_KEY). Refuses, with
    ``error`` naming ``setting``, a malformed id, a key of the wrong length or an id
    given twice."""
    keyring: list[tuple[str, bytes]] = []
    for item in value.split(","):
        kid, _, encoded = item.strip().partition(SEPARATOR)
        if not KEY_ID.fullmatch(kid):
            raise error(
                f"{setting}: {kid!r} is not a key id (letters, digits, _ . -, at most 32), "
                "written id:base64."
            )
        try:
            key = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            key = b""
        if len(key) != KEY_BYTES:
            raise error(
                f"{setting}: key {kid!r} must be the base64 of exactly {KEY_BYTES} random bytes."
            )
        if any(kid == seen for seen, _ in keyring):
            raise error(f"{setting}: key id {kid!r} appears twice.")
        keyring.append((kid, key))
    return keyring


@lru_cache(maxsize=64)
def _derive(purpose: str, kid: str, key: bytes) -> AESGCM:
    subkey = HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=f"bpij/{purpose}".encode()
    ).derive(key)
    return AESGCM(subkey)


def current_kid() -> str:
    return settings.ENCRYPTION_KEYS[0][0]


def cipher(purpose: str, kid: str) -> AESGCM:
    for known, key in settings.ENCRYPTION_KEYS:
        if known == kid:
            return _derive(purpose, kid, key)
    raise UnknownKey(kid)


def seal(purpose: str, plaintext: bytes) -> str:
    kid = current_kid()
    nonce = os.urandom(NONCE_BYTES)
    sealed = cipher(purpose, kid).encrypt(nonce, plaintext, kid.encode())
    return f"{kid}{SEPARATOR}{base64.b64encode(nonce + sealed).decode()}"


def is_sealed(token: str) -> bool:
    return SEPARATOR in token


def sealed_kid(token: str) -> str:
    return token.partition(SEPARATOR)[0]


def unseal(purpose: str, token: str) -> bytes:
    kid, _, encoded = token.partition(SEPARATOR)
    raw = base64.b64decode(encoded)
    return cipher(purpose, kid).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], kid.encode())
