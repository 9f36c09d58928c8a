"""Where wirenews keeps what it fetches and lays out: outside the repository, shared by every clone."""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """``WIRENEWS_HOME``, else the machine's default home."""
    return Path(os.environ.get("WIRENEWS_HOME") or default_home())


def default_home() -> Path:
    """Outside the repository; shared by every clone on the machine so the zip is fetched once."""
    if os.geteuid() == 0:
        return Path("/var/lib/wirenews")
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "wirenews"


def download_cache(home: Path) -> Path:
    """Where fetched distributions are kept: ``WIRENEWS_DOWNLOADS``, else under the home.

    The test command gives each run an empty home but shares this cache, so nodes, data and users are
    always laid out anew while the zip is fetched once per machine.
    """
    return Path(os.environ.get("WIRENEWS_DOWNLOADS") or home / "downloads")
