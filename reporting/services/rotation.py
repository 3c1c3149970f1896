"""Key rotation: everything sealed under an older key of ENCRYPTION_KEYS is moved to the
current one, so the older key can then leave the environment (docs/security.md).

Each step is idempotent and resumable: what is already under the current key is left
alone, so a run that stops half-way is finished by running it again. Readers hold both
keys during the run and open old and new alike, so nothing waits for it.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from allauth.mfa.models import Authenticator
from django.apps import apps
from django.db import models, transaction

from bpij import keys
from bpij.storage import EncryptedStorageMixin
from reporting import pii
from reporting.models import ParticipantRecord


@dataclass
class FileCounts:
    rewrapped: int = 0
    encrypted: int = 0
    current: int = 0
    plaintext: int = 0
    missing: list[str] = field(default_factory=list)


def stored_files() -> Iterator[tuple[Any, str]]:
    """Every file named by a FileField of any model, once, on an encrypting storage."""
    seen: set[tuple[int, str]] = set()
    for model in apps.get_models():
        for file_field in model._meta.get_fields():
            if not isinstance(file_field, models.FileField):
                continue
            storage: Any = file_field.storage
            if not isinstance(storage, EncryptedStorageMixin):
                continue
            names = (
                model._base_manager.exclude(**{file_field.name: ""})
                .values_list(file_field.name, flat=True)
                .distinct()
                .order_by(file_field.name)
            )
            for name in names.iterator():
                if (id(storage), name) not in seen:
                    seen.add((id(storage), name))
                    yield storage, name


def files_rewrap(*, encrypt_plaintext: bool = False) -> FileCounts:
    """Re-wrap every stored file's data key under the current key (the header only);
    with ``encrypt_plaintext``, seal the files stored before encryption too."""
    counts = FileCounts()
    for storage, name in stored_files():
        if not storage.exists(name):
            # Purged under the retention rule, or lost: nothing to rotate.
            counts.missing.append(name)
        elif storage.key_id(name) is None:
            if encrypt_plaintext and storage.encrypt_in_place(name):
                counts.encrypted += 1
            else:
                counts.plaintext += 1
        elif storage.rewrap(name):
            counts.rewrapped += 1
        else:
            counts.current += 1
    return counts


def ssns_reseal(*, batch_size: int = 2000) -> int:
    """Re-encrypt SSNs not under the current key, a batch per short transaction."""
    resealed = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            batch = list(
                ParticipantRecord.objects.exclude(ssn_encrypted="")
                .filter(pk__gt=last_pk)
                .order_by("pk")
                .only("pk", "ssn_encrypted")
                .select_for_update()[:batch_size]
            )
            if not batch:
                return resealed
            last_pk = batch[-1].pk
            stale = [r for r in batch if pii.needs_rotation(r.ssn_encrypted)]
            for record in stale:
                record.ssn_encrypted = pii.encrypt_ssn(pii.decrypt_ssn(record.ssn_encrypted))
            ParticipantRecord.objects.bulk_update(stale, ["ssn_encrypted"])
            resealed += len(stale)


def _reseal_mfa(text: str) -> str:
    if keys.is_sealed(text) and keys.sealed_kid(text) == keys.current_kid():
        return text
    plain = keys.unseal(keys.MFA, text) if keys.is_sealed(text) else text.encode()
    return keys.seal(keys.MFA, plain)


def mfa_secrets_reseal() -> int:
    """Re-seal TOTP secrets and recovery-code seeds under the current key."""
    resealed = 0
    for pk in Authenticator.objects.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            authenticator = Authenticator.objects.select_for_update().filter(pk=pk).first()
            if authenticator is None:
                continue
            data = dict(authenticator.data)
            for name in ("secret", "seed"):
                if isinstance(data.get(name), str):
                    data[name] = _reseal_mfa(data[name])
            if isinstance(data.get("migrated_codes"), list):
                data["migrated_codes"] = [_reseal_mfa(c) for c in data["migrated_codes"]]
            if data != authenticator.data:
                Authenticator.objects.filter(pk=pk).update(data=data)
                resealed += 1
    return resealed
