"""Records of input files, one at a time, in bounded memory.

A CloudTrail log file (``{"Records": [...]}``, plain or gzip) is a few MB at most and is read whole
by the live reader (``events.cloudtrail.iter_file``). Large files are JSON Lines; those are
streamed line by line (gzip too) with the same per-line rules as ``iter_file``, so a file of any
size costs one line of memory. The items are identical either way (a test compares them).
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import orjson

from dd0c_cost.events.cloudtrail import FileItem, RecordRejected, RejectReason, iter_file
from dd0c_cost.events.models import Origin

# Files up to this size (on disk) are read by the live reader, whole.
WHOLE_FILE_BYTES = 32 * 1024 * 1024


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _open(path: Path):
    return gzip.open(path, "rb") if _is_gzip(path) else open(path, "rb", buffering=1 << 20)


def _first_line_is_a_record(path: Path) -> bool:
    """JSON Lines: the first non-blank line is a whole JSON value on its own."""
    with _open(path) as fh:
        for line in fh:
            if line.strip():
                try:
                    orjson.loads(line)
                except orjson.JSONDecodeError:
                    return False
                return True
    return False


def iter_records(path: Path, *, whole_file_bytes: int = WHOLE_FILE_BYTES) -> Iterator[FileItem]:
    """Every record of ``path`` as ``iter_file`` yields them, streaming large JSON Lines files."""
    if path.stat().st_size <= whole_file_bytes or not _first_line_is_a_record(path):
        yield from iter_file(path)
        return
    name = str(path)
    with _open(path) as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            origin = Origin(source="replay", file=name, line=number)
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                yield FileItem(origin, rejected=RecordRejected(RejectReason.MALFORMED_JSON, str(exc)))
                continue
            # A JSON-lines file may hold whole S3 log files, one per line.
            if isinstance(value, dict) and isinstance(value.get("Records"), list) and "eventSource" not in value:
                for record in value["Records"]:
                    yield FileItem(origin, value=record)
            else:
                yield FileItem(origin, value=value)
