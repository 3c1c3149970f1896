"""Encrypted files in an S3-compatible bucket (``STORAGE_BACKEND=s3``).

``EncryptedS3Storage`` is ``EncryptedStorageMixin`` (bpij/storage.py) over
django-storages' ``S3Storage``: the bucket holds only ciphertext, as the local disk does.

django-storages opens an object for reading by downloading all of it into a spooled
temporary file (``AWS_S3_MAX_MEMORY_SIZE`` 0: in memory, however large) before the first
byte is given out. Stored files here are opened through ``ObjectReader`` instead: a
seekable stream over ranged GETs, so a download decrypts and sends the file as it
arrives, holding at most one read window (``ObjectReader.MAX_WINDOW``) of it, and the
checks, key rotation and retention read it the same way.

Every GET of one opening carries ``If-Match`` with the ETag seen when it was opened: an
object replaced meanwhile (a key rotation rewriting its header) is refused rather than
read as half the old object and half the new.
"""

from typing import IO, Any, cast

from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError
from django.core.files.base import File
from storages.backends.s3 import S3Storage, _filter_download_params
from storages.utils import clean_name

from bpij.storage import EncryptedStorageMixin, SeekableReader


def _status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


class ObjectReader(SeekableReader):
    """A stored object as a seekable stream, fetched by ranged GETs as it is read.

    A read outside the window held fetches a new one from there; sequential reads double
    the window, from ``MIN_WINDOW`` up to ``MAX_WINDOW``, so a file read through takes a
    handful of requests and a look at its header takes one small one.
    """

    MIN_WINDOW = 64 * 1024
    MAX_WINDOW = 4 * 1024 * 1024

    def __init__(self, client: Any, bucket: str, key: str, extra: dict[str, Any]):
        super().__init__()
        self._client = client
        self._bucket = bucket
        self._key = key
        self._extra = extra
        try:
            head = client.head_object(Bucket=bucket, Key=key, **extra)
        except ClientError as error:
            if _status(error) == 404:
                raise FileNotFoundError(f"{key} is not in the bucket {bucket}") from None
            raise
        self.size: int = head["ContentLength"]
        self._etag: str = head["ETag"]
        self._position = 0
        self._start = 0
        self._window = b""
        self._next_size = self.MIN_WINDOW

    def _fetch(self, wanted: int) -> None:
        sequential = self._position == self._start + len(self._window) and self._window
        self._next_size = (
            min(self._next_size * 2, self.MAX_WINDOW) if sequential else self.MIN_WINDOW
        )
        length = min(max(wanted, self._next_size), self.MAX_WINDOW, self.size - self._position)
        last = self._position + length - 1
        try:
            response = self._client.get_object(
                Bucket=self._bucket,
                Key=self._key,
                Range=f"bytes={self._position}-{last}",
                IfMatch=self._etag,
                **self._extra,
            )
        except ClientError as error:
            if _status(error) == 404:
                raise FileNotFoundError(f"{self._key} left the bucket while it was read") from None
            if _status(error) == 412:
                raise OSError(
                    f"{self._key} was replaced while it was read (a key rotation rewrites "
                    "files): open it again"
                ) from None
            raise
        with response["Body"] as body:
            window = body.read()
        if len(window) != length:
            raise OSError(
                f"{self._key}: asked for bytes {self._position}-{last}, got {len(window)}"
            )
        self._start, self._window = self._position, window

    def readinto(self, buffer: Any) -> int:
        if self._position >= self.size or not len(buffer):
            return 0
        offset = self._position - self._start
        if not 0 <= offset < len(self._window):
            self._fetch(len(buffer))
            offset = 0
        part = self._window[offset : offset + len(buffer)]
        buffer[: len(part)] = part
        self._position += len(part)
        return len(part)

    def close(self) -> None:
        self._window = b""
        super().close()


class EncryptedS3Storage(EncryptedStorageMixin, S3Storage):
    """Sealed files in a bucket; read back through ranged GETs, never whole.

    A store that does not answer fails the request that needed it within seconds
    (boto3's defaults wait 60 s for a connection and 60 s for each read, five times over,
    while the web worker that waits is killed by gunicorn and the page hangs)."""

    CONNECT_TIMEOUT = 5.0
    READ_TIMEOUT = 20.0
    ATTEMPTS = 3
    # A sealed file is uploaded as a stream: boto3 reads it in 8 MiB parts and holds
    # as many as it sends at once (ten by default: the whole of a 50 MB upload). Two.
    UPLOAD_PARTS_HELD = 2

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        if "transfer_config" not in options:
            transfer = TransferConfig(max_concurrency=self.UPLOAD_PARTS_HELD)
            # s3transfer's own name, which boto3's constructor does not take.
            transfer.max_in_memory_upload_chunks = self.UPLOAD_PARTS_HELD
            self.transfer_config = transfer
        configured: Config = self.client_config  # type: ignore[has-type]
        self.client_config = configured.merge(
            Config(
                connect_timeout=self.CONNECT_TIMEOUT,
                read_timeout=self.READ_TIMEOUT,
                retries={"max_attempts": self.ATTEMPTS, "mode": "standard"},
            )
        )

    def get_object_parameters(self, name: str) -> dict[str, Any]:
        # The bytes are ciphertext whatever the name says: no content type guessed from
        # ".xlsx" or ".pdf", no "Content-Encoding: gzip" from a ".gz".
        return {**super().get_object_parameters(name), "ContentType": "application/octet-stream"}

    def _open_raw(self, name: str) -> File:
        key = self._normalize_name(clean_name(name))
        extra = _filter_download_params(self.get_object_parameters(key))
        reader = ObjectReader(self.connection.meta.client, self.bucket_name, key, extra)
        return File(cast(IO[bytes], reader), name=name)
