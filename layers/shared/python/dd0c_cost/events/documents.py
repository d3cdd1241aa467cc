"""Reading documents of records (files, S3 objects, HTTP bodies) one record at a time, so that one
bad record is rejected alone, with a specific reason, and every other record is still read.

A document is a CloudTrail log file (``{"Records": [...]}``, plain or gzip), a JSON array of
records or envelopes, or JSON Lines (one record, envelope or whole log file per line). What can
go wrong, and what happens:

- ``truncated_gzip`` / ``corrupt_gzip``: the gzip stream ends early or breaks; everything that
  decompressed is still read, and the record cut off at the break is rejected with this reason;
- ``not_utf8``: a line (or the body) is not UTF-8;
- ``too_deep``: a record nested more than ``MAX_DEPTH`` levels (CloudTrail's deepest in our
  corpus is 11; pydantic stops serialising at about 250, orjson parsing at 1,024);
- ``too_large``: a line longer than ``MAX_RECORD_BYTES`` (it could never fit an SQS message);
- ``malformed_json``: anything else that does not parse.

When a whole ``{"Records": [...]}`` document cannot be parsed at once (cut short, or one record
nested past orjson's limit), its array is split into elements by a scanner that only tracks
strings and brackets, and each element is parsed on its own.

``clean_record`` makes a parsed record storable: PostgreSQL text and jsonb cannot hold the NUL
character (U+0000), so every NUL in a string or key is replaced by the six characters ``\\u0000``
(its JSON escape, shown as such), and the record keeps its meaning. An ``eventID`` with a NUL is
rejected (``nul_character``): AWS never writes one, and an id must not be rewritten.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

MAX_DEPTH = 64
# An ingest message must fit SQS's 256 KB; the record leaves room for the envelope around it.
MAX_RECORD_BYTES = 250 * 1024
NUL = "\x00"
NUL_ESCAPE = "\\u0000"

_GZIP_MAGIC = b"\x1f\x8b"
_RECORDS_START = re.compile(rb'\A\s*\{\s*"Records"\s*:\s*\[')
_ARRAY_START = re.compile(rb"\A\s*\[")
# Strings (with escapes) and the structural characters, for splitting an array into elements.
_TOKENS = re.compile(rb'"(?:[^"\\]++|\\.)*+"|[\[\]{},]')


class RecordProblem(Exception):
    """One record (or line) that cannot be read; ``reason`` is a RejectReason value."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class DocumentItem:
    """One record of a document: ``line`` is its line (JSON Lines) or its 1-based position in the
    Records array / JSON array; ``value`` the parsed record, or ``problem`` why it is not."""

    line: int
    value: Any = None
    problem: RecordProblem | None = None


# --- gzip ------------------------------------------------------------------------------------


def gunzip_partial(data: bytes, *, limit: int | None = None) -> tuple[bytes, RecordProblem | None]:
    """Decompress every gzip member; on a truncated or corrupt stream, return what decompressed
    before the break and the problem. ``limit`` bounds the output (``too_large`` past it)."""
    out = bytearray()
    rest = data
    while rest:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            room = 0 if limit is None else limit + 1 - len(out)
            out += inflater.decompress(rest, room) if limit is not None else inflater.decompress(rest)
            if limit is not None and (len(out) > limit or inflater.unconsumed_tail):
                return bytes(out[:limit]), RecordProblem("too_large", f"decompresses to more than {limit:,} bytes")
            out += inflater.flush()
        except zlib.error as exc:
            return bytes(out), RecordProblem("corrupt_gzip", f"corrupt gzip data: {exc}")
        if not inflater.eof:
            return bytes(out), RecordProblem("truncated_gzip", "the gzip stream ends before its end marker")
        rest = inflater.unused_data
        if rest and rest[:2] != _GZIP_MAGIC:
            break  # trailing padding after the last member, as gzip(1) tolerates
    return bytes(out), None


def is_gzip(data: bytes) -> bool:
    return data[:2] == _GZIP_MAGIC


# --- records ---------------------------------------------------------------------------------


def _depth_exceeds(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > limit:
                return True
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, (dict, list)))
        elif isinstance(item, list):
            if depth > limit:
                return True
            stack.extend((v, depth + 1) for v in item if isinstance(v, (dict, list)))
    return False


def check_depth(value: Any) -> None:
    if isinstance(value, (dict, list)) and _depth_exceeds(value, MAX_DEPTH):
        raise RecordProblem("too_deep", f"nested more than {MAX_DEPTH} levels")


