"""Quarantine: raw mail that could not be processed, kept encrypted until retried or purged.

Raw mail may hold the very secrets the pipeline exists to remove, so a quarantined message is
stored only encrypted: AES-256-GCM under a key derived from the server's ``secret_key`` with
HKDF-SHA256 (its own ``info`` label, so the key is used for nothing else). Each item is two
files in a 0700 directory, both mode 0600:

    <id>.bin   b"PDQ1" + 12-byte nonce + ciphertext (the item id is bound in as associated data)
    <id>.json  metadata, plain text but free of content: ids, times, the operator-readable
               reason, source, envelope addresses, attempts, size and the key's fingerprint;
               for held mail also the hold (its scope, the address or domain it counts
               against, when it is released) and the sender's address

No subject, body or header value is ever written in clear. A wrong ``secret_key`` is detected
from the fingerprint before decrypting and reported as ``QuarantineKeyError``; items stored
under a key that a rotation replaced are read with it while it is listed in ``previous_keys``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ingest.errors import QuarantineError, QuarantineItemNotFound, QuarantineKeyError
from ingest.model import Hold
from ingest.spool.queue import ensure_private_dir, write_file_durably
from store.clock import utcnow
from store.durable import fsync_directory

_MAGIC = b"PDQ1"
_NONCE_BYTES = 12
_KEY_INFO = b"postdesk quarantine encryption v1"
_KEY_ID_INFO = b"postdesk quarantine key id v1"
_ID_PATTERN = re.compile(r"^[0-9]{14}-[0-9a-f]{16}$")
_MAX_REASON_CHARS = 300


@dataclass(frozen=True, slots=True)
class QuarantineItem:
    """Metadata of one quarantined message (never its content)."""

    id: str
    received_at: datetime
    quarantined_at: datetime
    reason: str
    source: str
    mail_from: str
    rcpts: tuple[str, ...]
    attempts: int
    size: int
    key_id: str
    hold: Hold | None = None  # held mail (flood limit, moderation), not a failure
    sender: str = ""
    message_ref: str = ""  # `message_ref` of its Message-ID: finds its decision record

    @property
    def state(self) -> str:
        """ "held" (waits for its release) or "quarantined" (could not be used): the words
        of the ingest outcomes, used in every listing and summary."""
        return "held" if self.hold is not None else "quarantined"


def message_ref(message_id: str | None) -> str:
    """A digest of a Message-ID as the store keeps it, to find an item's decision record
    without writing the header in clear ("" without one)."""
    if not message_id:
        return ""
    return hashlib.sha256(message_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _derive(secret_key: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(
        secret_key.encode("utf-8")
    )


def _clean_reason(reason: str) -> str:
    one_line = " ".join(reason.split())
    return one_line[:_MAX_REASON_CHARS]


class Quarantine:
    """Encrypted store of raw messages that failed (see the module docstring).

    ``reason`` must be written for the operator and must not quote the mail: pass an error
    class or a fixed description, never a subject or body text. It is folded to one line.
    """

    def __init__(
        self,
        root: Path,
        secret_key: str,
        *,
        clock: Callable[[], datetime] = utcnow,
        previous_keys: Sequence[str] = (),
    ) -> None:
        if not secret_key:
            raise ValueError("quarantine needs a non-empty secret_key ([desk] secret_key)")
        self.root = Path(root)
        self._aead = AESGCM(_derive(secret_key, _KEY_INFO))
        self.key_id = _derive(secret_key, _KEY_ID_INFO)[:8].hex()
        # New items use `secret_key`; items stored under a key it replaced (a rotation's
        # `previous_keys`) are still read, each with the key its fingerprint names.
        self._readers = {
            _derive(key, _KEY_ID_INFO)[:8].hex(): AESGCM(_derive(key, _KEY_INFO))
            for key in reversed((secret_key, *previous_keys))
        }
        self._clock = clock
        ensure_private_dir(self.root)

    def put(
        self,
        raw: bytes,
        *,
        reason: str,
        source: str,
        rcpts: Sequence[str],
        mail_from: str,
        received_at: datetime,
        attempts: int = 0,
        hold: Hold | None = None,
        sender: str = "",
        message_id: str | None = None,
    ) -> QuarantineItem:
        """Encrypt and store ``raw`` durably; returns the item's metadata. With ``hold`` the
        item is held mail (waiting for its release), not a failure."""
        now = self._clock().astimezone(UTC)
        item = QuarantineItem(
            id=f"{now:%Y%m%d%H%M%S}-{secrets.token_hex(8)}",
            received_at=received_at.astimezone(UTC),
            quarantined_at=now,
            reason=_clean_reason(reason),
            source=source,
            mail_from=mail_from,
            rcpts=tuple(rcpts),
            attempts=attempts,
            size=len(raw),
            key_id=self.key_id,
            hold=hold,
            sender=sender.lower(),
            message_ref=message_ref(message_id),
        )
        nonce = os.urandom(_NONCE_BYTES)
        sealed = _MAGIC + nonce + self._aead.encrypt(nonce, bytes(raw), item.id.encode())
        self._write(self._bin_path(item.id), sealed)
        self._write(self._meta_path(item.id), json.dumps(_meta_to_json(item)).encode())
        fsync_directory(self.root)
        return item

    def list(self) -> list[QuarantineItem]:
        """All items, oldest first."""
        items = [
            _meta_from_json(json.loads(path.read_bytes()))
            for path in self.root.glob("*.json")
            if _ID_PATTERN.match(path.stem)
        ]
        return sorted(items, key=lambda item: (item.quarantined_at, item.id))

    def get(self, item_id: str) -> QuarantineItem:
        """The metadata of one item; ``QuarantineItemNotFound`` when there is none."""
        try:
            return _meta_from_json(json.loads(self._meta_path(item_id).read_bytes()))
        except FileNotFoundError:
            raise QuarantineItemNotFound(f"no quarantined message with id {item_id!r}") from None

    def read(self, item_id: str) -> bytes:
        """Decrypt and return the raw message of one item."""
        item = self.get(item_id)
        aead = self._readers.get(item.key_id)
        if aead is None:
            raise QuarantineKeyError(
                f"quarantined message {item_id} was encrypted with another secret_key "
                f"(key id {item.key_id}, configured key id {self.key_id}); "
                "add that key to [desk] previous_secret_keys to read it"
            )
        sealed = self._bin_path(item_id).read_bytes()
        if not sealed.startswith(_MAGIC):
            raise QuarantineError(f"quarantined message {item_id} is not in a known format")
        nonce = sealed[len(_MAGIC) : len(_MAGIC) + _NONCE_BYTES]
        try:
            return aead.decrypt(nonce, sealed[len(_MAGIC) + _NONCE_BYTES :], item_id.encode())
        except InvalidTag:
            raise QuarantineKeyError(
                f"quarantined message {item_id} failed authentication: the file was altered "
                "or the secret_key differs from the one used to store it"
            ) from None

    def update(self, item: QuarantineItem) -> None:
        """Rewrite an item's metadata (its attempts, or when its hold ends)."""
        self.get(item.id)
        self._write(self._meta_path(item.id), json.dumps(_meta_to_json(item)).encode())
        fsync_directory(self.root)

    def remove(self, item_id: str) -> None:
        """Delete one item (metadata first, so a half-removed item is never listed)."""
        self.get(item_id)
        self._meta_path(item_id).unlink()
        self._bin_path(item_id).unlink(missing_ok=True)
        fsync_directory(self.root)

    def purge(self, older_than: datetime) -> int:
        """Delete every item quarantined before ``older_than``; returns how many went."""
        removed = 0
        for item in self.list():
            if item.quarantined_at < older_than:
                self.remove(item.id)
                removed += 1
        return removed

    def count(self) -> int:
        """Number of quarantined items (for the digest and metrics)."""
        return sum(1 for path in self.root.glob("*.json") if _ID_PATTERN.match(path.stem))

    def _bin_path(self, item_id: str) -> Path:
        return self.root / f"{self._checked(item_id)}.bin"

    def _meta_path(self, item_id: str) -> Path:
        return self.root / f"{self._checked(item_id)}.json"

    @staticmethod
    def _checked(item_id: str) -> str:
        if not _ID_PATTERN.match(item_id):
            raise QuarantineItemNotFound(f"{item_id!r} is not a quarantine id")
        return item_id

    def _write(self, path: Path, data: bytes) -> None:
        staging = path.with_name(f".{path.name}.tmp")
        staging.unlink(missing_ok=True)
        write_file_durably(staging, data)
        os.replace(staging, path)


