"""Participant SSNs: encrypted at rest with a key of their own, compared only by keyed
hash, shown only as the last four digits (ARCHITECTURE.md, Data protection)."""

import base64
import hashlib
import hmac
import logging
from functools import cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

from bpij import keys
from reporting.checks import values

# AES-256-GCM with a random 96-bit nonce per value, under the current key of
# ENCRYPTION_KEYS (bpij.keys), named in the value so keys rotate: authenticated, and fast
# enough to encrypt a 100,000-row file in a fraction of a second (Fernet is ten times
# slower).
_NONCE_BYTES = 12


@cache
def _legacy_cipher(key: str) -> AESGCM:
    # Values sealed before key ids: the 256-bit key was derived from a passphrase.
    return AESGCM(hashlib.sha256(key.encode()).digest())


def digits(ssn: str) -> str:
    return ssn.replace("-", "").strip()


def encrypt_ssn(ssn: str) -> str:
    return keys.seal(keys.SSN, digits(ssn).encode())


def decrypt_ssn(token: str) -> str:
    if keys.is_sealed(token):
        return keys.unseal(keys.SSN, token).decode()
    if not settings.PII_ENCRYPTION_KEY:
        raise keys.UnknownKey("PII_ENCRYPTION_KEY")
    raw = base64.b64decode(token)
    nonce, sealed = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
    return _legacy_cipher(settings.PII_ENCRYPTION_KEY).decrypt(nonce, sealed, None).decode()


def needs_rotation(token: str) -> bool:
    return bool(token) and (
        not keys.is_sealed(token) or keys.sealed_kid(token) != keys.current_kid()
    )


def hash_ssn(ssn: str) -> str:
    return hmac.new(settings.PII_HASH_KEY.encode(), digits(ssn).encode(), "sha256").hexdigest()


def last4(ssn: str) -> str:
    return digits(ssn)[-4:]


def masked(ssn: str) -> str:
    return f"***-**-{last4(ssn)}"


def mask_ssns_in(text: str) -> str:
    """Every SSN-shaped value in ``text`` (9 digits, alone or grouped 3-2-4 by dashes,
    spaces or dots) as ``***-**-`` and its last four digits."""
    return values.mask_ssns_in(text)


class MaskSSNs(logging.Filter):
    """A logging filter: every SSN-shaped value in a log line (its message, arguments and
    traceback) is shown as its last four digits, so that an error quoting a cell cannot
    put a full SSN in the logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if values.has_ssn(message):
            record.msg, record.args = values.mask_ssns_in(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and values.has_ssn(record.exc_text):
            record.exc_text = values.mask_ssns_in(record.exc_text)
        return True