def _escape(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace(NUL, NUL_ESCAPE) if NUL in value else value
    if isinstance(value, dict):
        return {(k.replace(NUL, NUL_ESCAPE) if isinstance(k, str) else k): _escape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escape(v) for v in value]
    return value


def clean_record(value: Any) -> Any:
    """The record, storable: depth checked (``too_deep``), NUL escaped in every string and key
    (``nul_character`` for an eventID). Returns the same object when there is nothing to do."""
    check_depth(value)
    inner = value.get("detail") if isinstance(value, dict) and isinstance(value.get("detail"), dict) else value
    if isinstance(inner, dict) and isinstance(inner.get("eventID"), str) and NUL in inner["eventID"]:
        raise RecordProblem("nul_character", "eventID contains a NUL character")
    return _escape(value)


def may_need_cleaning(data: bytes | str) -> bool:
    """Cheap test on a record's JSON text: False means ``clean_record`` would change nothing (no
    NUL escape in it, and fewer brackets than the depth limit)."""
    raw = data.encode() if isinstance(data, str) else data
    return b"\\u0000" in raw or raw.count(b"{") + raw.count(b"[") > MAX_DEPTH


# --- parsing ---------------------------------------------------------------------------------


def _problem_of(text: bytes, exc: Exception) -> RecordProblem:
    try:
        text.decode("utf-8")
    except UnicodeDecodeError as bad:
        return RecordProblem("not_utf8", f"byte {bad.start} is not UTF-8")
    message = str(exc)
    if "depth limit" in message or "recursion" in message.lower():
        return RecordProblem("too_deep", f"nested more than {MAX_DEPTH} levels")
    return RecordProblem("malformed_json", message)


def parse_one(text: bytes, max_bytes: int | None = MAX_RECORD_BYTES) -> Any:
    """One record's JSON; RecordProblem if it cannot be parsed or is too large or too deep."""
    if max_bytes is not None and len(text) > max_bytes:
        raise RecordProblem("too_large", f"{len(text):,} bytes > {max_bytes:,}")
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise _problem_of(text, exc) from None
    check_depth(value)
    return value


def split_array(data: bytes, start: int) -> tuple[list[bytes], bool]:
    """The elements of the JSON array whose ``[`` ends at ``start`` (raw bytes, unparsed), and
    whether the array was closed. An unclosed array's last element is what was left."""
    elements: list[bytes] = []
    depth = 0
    begin = start
    for match in _TOKENS.finditer(data, start):
        char = data[match.start()]
        if char == 0x22:  # a string
            continue
        if char in (0x5B, 0x7B):  # [ {
            depth += 1
        elif char in (0x5D, 0x7D):  # ] }
            if depth == 0:  # the array's own ]
                last = data[begin : match.start()].strip()
                if last:
                    elements.append(last)
                return elements, True
            depth -= 1
        elif depth == 0:  # a comma between elements
            elements.append(data[begin : match.start()].strip())
            begin = match.end()
    tail = data[begin:].strip()
    if tail:
        elements.append(tail)
    return elements, False


def _items_of_array(data: bytes, start: int, cut: RecordProblem | None) -> Iterator[DocumentItem]:
    elements, closed = split_array(data, start)
    for index, element in enumerate(elements, start=1):
        if not closed and index == len(elements):
            yield DocumentItem(
                index, problem=cut or RecordProblem("malformed_json", "the document ends inside this record")
            )
            return
        try:
            yield DocumentItem(index, value=parse_one(element))
        except RecordProblem as problem:
            yield DocumentItem(index, problem=problem)
    if not closed and not elements and cut is not None:
        yield DocumentItem(1, problem=cut)


def _records_of(value: Any) -> list | None:
    if isinstance(value, dict) and isinstance(value.get("Records"), list) and "eventSource" not in value:
        return value["Records"]
    return None


def _first_line_parses(data: bytes) -> bool:
    """True for JSON Lines: more than one line, and the first is JSON on its own."""
    end = data.find(b"\n")
    if end == -1 or not data[end:].strip():
        return False
    try:
        orjson.loads(data[:end])
    except orjson.JSONDecodeError:
        return False
    return True


def _checked(index: int, record: Any) -> DocumentItem:
    try:
        check_depth(record)
    except RecordProblem as problem:
        return DocumentItem(index, problem=problem)
    return DocumentItem(index, value=record)


def iter_document(data: bytes, *, cut: RecordProblem | None = None) -> Iterator[DocumentItem]:
    """Every record of a document (already decompressed), one item each. ``cut``: the problem
    that ended the data early (a truncated gzip stream), reported on the record it cut short."""
    if data.lstrip()[:1] in (b"{", b"["):
        try:
            whole = orjson.loads(data)
        except orjson.JSONDecodeError:
            whole = None
        if whole is not None:
            records = whole if isinstance(whole, list) else _records_of(whole)
            if records is not None:
                for index, record in enumerate(records, start=1):
                    yield _checked(index, record)
                return
            if isinstance(whole, dict):
                yield _checked(1, whole)
                return
        else:
            head = data[:256]
            match = _RECORDS_START.match(head) or _ARRAY_START.match(head)
            if match and not _first_line_parses(data):
                yield from _items_of_array(data, match.end(), cut)
                return
    lines = data.splitlines()
    last = len(lines)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            # A line may hold a whole log file (its records are checked one by one below).
            value = parse_one(line, None if _RECORDS_START.match(line[:64]) else MAX_RECORD_BYTES)
        except RecordProblem as problem:
            if cut is not None and number == last and problem.reason == "malformed_json":
                problem = cut
            yield DocumentItem(number, problem=problem)
            continue
        records = _records_of(value)
        if records is None:
            yield DocumentItem(number, value=value)
            continue
        for record in records:  # a JSON-lines file may hold whole S3 log files, one per line
            yield _checked(number, record)
    if cut is not None and (not lines or data.endswith(b"\n")):
        # The stream broke exactly at a line end: nothing partial to blame, but say so.
        yield DocumentItem(last + 1, problem=cut)
