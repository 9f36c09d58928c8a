"""What the installed package carries: its version, and its configs (rule packs, aliases, template, Kibana).

A checkout (or editable install) reads the repository's ``configs/``; a plain
install, such as the one Beam's ``--setup_file`` makes on distributed workers,
reads the copy that setup.py installs under ``<prefix>/share/wirenews/configs``.
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version
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


def product_version() -> str:
    """The installed wirenews version (setup.py's), written into every document and the User-Agent."""
    try:
        return version("wirenews")
    except PackageNotFoundError:  # a source tree that was never installed
        return "0.0.0+source"
