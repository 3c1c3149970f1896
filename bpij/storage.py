"""Stored files encrypted at rest: AES-256-GCM envelope encryption, streamed.

Every file gets a random 256-bit data key, which is stored in the file's header wrapped
(AES-GCM) under the current key-encryption key of ``ENCRYPTION_KEYS`` and named by its
key id. The body is a sequence of 64 KiB chunks, each sealed on its own with a nonce that
carries the chunk's number and whether it is the last one (the STREAM construction of
Hoang, Reyhanitabar, Rogaway and Vizár), so a file is decrypted as it is read, and a
chunk moved, dropped, or cut off the end fails to open. The last chunk is always shorter
than a full one (empty if need be), which lets a reader find it from the size alone.

    header:  "BPIJENC1" | key id length (1) | key id | file id (16)
             | wrap nonce (12) | wrapped data key (48) | nonce prefix (7)
    body:    chunk 0 | chunk 1 | ... | last chunk        (each ciphertext + 16-byte tag)

Rotating keys rewrites only the header (``rewrap``); files stored before encryption
(no header) are read as they are until ``encrypt_in_place`` seals them.

``EncryptedStorageMixin`` sits over any Django storage that can open a stored file for
reading with seek; ``EncryptedFileSystemStorage`` is it over the local disk and
``bpij.storage_s3.EncryptedS3Storage`` over an S3-compatible bucket. Which one is the
default storage comes from the environment (``default_storage_from_env``).
"""

import io
import os
import struct
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import File
from django.core.files.storage import FileSystemStorage

from bpij import keys

MAGIC = b"BPIJENC1"
CHUNK = 64 * 1024
TAG = 16
SEALED_CHUNK = CHUNK + TAG
_FILE_ID = 16
_PREFIX = 7
_WRAPPED = keys.KEY_BYTES + TAG
_COPY_BLOCK = 1024 * 1024


class EncryptedFileError(Exception):
    """A stored file that does not open: tampered with, cut short, or not ours."""


@dataclass(frozen=True)
class Header:
    kid: str
    file_id: bytes
    wrap_nonce: bytes
    wrapped_key: bytes
    nonce_prefix: bytes

    def pack(self) -> bytes:
        kid = self.kid.encode()
        return b"".join(
            [
                MAGIC,
                bytes([len(kid)]),
                kid,
                self.file_id,
                self.wrap_nonce,
                self.wrapped_key,
                self.nonce_prefix,
            ]
        )

    def _wrap_aad(self) -> bytes:
        return MAGIC + self.kid.encode() + self.file_id + self.nonce_prefix

    def data_key(self) -> AESGCM:
        try:
            key = keys.cipher(keys.FILES, self.kid).decrypt(
                self.wrap_nonce, self.wrapped_key, self._wrap_aad()
            )
        except InvalidTag:
            raise EncryptedFileError("the file's data key does not unwrap") from None
        return AESGCM(key)

    @classmethod
    def new(cls, data_key: bytes) -> "Header":
        return cls.sealing(data_key, file_id=os.urandom(_FILE_ID), nonce_prefix=os.urandom(_PREFIX))

    @classmethod
    def sealing(cls, data_key: bytes, *, file_id: bytes, nonce_prefix: bytes) -> "Header":
        kid = keys.current_kid()
        draft = cls(kid, file_id, os.urandom(keys.NONCE_BYTES), b"", nonce_prefix)
        wrapped = keys.cipher(keys.FILES, kid).encrypt(
            draft.wrap_nonce, data_key, draft._wrap_aad()
        )
        return cls(kid, file_id, draft.wrap_nonce, wrapped, nonce_prefix)

    def rewrapped(self) -> "Header":
        """The same file under the current key-encryption key."""
        key = keys.cipher(keys.FILES, self.kid).decrypt(
            self.wrap_nonce, self.wrapped_key, self._wrap_aad()
        )
        return Header.sealing(key, file_id=self.file_id, nonce_prefix=self.nonce_prefix)

    def chunk_nonce(self, index: int, last: bool) -> bytes:
        return self.nonce_prefix + struct.pack(">I?", index, last)


