"""Where uavsim keeps what it builds or downloads: ``$UAVSIM_CACHE_DIR``, else the user's cache folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def cache_dir() -> Path:
    """``$UAVSIM_CACHE_DIR`` when set, else the platform's user cache folder (``~/.cache/uavsim`` on Linux)."""
    env = os.environ.get("UAVSIM_CACHE_DIR")
    if env:
        return Path(env)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / "uavsim" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "uavsim"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "uavsim"


def terrain_dir() -> Path:
    """Downloaded tiles and mosaics live under ``<cache>/terrain``."""
    return cache_dir() / "terrain"
