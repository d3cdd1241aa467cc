"""What ``replay`` reads: files, folders (recursively, CloudTrail's own S3 layout included) and
glob patterns, expanded to a sorted list of CloudTrail files."""

from __future__ import annotations

import glob
from pathlib import Path

from dd0c_cost_tools.cli.errors import CliError

# JSON Lines, JSON arrays and CloudTrail log files ({"Records": [...]}), plain or gzipped.
SUFFIXES = (".jsonl", ".json", ".ndjson", ".jsonl.gz", ".json.gz", ".ndjson.gz")
# CloudTrail delivers these beside the logs (AWSLogs/<account>/CloudTrail-Digest/...): not events.
SKIPPED_FOLDERS = frozenset({"CloudTrail-Digest", "CloudTrail-Insight"})


def _is_input(path: Path) -> bool:
    return path.is_file() and path.name.endswith(SUFFIXES) and not SKIPPED_FOLDERS.intersection(path.parts)


def expand(arguments: list[str]) -> list[Path]:
    """Every file the arguments name, in a stable order, each once."""
    found: list[Path] = []
    for argument in arguments:
        if glob.has_magic(argument):
            matches = sorted(Path(m) for m in glob.glob(argument, recursive=True))
            files = [m for m in matches if _is_input(m)]
            files += [f for m in matches if m.is_dir() for f in _folder(m)]
            if not files:
                raise CliError(
                    f"no CloudTrail files match {argument!r}", "check the pattern; quote it to let dd0c-cost expand **"
                )
            found += files
            continue
        path = Path(argument)
        if path.is_dir():
            files = _folder(path)
            if not files:
                raise CliError(
                    f"no CloudTrail files under {path}",
                    f"replay reads {', '.join(SUFFIXES)} files, in that folder or below it",
                )
            found += files
        elif path.is_file():
            found.append(path)
        else:
            raise CliError(f"no such file or folder: {path}")
    unique: dict[Path, None] = {}
    for path in found:
        unique.setdefault(path.resolve(), None)
    return list(unique)


def _folder(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if _is_input(p))