def _meta_to_json(item: QuarantineItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "received_at": item.received_at.isoformat(),
        "quarantined_at": item.quarantined_at.isoformat(),
        "reason": item.reason,
        "source": item.source,
        "mail_from": item.mail_from,
        "rcpts": list(item.rcpts),
        "attempts": item.attempts,
        "size": item.size,
        "key_id": item.key_id,
        "sender": item.sender,
        "message_ref": item.message_ref,
        "hold": None
        if item.hold is None
        else {
            "scope": item.hold.scope,
            "who": item.hold.who,
            "until": item.hold.until.isoformat() if item.hold.until else None,
        },
    }


def _hold_from_json(data: dict[str, Any]) -> Hold | None:
    hold = data.get("hold")
    if isinstance(hold, dict):
        until = hold.get("until")
        return Hold(
            str(hold["scope"]), str(hold["who"]), datetime.fromisoformat(until) if until else None
        )
    if str(data["reason"]).startswith("held"):  # an item kept before holds were recorded
        return Hold("moderation", str(data.get("mail_from", "")))
    return None


def _meta_from_json(data: dict[str, Any]) -> QuarantineItem:
    return QuarantineItem(
        id=str(data["id"]),
        received_at=datetime.fromisoformat(data["received_at"]),
        quarantined_at=datetime.fromisoformat(data["quarantined_at"]),
        reason=str(data["reason"]),
        source=str(data["source"]),
        mail_from=str(data["mail_from"]),
        rcpts=tuple(str(r) for r in data["rcpts"]),
        attempts=int(data["attempts"]),
        size=int(data["size"]),
        key_id=str(data["key_id"]),
        hold=_hold_from_json(data),
        sender=str(data.get("sender", "")),
        message_ref=str(data.get("message_ref", "")),
    )
