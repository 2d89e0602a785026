"""Retention archives: gzip-compressed JSON Lines files with a sha256 manifest beside them.

Responsible for the archive format (``edigate.archive/1``), writing an archive
incrementally and reading it back as a stream, so that neither needs memory for more
than one batch of messages. An archive is::

    {"format": "edigate.archive/1", "created_at": ..., ...}        the header, first
    {"table": "payloads", "row": {...}}                            rows of one batch ...
    {"batch": 1, "message_ids": [...]}                             ... and its end
    ...

Row values are JSON as they are, with datetimes as ISO 8601 text and binary values as
base64; a reader turns them back by the column's type. Within a batch, a table's rows
come before those of the tables that refer to it (``TABLES``), so a restore can insert a
batch in file order. ``<name>.sha256`` holds the archive's digest in ``sha256sum``'s
format (``sha256sum -c`` checks it); the archive is written under a temporary name and
renamed when complete, so an archive with its name is whole.
It must not decide what is archived (``gateway.retention.purge``) and never deletes.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import DateTime, LargeBinary, Table

from gateway.errors import GatewayError
from gateway.store.as2 import AS2Message
from gateway.store.https import HTTPSTransfer
from gateway.store.models import Acknowledgment, Message, Payload, RecordRow
from gateway.store.outbound import SentDocument
from gateway.store.search import MessageTerm
from gateway.store.sftp import SFTPTransfer
from gateway.store.webhooks import WebhookDelivery

__all__ = ["ARCHIVE_FORMAT", "TABLES", "ArchiveBatch", "ArchiveError", "ArchiveWriter",
           "archive_batches", "archive_message_ids", "check_archive", "file_sha256"]

ARCHIVE_FORMAT = "edigate.archive/1"
# Parents first: the order rows are written in and restored in.
TABLES: tuple[Table, ...] = tuple(model.__table__ for model in (  # type: ignore[misc]
    Payload, Message, RecordRow, Acknowledgment, SentDocument, AS2Message, HTTPSTransfer,
    SFTPTransfer, MessageTerm, WebhookDelivery))
_BY_NAME = {table.name: table for table in TABLES}
_BATCH_PREFIX = '{"batch"'
_CHUNK = 1 << 20


class ArchiveError(GatewayError):
    """An archive that cannot be read back: missing, altered or not an archive."""

    def __init__(self, detail: str) -> None:
        super().__init__(422, "archive-invalid", "Archive cannot be restored", detail)


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def encode_row(table: Table, row: Mapping[Any, Any]) -> dict[str, Any]:
    return {column.name: _encode(row[column.name]) for column in table.columns}


def decode_row(table: Table, row: Mapping[str, Any]) -> dict[str, Any]:
    """A row as read from an archive, its values turned back into the columns' types."""
    out: dict[str, Any] = {}
    for column in table.columns:
        if column.name not in row:
            raise ArchiveError(f"a {table.name} row has no {column.name}")
        value = row[column.name]
        if value is not None:
            if isinstance(column.type, LargeBinary):
                value = base64.b64decode(value, validate=True)
            elif isinstance(column.type, DateTime) or isinstance(
                    getattr(column.type, "impl", None), DateTime):
                value = datetime.fromisoformat(value)
        out[column.name] = value
    return out


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


class ArchiveWriter:
    """One archive being written; ``close`` completes it (rename, manifest)."""

    def __init__(self, folder: Path, name: str, header: Mapping[str, Any]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / name
        self._partial = folder / f".{name}.partial"
        self._raw: BinaryIO = self._partial.open("wb")
        self._gzip = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0)
        self._text = io.TextIOWrapper(self._gzip, encoding="utf-8", newline="\n")
        self.batches = 0
        self._line({"format": ARCHIVE_FORMAT, **header})

    def _line(self, value: Mapping[str, Any]) -> None:
        self._text.write(json.dumps(value, separators=(",", ":"), ensure_ascii=False))
        self._text.write("\n")

    def rows(self, table: Table, rows: Sequence[Mapping[Any, Any]]) -> None:
        for row in rows:
            self._line({"table": table.name, "row": encode_row(table, row)})

    def end_batch(self, message_ids: Sequence[str]) -> None:
        self.batches += 1
        self._line({"batch": self.batches, "message_ids": list(message_ids)})

    def close(self) -> str:
        """Complete the archive; its sha256, also written to the manifest."""
        self._text.close()  # closes the gzip stream, not the file under it
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()
        os.replace(self._partial, self.path)
        digest = file_sha256(self.path)
        manifest = manifest_path(self.path)
        manifest.write_text(f"{digest}  {self.path.name}\n", encoding="ascii")
        return digest

    def abandon(self) -> None:
        """Drop an archive that will not be completed (a run that failed)."""
        try:
            self._text.close()
        finally:
            self._raw.close()
            self._partial.unlink(missing_ok=True)


def check_archive(path: Path) -> str:
    """The archive's sha256, after checking it against its manifest; ArchiveError else."""
    manifest = manifest_path(path)
    if not path.is_file():
        raise ArchiveError(f"{path}: no such archive")
    if not manifest.is_file():
        raise ArchiveError(f"{manifest}: the archive's manifest is missing")
    expected = manifest.read_text(encoding="ascii", errors="replace").split()[:1]
    digest = file_sha256(path)
    if expected != [digest]:
        raise ArchiveError(f"{path}: sha256 {digest} is not the one its manifest names")
    return digest


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        with gzip.open(path, "rt", encoding="utf-8", newline="\n") as stream:
            yield from enumerate(stream, start=1)
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise ArchiveError(f"{path}: not a readable gzip archive ({exc})") from exc


def _header(path: Path, number: int, line: str) -> dict[str, Any]:
    try:
        header = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ArchiveError(f"{path}:{number}: not JSON") from exc
    if number != 1 or not isinstance(header, dict) or header.get("format") != ARCHIVE_FORMAT:
        raise ArchiveError(f"{path}:1: not an {ARCHIVE_FORMAT} archive")
    return header


@dataclass
class ArchiveBatch:
    number: int
    message_ids: list[str]
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def archive_batches(path: Path) -> Iterator[ArchiveBatch]:
    """The archive's batches in order, each with its rows decoded, one at a time."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for number, line in _lines(path):
        if number == 1:
            _header(path, number, line)
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ArchiveError(f"{path}:{number}: not JSON") from exc
        if not isinstance(item, dict):
            raise ArchiveError(f"{path}:{number}: not a JSON object")
        if "batch" in item:
            yield ArchiveBatch(int(item["batch"]), list(item["message_ids"]), rows)
            rows = {}
            continue
        table = _BY_NAME.get(str(item.get("table")))
        if table is None or not isinstance(item.get("row"), dict):
            raise ArchiveError(f"{path}:{number}: no row of an archived table")
        try:
            rows.setdefault(table.name, []).append(decode_row(table, item["row"]))
        except (ValueError, TypeError) as exc:
            raise ArchiveError(f"{path}:{number}: {exc}") from exc
    if rows:
        raise ArchiveError(f"{path}: ends inside a batch")


def archive_message_ids(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(batch number, message ids) of each batch, without decoding the rows."""
    for number, line in _lines(path):
        if number == 1:
            _header(path, number, line)
        elif line.startswith(_BATCH_PREFIX):
            item = json.loads(line)
            yield int(item["batch"]), list(item["message_ids"])
