"""Keys for personal data: keyed hashes for joining, deterministic encryption for the one download.

One ``pii.key`` secret feeds two derived keys (HKDF, separate labels), so the published HMACs and
the ciphertexts never share key material:

* ``hash``: HMAC-SHA256 with the secret itself, as ``PRODUCT.md`` fixes for ``oneid_map``;
* ``encrypt``/``decrypt``: AES-SIV, deterministic on purpose, so re-ingesting the same file writes
  the same bytes and a rerun stays a no-op. Equal plaintexts give equal ciphertexts, which reveals
  no more than the HMAC already does.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from functools import cached_property

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sources.identifiers import keyed_hash, keyed_hashes


class PiiVault:
    def __init__(self, key: bytes):
        if not key:
            raise ValueError("pii.key is empty")
        self._key = key

    @cached_property
    def _cipher(self) -> AESSIV:
        derived = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=b"aftercare/pii/aes-siv").derive(
            self._key
        )
        return AESSIV(derived)

    def hash(self, normalized: str) -> str:
        return keyed_hash(normalized, self._key)

    def hash_many(self, normalized: Iterable[str]) -> list[str]:
        """``hash`` of each value (same strings), for whole columns of distinct values."""
        return keyed_hashes(normalized, self._key)

    def encrypt_many(self, plaintexts: Iterable[str]) -> list[str]:
        """``encrypt`` of each value (same tokens), without the per-call attribute lookups."""
        encrypt, encode = self._cipher.encrypt, base64.urlsafe_b64encode
        return [encode(encrypt(text.encode("utf-8"), None)).decode("ascii") for text in plaintexts]

    def encrypt(self, plaintext: str) -> str:
        return base64.urlsafe_b64encode(self._cipher.encrypt(plaintext.encode("utf-8"), None)).decode("ascii")

    def decrypt(self, token: str) -> str:
        return self._cipher.decrypt(base64.urlsafe_b64decode(token.encode("ascii")), None).decode("utf-8")
