"""Event-time order across files in bounded memory: an external merge sort.

Items are added in input order with their sort key (event time, as epoch seconds); each carries a
sequence number, so ties keep input order (the order ``replay`` always used: stable by position).
Payloads are bytes (serialised once, by the caller). Up to ``run_bytes`` of payload is kept in
memory; past that the run is sorted and written to a temporary file, and ``merged()`` k-way merges
the runs (``heapq.merge``), holding one item per run. Memory: ``run_bytes`` plus one buffered
line per run, whatever the input size. With a single run nothing touches the disk.
"""

from __future__ import annotations

import heapq
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

DEFAULT_RUN_BYTES = 64 * 1024 * 1024


class ExternalSort:
    def __init__(self, *, run_bytes: int = DEFAULT_RUN_BYTES, directory: str | Path | None = None) -> None:
        self.run_bytes = run_bytes
        self.directory = directory
        self._items: list[tuple[float, int, bytes]] = []
        self._bytes = 0
        self._runs: list[Path] = []
        self._seq = 0
        self._tmp: tempfile.TemporaryDirectory | None = None
        self.spilled_runs = 0

    def add(self, key: float, payload: bytes) -> None:
        # A copy of exactly its size: orjson's output keeps the buffer it was written into (several
        # KB), which for a million small records would be most of the memory.
        payload = bytes(memoryview(payload))
        self._items.append((key, self._seq, payload))
        self._seq += 1
        self._bytes += len(payload) + 64
        if self._bytes >= self.run_bytes:
            self._spill()

    def __len__(self) -> int:
        return self._seq

    def _spill(self) -> None:
        if not self._items:
            return
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="dd0c-backfill-", dir=self.directory)
        self._items.sort()
        path = Path(self._tmp.name) / f"run-{len(self._runs):05d}"
        with open(path, "wb", buffering=1 << 20) as out:
            for key, seq, payload in self._items:
                # key and sequence as text before the payload: merging never parses the payload
                out.write(b"%r %d %d\n" % (key, seq, len(payload)))
                out.write(payload)
                out.write(b"\n")
        self._runs.append(path)
        self.spilled_runs += 1
        self._items = []
        self._bytes = 0

    @staticmethod
    def _read_run(path: Path) -> Iterator[tuple[float, int, bytes]]:
        with open(path, "rb", buffering=1 << 20) as fh:
            while True:
                head = fh.readline()
                if not head:
                    break
                key, seq, size = head.split()
                payload = fh.read(int(size))
                fh.read(1)
                yield float(key), int(seq), payload
        os.unlink(path)

    def merged(self) -> Iterator[tuple[float, bytes]]:
        """Every item, by (key, input order); consumes the sort."""
        try:
            if not self._runs:
                self._items.sort()
                items, self._items = self._items, []
                for key, _, payload in items:
                    yield key, payload
                return
            self._spill()
            for key, _, payload in heapq.merge(*(self._read_run(p) for p in self._runs)):
                yield key, payload
        finally:
            self.close()

    def close(self) -> None:
        self._items = []
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