def read_exactly(stream: IO[bytes], size: int) -> bytes:
    """``size`` bytes from ``stream``, fewer only at its end (a read may return less)."""
    parts = []
    while size:
        part = stream.read(size)
        if not part:
            break
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def read_header(raw: IO[bytes]) -> Header | None:
    """The header of a stored file, or None for a file stored before encryption (the
    stream is then back at its start)."""
    if read_exactly(raw, len(MAGIC)) != MAGIC:
        raw.seek(0)
        return None
    kid_length = read_exactly(raw, 1)
    kid = read_exactly(raw, kid_length[0] if kid_length else 0)
    rest = read_exactly(raw, _FILE_ID + keys.NONCE_BYTES + _WRAPPED + _PREFIX)
    if not kid_length or len(rest) != _FILE_ID + keys.NONCE_BYTES + _WRAPPED + _PREFIX:
        raise EncryptedFileError("the header is cut short")
    file_id, rest = rest[:_FILE_ID], rest[_FILE_ID:]
    wrap_nonce, rest = rest[: keys.NONCE_BYTES], rest[keys.NONCE_BYTES :]
    return Header(kid.decode(), file_id, wrap_nonce, rest[:_WRAPPED], rest[_WRAPPED:])


def _plaintext_layout(body_size: int) -> tuple[int, int]:
    """(index of the last chunk, plaintext bytes in it) for a body of this many bytes."""
    last = body_size // SEALED_CHUNK
    tail = body_size - last * SEALED_CHUNK - TAG
    if tail < 0:
        raise EncryptedFileError("the file is cut short (its last chunk is missing)")
    return last, tail


class EncryptingStream(io.RawIOBase):
    """Reads a plaintext stream and gives out the sealed file, chunk by chunk."""

    def __init__(self, source: IO[bytes]) -> None:
        super().__init__()
        if getattr(source, "seekable", lambda: False)():
            source.seek(0)
        self._source = source
        data_key = AESGCM.generate_key(bit_length=256)
        self._header = Header.new(data_key)
        self._cipher = AESGCM(data_key)
        self._pending = self._header.pack()
        self._index = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending and not self._done:
            plain = read_exactly(self._source, CHUNK)
            last = len(plain) < CHUNK
            self._pending = self._cipher.encrypt(
                self._header.chunk_nonce(self._index, last), plain, self._header.file_id
            )
            self._index += 1
            self._done = last
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


class SeekableReader(io.RawIOBase):
    """A read-only stream of known ``size`` that keeps its own ``_position``: seeking is
    bookkeeping, reading is the subclass's."""

    size: int
    _position: int

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._position = base + offset
        return self._position


class DecryptingStream(SeekableReader):
    """The plaintext of a sealed file, decrypted one chunk at a time as it is read.

    The last chunk is opened when the stream is, so a file cut short fails before the
    first byte is served; every other chunk is authenticated as it is reached.
    """

    def __init__(self, raw: IO[bytes], header: Header, body_start: int, body_size: int):
        super().__init__()
        self._raw = raw
        self._header = header
        self._cipher = header.data_key()
        self._body_start = body_start
        self._last, tail = _plaintext_layout(body_size)
        self.size = self._last * CHUNK + tail
        self._position = 0
        self._cached: tuple[int, bytes] = (-1, b"")
        self._chunk(self._last)

    def _chunk(self, index: int) -> bytes:
        if self._cached[0] == index:
            return self._cached[1]
        last = index == self._last
        self._raw.seek(self._body_start + index * SEALED_CHUNK)
        expected = (self.size - index * CHUNK + TAG) if last else SEALED_CHUNK
        sealed = read_exactly(self._raw, expected)
        try:
            if len(sealed) != expected:
                raise InvalidTag
            plain = self._cipher.decrypt(
                self._header.chunk_nonce(index, last), sealed, self._header.file_id
            )
        except InvalidTag:
            raise EncryptedFileError(
                f"chunk {index} does not authenticate: the file was altered or cut short"
            ) from None
        self._cached = (index, plain)
        return plain

    def readinto(self, buffer: Any) -> int:
        if self._position >= self.size:
            return 0
        index, offset = divmod(self._position, CHUNK)
        plain = self._chunk(index)[offset : offset + len(buffer)]
        buffer[: len(plain)] = plain
        self._position += len(plain)
        return len(plain)

    def read(self, size: int | None = -1) -> bytes:
        # Whole reads across chunks, like a buffered file: callers such as zipfile
        # take a short read for the end of the file.
        if size is None or size < 0:
            return self.readall()
        parts = []
        while size > 0 and self._position < self.size:
            index, offset = divmod(self._position, CHUNK)
            part = self._chunk(index)[offset : offset + size]
            parts.append(part)
            self._position += len(part)
            size -= len(part)
        return b"".join(parts)

    def readall(self) -> bytes:
        parts = []
        while self._position < self.size:
            index, offset = divmod(self._position, CHUNK)
            part = self._chunk(index)[offset:]
            parts.append(part)
            self._position += len(part)
        return b"".join(parts)

    def close(self) -> None:
        self._raw.close()
        super().close()


