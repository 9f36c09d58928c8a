"""The closing summary of a run, built from Beam metrics.

Stages count with Beam counters (namespace ``wirenews`` for totals and
``wirenews.feed.<name>`` per feed), so the summary is the same whichever runner
executed the pipeline and however many workers it used.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

NAMESPACE = "wirenews"
FEED_NAMESPACE = "wirenews.feed."

FEED_COLUMNS = ("fetched", "unchanged", "failed")
ARTICLE_COLUMNS = ("new", "updated", "unchanged", "dead_lettered")
# Per feed, "unchanged" is the feed's own status; unchanged articles are counted as "articles_unchanged".
_PER_FEED_NAME = {"unchanged": "articles_unchanged"}


@dataclass
class RunSummary:
    totals: dict[str, int] = field(default_factory=dict)
    per_feed: dict[str, dict[str, int]] = field(default_factory=dict)
    distributions: dict[str, dict[str, float]] = field(default_factory=dict)

    def total(self, name: str) -> int:
        return int(self.totals.get(name, 0))

    @property
    def feeds_failed(self) -> int:
        return self.total("feeds_failed")

    @property
    def dead_lettered(self) -> int:
        return self.total("articles_dead_lettered")

    def to_json(self) -> dict[str, Any]:
        return {
            "feeds": {k: self.total(f"feeds_{k}") for k in ("fetched", "unchanged", "failed", "skipped")},
            "articles": {k: self.total(f"articles_{k}") for k in ("parsed", *ARTICLE_COLUMNS)},
            "totals": dict(sorted(self.totals.items())),
            "per_feed": self.per_feed,
            "distributions": self.distributions,
        }


def _value(result: Any) -> Any:
    committed = getattr(result, "committed", None)
    return committed if committed is not None else result.attempted


def summarize(metric_results: dict[str, Iterable[Any]], feed_names: Iterable[str] = (),
              extra: Iterable[tuple[str, str, int]] = ()) -> RunSummary:
    """Fold Beam's metric query results into totals and a per-feed table.

    ``extra``: (namespace, name, value) counted outside the pipeline, for feeds the launcher finished itself.
    """
    summary = RunSummary(per_feed={name: {} for name in feed_names})
    counters = [(res.key.metric.namespace, res.key.metric.name, int(_value(res) or 0))
                for res in metric_results.get("counters", [])]
    for ns, name, val in [*counters, *extra]:
        if ns == NAMESPACE:
            summary.totals[name] = summary.totals.get(name, 0) + val
        elif ns.startswith(FEED_NAMESPACE):
            feed = summary.per_feed.setdefault(ns[len(FEED_NAMESPACE):], {})
            feed[name] = feed.get(name, 0) + val
    for res in metric_results.get("distributions", []):
        if res.key.metric.namespace != NAMESPACE:
            continue
        d = _value(res)
        if d is None or not getattr(d, "count", 0):
            continue
        summary.distributions[res.key.metric.name] = {
            "count": d.count, "sum": d.sum, "min": d.min, "max": d.max, "mean": d.sum / d.count}
    return summary


def wire_line(summary: RunSummary) -> str:
    """What the agency wire readers did: stories read by format, and what was counted instead of indexed."""
    items = {k[len("wire_items_"):]: v for k, v in summary.totals.items() if k.startswith("wire_items_") and v}
    if not items:
        return ""
    parts = [f"{sum(items.values())} stories read (" + ", ".join(f"{v} {k}" for k, v in sorted(items.items())) + ")"]
    skipped = {k[len("wire_skipped_"):]: v for k, v in summary.totals.items() if k.startswith("wire_skipped_") and v}
    for name, label in (("wire_packages", "packages counted, not indexed"),
                        ("wire_versions_superseded", "older versions superseded in the same read"),
                        ("wire_versions_stale", "older versions than the stored ones left alone")):
        if summary.total(name):
            parts.append(f"{summary.total(name)} {label}")
    if skipped:
        parts.append("skipped: " + ", ".join(f"{v} {k.replace('_', '-')}" for k, v in sorted(skipped.items())))
    return "wire: " + "; ".join(parts)


# Why a poll asked nothing of a feed's server (``feeds_skipped_<reason>``), as the summary says it.
SKIP_REASONS = {"not_due": "not due (the feed's ttl / sy:updatePeriod, up to fetch.max_ttl)",
                "robots": "disallowed by robots.txt", "backing_off": "backing off after failures"}


def skipped_line(summary: RunSummary) -> str:
    """Feeds polled without a request, by reason: none of them is a failure."""
    reasons = {k[len("feeds_skipped_"):]: v for k, v in summary.totals.items()
               if k.startswith("feeds_skipped_") and v}
    if not reasons:
        return ""
    return "skipped: " + ", ".join(f"{v} {SKIP_REASONS.get(k, k.replace('_', ' '))}"
                                   for k, v in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))


def render(summary: RunSummary, elapsed: float | None = None) -> str:
    """A table a person reads at the end of a run."""
    lines = []
    name_w = max([len("feed"), *(len(n) for n in summary.per_feed)])
    head = f"{'feed':<{name_w}}  " + " ".join(f"{c:>9}" for c in FEED_COLUMNS) + "  |  " + " ".join(
        f"{c.replace('_', '-'):>13}" for c in ARTICLE_COLUMNS)
    lines.append(head)
    lines.append("-" * len(head))
    for name, counts in sorted(summary.per_feed.items()):
        lines.append(f"{name:<{name_w}}  " + " ".join(f"{counts.get(c, 0):>9}" for c in FEED_COLUMNS) + "  |  "
                     + " ".join(f"{counts.get(_PER_FEED_NAME.get(c, c), 0):>13}" for c in ARTICLE_COLUMNS))
    lines.append("-" * len(head))
    j = summary.to_json()
    feeds = ", ".join(f"{v} {k}" for k, v in j["feeds"].items())
    arts = ", ".join(f"{v} {k.replace('_', '-')}" for k, v in j["articles"].items())
    lines.append(f"feeds: {feeds}")
    lines.append(f"articles: {arts}")
    errors = {k[len("feed_errors_"):]: v for k, v in summary.totals.items() if k.startswith("feed_errors_") and v}
    if errors:
        lines.append("feed errors: " + ", ".join(f"{v} {k}" for k, v in sorted(errors.items())))
    wire = wire_line(summary)
    if wire:
        lines.append(wire)
    skipped = skipped_line(summary)
    if skipped:
        lines.append(skipped)
    waited = summary.total("politeness_wait_ms") / 1000
    if waited:
        lines.append(f"politeness: {waited:.1f}s waited between requests to the same host (fetch.min_gap, "
                     "fetch.min_gap_not_modified, fetch.hosts, Crawl-delay, Retry-After), summed over fetch threads")
    if elapsed is not None:
        lines.append(f"elapsed: {elapsed:.1f}s")
    return "\n".join(lines)
