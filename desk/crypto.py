"""Encryption of network credentials at rest, keyed from the app's SECRET_KEY."""
from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


def _fernet(secret_key: str | None = None) -> Fernet:
    secret = secret_key or current_app.config["SECRET_KEY"]
    # A dedicated derivation so the session-signing key is never used directly.
    digest = hashlib.sha256(b"desk-credentials:" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_json(data: dict, secret_key: str | None = None) -> str:
    return _fernet(secret_key).encrypt(json.dumps(data, ensure_ascii=False).encode()).decode()


def decrypt_json(token: str | None, secret_key: str | None = None) -> dict:
    if not token:
        return {}
    try:
        return json.loads(_fernet(secret_key).decrypt(token.encode()))
    except InvalidToken as exc:  # the SECRET_KEY changed since the tokens were stored
        raise ValueError("credentials cannot be decrypted with the current SECRET_KEY") from exc
