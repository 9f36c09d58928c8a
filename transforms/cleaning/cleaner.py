"""Stage 4, clean: article HTML to plain reporting, with datelines parsed and every removal audited.

How it works, in order:

1. ``html_text.to_paragraphs``: HTML or plain text to normalised paragraphs.
2. Packs are chosen: the pack of the given ``agency``, the pack serving the
   feed's ``domain``, packs whose ``detect`` patterns fire on the head or tail
   of the text or whose dateline matches, and always the generic packs.
3. ``start`` rules and the dateline at the top, then ``line`` rules anywhere,
   then ``end`` rules from the bottom up, until nothing fires.
4. Every candidate removal passes a safety check: it may take at most
   ``max_share`` of the text, an ``end`` match must begin at a paragraph or
   sentence boundary, and a ``start`` match must not split a word. A refused
   candidate stays in the text and is listed in ``CleanResult.refused``.

Datelines are removed from the text and kept as fields. The location is kept
as written by the agency ("BEIJING", "Berlin"), because the case carries no
information we could restore reliably ("McALLEN", "DE KALB"). All-capital
bylines ("By JOHN SMITH") are title-cased for ``authors``.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import replace
from pathlib import Path

from transforms.article import Article
from transforms.cleaning.engine import DEFAULT_SHARE_FLOOR, CleanResult, TextRun, rule_share
from transforms.cleaning.html_text import normalise_text, to_paragraphs
from transforms.cleaning.rules import Pack, load_packs

log = logging.getLogger(__name__)

_HEAD_TAIL_CHARS = 400  # characters of head and tail that pack detection looks at

DEFAULT_MAX_SHARE = 0.4


class Cleaner:
    """Holds the compiled rule packs; `clean` is a pure function of its input."""

    def __init__(
        self, packs: list[Pack], max_share: float = DEFAULT_MAX_SHARE, share_floor: int = DEFAULT_SHARE_FLOOR
    ) -> None:
        self.packs = packs
        self.max_share = max_share
        self.share_floor = share_floor
        self.generic = [p for p in packs if p.generic]
        self.specific = [p for p in packs if not p.generic]

    @classmethod
    def from_dir(cls, rules_dir: str | Path | None = None) -> Cleaner:
        """Load the packs of a directory (None: $WIRENEWS_RULES_DIR, else the packaged configs/rules)."""
        return cls(load_packs(rules_dir))

    def pack(self, pack_id: str) -> Pack:
        for p in self.packs:
            if p.id == pack_id:
                return p
        raise KeyError(pack_id)

    def select_packs(self, paragraphs: list[str], agency: str | None, domain: str | None) -> list[Pack]:
        """Packs for this text: given agency, then domain, then detected from head and tail; never generic."""
        chosen: list[Pack] = []
        if agency:
            chosen += [p for p in self.specific if agency.lower() in p.agencies]
        if domain:
            chosen += [p for p in self.specific if p.serves_domain(domain) and p not in chosen]
        if paragraphs:
            head = "\n".join(paragraphs[:2])[:_HEAD_TAIL_CHARS]
            tail = "\n".join(paragraphs[-3:])[-_HEAD_TAIL_CHARS:]
            for p in self.specific:
                if p not in chosen and any(rx.search(head) or rx.search(tail) for rx in p.detect):
                    chosen.append(p)
        return chosen

    def clean(
        self, raw: str, *, agency: str | None = None, domain: str | None = None, title: str | None = None
    ) -> CleanResult:
        """Clean one article body (HTML or plain text); `title`, when given, is dropped where the body repeats it."""
        paragraphs = to_paragraphs(raw or "")
        chosen = self.select_packs(paragraphs, agency, domain)
        run = TextRun(paragraphs, self.max_share, self.share_floor)
        active = chosen + self.generic
        dateline, dateline_pack = self._top(run, active, chosen, title)
        for pack in active:
            for rule in pack.rules:
                if rule.where == "line":
                    run.try_lines(rule, rule_share(rule, pack))
        self._bottom(run, active)
        detected = agency.lower() if agency else None
        if detected is None and dateline_pack is not None:
            detected = dateline_pack.agency
        if detected is None:
            detected = next((p.agency for p in chosen if p.agency), None)
        text = "\n\n".join(run.paras)
        # A candidate refused on one pass may have gone with a wider match later: report only what stayed.
        refused = [r for r in run.refused if r.text.strip() and r.text.strip() in text]
        return CleanResult(
            text=text,
            dateline=dateline,
            agency=detected,
            authors=run.authors,
            removed=run.removed,
            refused=list({(r.rule, r.text): r for r in refused}.values()),
        )

    def _top(
        self, run: TextRun, active: list[Pack], chosen: list[Pack], title: str | None = None
    ) -> tuple[dict[str, str | None] | None, Pack | None]:
        """Start rules, the repeated headline and the dateline, again while something fires at the top."""
        dateline: dict[str, str | None] | None = None
        found: Pack | None = None
        heading = normalise_text(title) if title else ""
        for _ in range(6):
            fired = run.try_headline(heading)
            for pack in active:
                for rule in pack.rules:
                    if rule.where == "start" and run.try_start(rule, rule_share(rule, pack)):
                        fired = True
            if dateline is None:
                for pack in chosen + [p for p in self.packs if p not in chosen]:
                    for drule in pack.datelines:
                        if drule.selected_only and pack not in chosen:
                            continue
                        m = run.try_start(drule, pack.max_share)
                        if m:
                            groups = m.groupdict()
                            dateline = {"location": groups.get("location"), "date_text": groups.get("date")}
                            found = pack
                            if pack not in active:
                                active.insert(len(chosen), pack)
                                chosen.append(pack)
                            fired = True
                            break
                    if dateline is not None:
                        break
            if not fired:
                break
        return dateline, found

    def _bottom(self, run: TextRun, active: list[Pack]) -> None:
        """End rules from the bottom up while any fires."""
        ends = [(rule, rule_share(rule, pack)) for pack in active for rule in pack.rules if rule.where == "end"]
        markers = [(rule, share) for rule, share in ends if rule.cuts_tail]
        for _ in range(40):
            if any(run.try_end(rule, share) for rule, share in ends):
                continue
            if not any(run.try_marker(rule, share) for rule, share in markers):
                break

    def run_rule(self, rule_name: str, raw: str) -> CleanResult:
        """Apply one rule (or one pack's dateline) alone: what the rule examples in the packs check."""
        pack_id = rule_name.split(".", 1)[0]
        pack = self.pack(pack_id)
        run = TextRun(to_paragraphs(raw), self.max_share, self.share_floor)
        dateline = None
        if rule_name == f"{pack_id}.dateline":
            for drule in pack.datelines:
                m = run.try_start(drule, pack.max_share)
                if m:
                    dateline = {"location": m.group("location"), "date_text": m.groupdict().get("date")}
                    break
        else:
            rule = next(r for r in pack.rules if r.name == rule_name)
            share = rule_share(rule, pack)
            if rule.where == "end":
                while run.try_end(rule, share) or (rule.cuts_tail and run.try_marker(rule, share)):
                    pass
            elif rule.where == "start":
                run.try_start(rule, share)
            else:
                run.try_lines(rule, share)
        return CleanResult("\n\n".join(run.paras), dateline, pack.agency, run.authors, run.removed, run.refused)


def content_hash(title: str, text: str) -> str:
    return hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()


def clean_article(article: Article, cleaner: Cleaner) -> Article:
    """A copy of the article with text, dateline, agency, authors, cleaning audit and content hash filled."""
    raw = article.content_html or article.summary_html
    result = cleaner.clean(raw, agency=article.agency, domain=article.source_domain or None, title=article.title)
    for refused in result.refused:
        log.warning("article %s: rule %s refused by the safety check: %r", article.id, refused.rule, refused.text[:120])
    return replace(
        article,
        text=result.text,
        dateline=result.dateline,
        agency=article.agency or result.agency,
        authors=list(article.authors) if article.authors else list(result.authors),
        cleaning={"rules": list(dict.fromkeys(r.rule for r in result.removed)), "removed_chars": result.removed_chars},
        content_hash=content_hash(article.title, result.text),
    )