class StoredFile(File):
    """What ``storage.open(name)`` gives: reads give the plaintext, and reopening goes
    through the storage again (File.open would reopen the path on disk, the ciphertext)."""

    def __init__(self, stream: Any, name: str, size: int, storage: Any):
        super().__init__(stream, name)
        self.size = size
        self.mode = "rb"
        self._storage = storage

    def open(self, mode: str | None = None, *args: Any, **kwargs: Any) -> "StoredFile":
        if not self.closed:
            self.seek(0)
        else:
            self.file = self._storage.open(self.name, mode or "rb").file
        return self


class BlockStream(io.RawIOBase):
    """A readable stream over an iterator of byte blocks (what ``_replace`` writes)."""

    def __init__(self, blocks: Iterator[bytes]) -> None:
        super().__init__()
        self._blocks = blocks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            self._pending = next(self._blocks, b"")
            if not self._pending:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def _full_reads(raw: io.RawIOBase) -> io.BufferedReader:
    """``raw`` with reads that return as many bytes as asked until the end (a raw stream
    may return less; an S3 upload takes a short first read for the whole file's size)."""
    return io.BufferedReader(raw, buffer_size=SEALED_CHUNK)


class EncryptedStorageMixin:
    """Put in front of a storage class: files are sealed as they are saved and opened
    decrypted; the underlying storage only ever holds ciphertext.

    Stored files have no URL: every download goes through the hub's permission-checked
    views, which stream the plaintext (``url`` refuses)."""

    def _save(self, name: str, content: Any) -> str:
        sealed = File(_full_reads(EncryptingStream(content)), name=name)
        return super()._save(name, sealed)  # type: ignore[misc]

    def _open_raw(self, name: str) -> File:
        """The stored bytes (ciphertext), seekable. Storages whose own ``_open`` would
        fetch a file whole (an object store) override this with a ranged reader."""
        return super()._open(name, "rb")  # type: ignore[misc]

    def _open(self, name: str, mode: str = "rb") -> File:
        if mode.replace("b", "") != "r":
            raise ValueError("Encrypted storage opens files for reading only; use save().")
        raw = self._open_raw(name)
        try:
            header = read_header(raw)
            if header is None:
                # Stored before encryption at rest, until `rotate_keys --encrypt-plaintext`.
                return StoredFile(raw.file, name, raw.size, self)
            body_start = raw.tell()
            total = raw.seek(0, io.SEEK_END)
            stream = DecryptingStream(raw, header, body_start, total - body_start)
        except BaseException:
            raw.close()
            raise
        return StoredFile(stream, name, stream.size, self)

    def url(self, name: str | None) -> str:
        raise NotImplementedError(
            "Stored files are encrypted and have no URL: serve them through a view that "
            "checks who may have them and streams `file.open('rb')` (FileResponse)."
        )

    def size(self, name: str) -> int:
        with self._open_raw(name) as raw:
            header = read_header(raw)
            total = raw.seek(0, io.SEEK_END)
            if header is None:
                return total
            last, tail = _plaintext_layout(total - len(header.pack()))
            return last * CHUNK + tail

    def key_id(self, name: str) -> str | None:
        """The id of the key the file's data key is wrapped under (None: plaintext)."""
        with self._open_raw(name) as raw:
            header = read_header(raw)
        return header.kid if header else None

    def rewrap(self, name: str) -> bool:
        """Wrap the file's data key under the current key; the body is copied as it is.
        Returns whether the file changed (False: already under the current key)."""
        raw = self._open_raw(name)
        with raw:
            header = read_header(raw)
            if header is None or header.kid == keys.current_kid():
                return False
            try:
                fresh = header.rewrapped()
            except InvalidTag:
                raise EncryptedFileError(f"{name}: the data key does not unwrap") from None
            self._replace(name, [fresh.pack()], raw)
        return True

    def encrypt_in_place(self, name: str) -> bool:
        """Seal a file stored before encryption. Returns whether it was plaintext."""
        raw = self._open_raw(name)
        with raw:
            if read_header(raw) is not None:
                return False
            self._replace(name, [], _full_reads(EncryptingStream(raw)))
        return True

    def _replace(self, name: str, head: Iterable[bytes], rest: Any) -> None:
        def blocks() -> Iterator[bytes]:
            yield from head
            yield from iter(lambda: rest.read(_COPY_BLOCK), b"")

        try:
            path = self.path(name)  # type: ignore[attr-defined]
        except NotImplementedError:
            # An object store replaces an object whole, when the upload completes (after
            # the last byte of the old one was read): saving over the name is atomic
            # there, and a reader holding the old one is refused rather than given a mix
            # (bpij.storage_s3). Streamed: nothing is spooled to local disk.
            if not self.exists(name):  # type: ignore[attr-defined]
                return  # purged meanwhile: do not bring it back
            stream = _full_reads(BlockStream(blocks()))
            super()._save(name, File(stream, name=name))  # type: ignore[misc]
            return
        # On disk, the new file is written beside the old one and renamed over it, so a
        # reader sees the old file or the new one, never half of each.
        temporary = f"{path}.{uuid.uuid4().hex}.tmp"
        try:
            with open(temporary, "xb") as out:
                for block in blocks():
                    out.write(block)
                out.flush()
                os.fsync(out.fileno())
            mode = getattr(self, "file_permissions_mode", None)
            if mode is not None:
                os.chmod(temporary, mode)
            if os.path.exists(path):  # purged meanwhile: do not bring it back
                os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.remove(temporary)


