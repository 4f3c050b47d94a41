"""Reading a user's text file with errors that name the file (one place for the error mapping)."""

from __future__ import annotations

from pathlib import Path

from uavsim.errors import DataFileError


def read_text(path: Path, error: type[DataFileError]) -> str:
    """The file's UTF-8 text; a missing or unreadable file raises ``error`` naming it."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise error(path, "file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise error(path, f"cannot read ({exc})") from exc
