"""Where the shipped configs are found: rule packs, aliases, the index template, Kibana objects.

A checkout (or editable install) reads the repository's ``configs/``; a plain
install, such as the one Beam's ``--setup_file`` makes on distributed workers,
reads the copy that setup.py installs under ``<prefix>/share/wirenews/configs``.
"""

from __future__ import annotations

import sys
from pathlib import Path

CHECKOUT_CONFIGS = Path(__file__).resolve().parent.parent / "configs"
INSTALLED_CONFIGS = Path(sys.prefix) / "share" / "wirenews" / "configs"


def config_path(*parts: str) -> Path:
    """The first existing of the checkout's and the installed copy; the checkout's path when neither exists."""
    for base in (CHECKOUT_CONFIGS, INSTALLED_CONFIGS):
        candidate = base.joinpath(*parts)
        if candidate.exists():
            return candidate
    return CHECKOUT_CONFIGS.joinpath(*parts)
