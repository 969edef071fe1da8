"""WeChat's "safe mode" for event pushes (reference/wechat-api.md 2.10).

``msg_signature = sha1(sorted([token, timestamp, nonce, Encrypt]))``; ``Encrypt`` is base64 of
AES-256-CBC(key = base64(EncodingAESKey + "="), iv = key[:16]) over
``random16 || len(msg) as 4-byte big-endian || msg || appid``, PKCS#7-padded to 32-byte blocks.
WeCom uses the same scheme with the corpid in place of the appid.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32


class DecryptError(ValueError):
    """The encrypted body cannot be opened: wrong key, wrong app, or tampered."""


def aes_key(encoding_aes_key: str) -> bytes:
    try:
        key = base64.b64decode(encoding_aes_key + "=")
    except ValueError as exc:
        raise DecryptError("EncodingAESKey is not base64") from exc
    if len(key) != 32:
        raise DecryptError("EncodingAESKey must be 43 characters (a 32-byte key)")
    return key


def msg_signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode("utf-8")).hexdigest()


def msg_signature_ok(token: str, timestamp: str, nonce: str, encrypted: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(
        msg_signature(token, timestamp, nonce, encrypted), given.lower()
    )


def decrypt(encoding_aes_key: str, encrypted: str, receive_id: str) -> bytes:
    key = aes_key(encoding_aes_key)
    try:
        data = base64.b64decode(encrypted)
    except ValueError as exc:
        raise DecryptError("Encrypt is not base64") from exc
    if not data or len(data) % 16:
        raise DecryptError("ciphertext length is not a multiple of the AES block")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(data) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
        raise DecryptError("bad padding: wrong EncodingAESKey?")
    plain = plain[:-pad]
    if len(plain) < 20:
        raise DecryptError("payload too short")
    (length,) = struct.unpack(">I", plain[16:20])
    message, sender = plain[20 : 20 + length], plain[20 + length :]
    if sender.decode("utf-8", "replace") != receive_id:
        raise DecryptError(f"the message is for {sender.decode('utf-8', 'replace')!r}, not {receive_id!r}")
    return message
