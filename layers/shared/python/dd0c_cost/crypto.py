"""Secrets at rest: Slack bot tokens and ticket-target credentials are sealed before they reach
the database, and opened only in memory, just before use.

Two sealers, one blob format:

* ``KmsSealer`` (AWS): envelope encryption. KMS ``GenerateDataKey`` (AES-256) under the key the
  stack creates, bound to an encryption context; the secret is AES-256-GCM-encrypted with the
  data key; the blob keeps the KMS-encrypted data key. Opening asks KMS to decrypt the data key
  (same encryption context, or KMS refuses); decrypted data keys are cached for a few minutes so
  a busy notifier does not call KMS per message.
* ``LocalKeySealer`` (laptop, demo, self-hosters without KMS): AES-256-GCM under a 32-byte key
  file in the data directory, created on first use with mode 0600.

Both bind the ciphertext to its context (tenant id and purpose) as AES-GCM associated data, so a
sealed value copied into another tenant's row, or used for another purpose, does not open.

``Redacted`` holds an opened secret: its ``repr``/``str`` never show the value, so a secret
that ends up in a log line or a traceback shows as ``Redacted('xoxb-…')``.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

BLOB_VERSION = 1
KEY_FILE_NAME = "secrets.key"
DATA_KEY_CACHE_S = 300
DATA_KEY_CACHE_MAX = 256


class SealError(RuntimeError):
    """A sealed value could not be opened (wrong key, wrong context, or damaged)."""


class Redacted:
    """A secret in memory. ``reveal()`` is the only way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def hint(self) -> str:
        """The first characters (e.g. ``xoxb-``): enough to recognise the kind of secret."""
        return self._value[:5]

    def __repr__(self) -> str:
        return f"Redacted({self.hint()!r}…)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Redacted) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


def _aad(context: Mapping[str, str]) -> bytes:
    return json.dumps(dict(sorted(context.items())), separators=(",", ":")).encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode())