class EncryptedFileSystemStorage(EncryptedStorageMixin, FileSystemStorage):
    pass


# --- which storage: from the environment (bpij/settings.py, docs/operations.md) ---

BACKENDS = {
    "filesystem": "bpij.storage.EncryptedFileSystemStorage",
    "s3": "bpij.storage_s3.EncryptedS3Storage",
}
# Canned ACLs that keep an object to the bucket's owner; "none" sends no ACL at all (what a
# bucket with ACLs disabled, AWS's default since 2023, requires).
PRIVATE_ACLS = {"private", "bucket-owner-full-control", "none"}


def default_storage_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """``STORAGES["default"]`` from the environment: ``STORAGE_BACKEND`` is ``filesystem``
    (the default: encrypted files under MEDIA_ROOT) or ``s3`` (an S3-compatible bucket,
    django-storages' variable names). Anything else, or an incomplete S3 set-up, stops the
    process at start with what is wrong and what would be right."""

    def get(variable: str) -> str:
        return env.get(variable, "").strip()

    backend = get("STORAGE_BACKEND").lower() or "filesystem"
    if backend not in BACKENDS:
        raise ImproperlyConfigured(
            f"STORAGE_BACKEND={get('STORAGE_BACKEND')!r} is not a storage backend: use "
            "'filesystem' (encrypted files on the local disk under MEDIA_ROOT, the default) "
            "or 's3' (an S3-compatible bucket named by AWS_STORAGE_BUCKET_NAME)."
        )
    if backend == "filesystem":
        return {"BACKEND": BACKENDS[backend]}
    bucket = get("AWS_STORAGE_BUCKET_NAME")
    if not bucket:
        raise ImproperlyConfigured(
            "STORAGE_BACKEND=s3 needs AWS_STORAGE_BUCKET_NAME, the bucket the hub's files "
            "are stored in (with AWS_S3_ENDPOINT_URL for a store other than AWS, and "
            "AWS_S3_REGION_NAME); see docs/operations.md, Storage."
        )
    access_key, secret_key = get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY")
    if bool(access_key) != bool(secret_key):
        raise ImproperlyConfigured(
            "Set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither (then boto3 "
            "finds credentials itself: an instance or task role, AWS_PROFILE)."
        )
    acl = get("AWS_DEFAULT_ACL").lower() or "private"
    if acl not in PRIVATE_ACLS:
        raise ImproperlyConfigured(
            f"AWS_DEFAULT_ACL={acl!r} would let others than the hub read stored files: use "
            "'private' (the default), 'bucket-owner-full-control', or 'none' for a bucket "
            "with ACLs disabled. Downloads go through the hub, never to the bucket."
        )
    options: dict[str, Any] = {
        "bucket_name": bucket,
        "default_acl": None if acl == "none" else acl,
        # Never a URL to an object (EncryptedStorageMixin.url refuses); no public reads.
        "querystring_auth": True,
        # Same name twice: a new name, as on disk, never an object overwritten by save().
        "file_overwrite": False,
    }
    for variable, option in (
        ("AWS_S3_ENDPOINT_URL", "endpoint_url"),
        ("AWS_S3_REGION_NAME", "region_name"),
        ("AWS_LOCATION", "location"),
        ("AWS_S3_ADDRESSING_STYLE", "addressing_style"),
    ):
        if get(variable):
            options[option] = get(variable)
    if access_key:
        options["access_key"], options["secret_key"] = access_key, secret_key
    return {"BACKEND": BACKENDS[backend], "OPTIONS": options}