def _aesgcm_seal(key: bytes, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    return nonce, AESGCM(key).encrypt(nonce, plaintext, aad)


def _aesgcm_open(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        return AESGCM(key).decrypt(nonce, ciphertext, aad)
    except InvalidTag:
        raise SealError("sealed value does not open with this key and context") from None


class Sealer(Protocol):
    scheme: str

    def seal(self, plaintext: str, *, context: Mapping[str, str]) -> bytes: ...

    def open(self, blob: bytes, *, context: Mapping[str, str]) -> Redacted: ...


def _parse(blob: bytes | memoryview, scheme: str) -> dict:
    try:
        envelope = json.loads(bytes(blob))
    except (ValueError, TypeError):
        raise SealError("sealed value is not a sealed envelope") from None
    if not isinstance(envelope, dict) or envelope.get("v") != BLOB_VERSION:
        raise SealError("sealed value has an unknown version")
    if envelope.get("s") != scheme:
        raise SealError(f"sealed with {envelope.get('s')!r}, but this deployment opens {scheme!r} values")
    return envelope


def _dump(envelope: dict) -> bytes:
    return json.dumps(envelope, separators=(",", ":")).encode()


class LocalKeySealer:
    """AES-256-GCM under a key file (0600) in the data directory."""

    scheme = "local"

    def __init__(self, key_path: Path) -> None:
        self.key_path = key_path
        self._key: bytes | None = None

    def _load_key(self) -> bytes:
        if self._key is None:
            self._key = load_or_create_key_file(self.key_path)
        return self._key

    def seal(self, plaintext: str, *, context: Mapping[str, str]) -> bytes:
        nonce, ciphertext = _aesgcm_seal(self._load_key(), plaintext.encode(), _aad(context))
        return _dump({"v": BLOB_VERSION, "s": self.scheme, "n": _b64(nonce), "c": _b64(ciphertext)})

    def open(self, blob: bytes, *, context: Mapping[str, str]) -> Redacted:
        envelope = _parse(blob, self.scheme)
        plaintext = _aesgcm_open(self._load_key(), _unb64(envelope["n"]), _unb64(envelope["c"]), _aad(context))
        return Redacted(plaintext.decode())


def load_or_create_key_file(path: Path) -> bytes:
    """The 32-byte key at ``path``; created (0600, exclusively) if missing. Refuses a key file
    that others can read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "wb") as fh:
            fh.write(os.urandom(32))
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise SealError(f"{path} is readable by others (mode {mode:o}); chmod 600 it")
    key = path.read_bytes()
    if len(key) != 32:
        # A concurrent creator may not have written it yet: wait briefly once.
        time.sleep(0.05)
        key = path.read_bytes()
    if len(key) != 32:
        raise SealError(f"{path} does not hold a 32-byte key")
    return key


@dataclass
class _CachedKey:
    key: bytes
    until: float


class KmsSealer:
    """Envelope encryption under a KMS key (AWS)."""

    scheme = "kms"

    def __init__(self, key_id: str, *, client=None) -> None:
        self.key_id = key_id
        self._client = client
        self._cache: dict[bytes, _CachedKey] = {}
        self._lock = threading.Lock()

    @property
    def client(self):
        if self._client is None:
            import boto3

            self._client = boto3.client("kms")
        return self._client

    def seal(self, plaintext: str, *, context: Mapping[str, str]) -> bytes:
        response = self.client.generate_data_key(KeyId=self.key_id, KeySpec="AES_256", EncryptionContext=dict(context))
        nonce, ciphertext = _aesgcm_seal(response["Plaintext"], plaintext.encode(), _aad(context))
        return _dump(
            {
                "v": BLOB_VERSION,
                "s": self.scheme,
                "k": _b64(response["CiphertextBlob"]),
                "n": _b64(nonce),
                "c": _b64(ciphertext),
            }
        )

    def _data_key(self, encrypted_key: bytes, context: Mapping[str, str]) -> bytes:
        cache_key = encrypted_key + _aad(context)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(cache_key)
            if cached is not None and cached.until > now:
                return cached.key
        from botocore.exceptions import ClientError

        try:
            response = self.client.decrypt(
                CiphertextBlob=encrypted_key, EncryptionContext=dict(context), KeyId=self.key_id
            )
        except ClientError as exc:
            raise SealError(f"KMS refused to decrypt the data key: {exc.response['Error'].get('Code')}") from None
        key = response["Plaintext"]
        with self._lock:
            if len(self._cache) >= DATA_KEY_CACHE_MAX:
                self._cache.clear()
            self._cache[cache_key] = _CachedKey(key, now + DATA_KEY_CACHE_S)
        return key

    def open(self, blob: bytes, *, context: Mapping[str, str]) -> Redacted:
        envelope = _parse(blob, self.scheme)
        key = self._data_key(_unb64(envelope["k"]), context)
        return Redacted(_aesgcm_open(key, _unb64(envelope["n"]), _unb64(envelope["c"]), _aad(context)).decode())


def secret_context(tenant_id: object, purpose: str) -> dict[str, str]:
    """The encryption context every sealed tenant secret is bound to."""
    return {"tenant_id": str(tenant_id), "purpose": purpose}


@lru_cache(maxsize=4)
def _sealer_for(kms_key_id: str | None, data_dir: str) -> Sealer:
    if kms_key_id:
        return KmsSealer(kms_key_id)
    return LocalKeySealer(Path(data_dir) / KEY_FILE_NAME)


def get_sealer(settings=None) -> Sealer:
    """The deployment's sealer: KMS when ``DD0C_KMS_KEY_ID`` is set, else the local key file."""
    from dd0c_cost.settings import get_settings

    settings = settings or get_settings()
    return _sealer_for(settings.kms_key_id, str(settings.data_dir))


def reset_sealers() -> None:
    _sealer_for.cache_clear()


__all__ = [
    "KmsSealer",
    "LocalKeySealer",
    "Redacted",
    "SealError",
    "Sealer",
    "get_sealer",
    "load_or_create_key_file",
    "reset_sealers",
    "secret_context",
]
