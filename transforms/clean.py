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
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import apache_beam as beam

from transforms.article import Article
from transforms.clean_rules import DatelineRule, Pack, Rule, load_packs
from transforms.html_text import normalise_text, to_paragraphs

log = logging.getLogger(__name__)

DEFAULT_MAX_SHARE = 0.4
# Removals up to this many characters pass the share check even on a short summary,
# where a footer alone can be half the text.
DEFAULT_SHARE_FLOOR = 150
# Characters after which a sentence (and so a removable trailer) may start.
_SENTENCE_END = frozenset(".!?\"'\u201d\u2019)]:;\u2026>|*")
_SENTENCE_CLOSE = (".", "!", "?", '."', ".\u201d", '?"', "?\u201d", '!"', "!\u201d")
_HEAD_TAIL_CHARS = 400
# End rules look only at the last characters of a paragraph: trailers are short, and an
# end-anchored search over a huge paragraph could otherwise cost quadratic time.
END_WINDOW = 1200
# After an end marker, at most this many lines of at most this length are taken as furniture.
MAX_TAIL_LINES = 6
MAX_TAIL_LINE_CHARS = 160
HEADLINE_RULE = "headline"  # not a pack rule: the body's first paragraph repeating the title


@dataclass
class Removal:
    rule: str
    text: str


@dataclass
class CleanResult:
    text: str  # paragraphs separated by "\n\n"
    dateline: dict[str, str | None] | None  # {"location": ..., "date_text": ...}
    agency: str | None
    authors: list[str] = field(default_factory=list)
    removed: list[Removal] = field(default_factory=list)
    refused: list[Removal] = field(default_factory=list)  # matched, but refused by the safety check

    def to_json(self) -> dict[str, Any]:
        """The `wirenews clean` output."""
        return {
            "text": self.text,
            "dateline": self.dateline,
            "agency": self.agency,
            "authors": list(self.authors),
            "removed": [{"rule": r.rule, "text": r.text} for r in self.removed],
        }

    @property
    def removed_chars(self) -> int:
        return sum(len(r.text) for r in self.removed)


_NAME_SPLIT_RE = re.compile(r"\s*(?:,\s*and\s+|,\s*|\s+and\s+|\s*;\s*|\s*&\s*)")
_NAME_TAIL_RE = re.compile(r"\s+(?:in|from|at)\s+[A-Z].*$")


def split_names(text: str) -> list[str]:
    """'JANE DOE and Li Wei in Beijing' -> ['Jane Doe', 'Li Wei']."""
    names = []
    for part in _NAME_SPLIT_RE.split(text.strip().rstrip(".")):
        part = _NAME_TAIL_RE.sub("", part).strip(" .,")
        if not part or not part[0].isupper():
            continue
        if part.isupper():
            part = " ".join(w.capitalize() if len(w) > 2 or "." not in w else w for w in part.split())
        names.append(part)
    return names


class _Run:
    """The mutable state of cleaning one text: its paragraphs and the audit so far."""

    def __init__(self, paragraphs: list[str], default_share: float, floor: int = DEFAULT_SHARE_FLOOR) -> None:
        self.paras = paragraphs
        self.total = max(1, len("\n\n".join(paragraphs)))
        self.default_share = default_share
        self.floor = floor
        self.removed: list[Removal] = []
        self.refused: list[Removal] = []
        self.authors: list[str] = []

    def _share_ok(self, rule_name: str, share: float | None, text: str) -> bool:
        limit = self.default_share if share is None else share
        if len(text) > max(limit * self.total, self.floor):
            self._refuse(rule_name, text, f"would remove {len(text)} of {self.total} chars (limit {limit:.0%})")
            return False
        return True

    def _refuse(self, rule_name: str, text: str, why: str) -> None:
        self.refused.append(Removal(rule_name, text))
        log.info("refused %s: %s: %r", rule_name, why, text[:80])

    def _take_authors(self, match: re.Match[str]) -> None:
        if "authors" in match.re.groupindex and match.group("authors"):
            for name in split_names(match.group("authors")):
                if name not in self.authors:
                    self.authors.append(name)

    def try_end(self, rule: Rule, share: float | None) -> bool:
        if not self.paras:
            return False
        para = self.paras[-1]
        m = rule.regex.search(para, max(0, len(para) - END_WINDOW))
        if not m:
            return False
        start = m.start()
        before = para[:start].rstrip()
        cut = para[start:]
        if before and before[-1] not in _SENTENCE_END:
            self._refuse(rule.name, cut, "would cut into the middle of a paragraph")
            return False
        if not self._share_ok(rule.name, share, cut):
            return False
        self._take_authors(m)
        self.removed.append(Removal(rule.name, cut.strip()))
        if before:
            self.paras[-1] = before
        else:
            self.paras.pop()
        return True

    def try_start(self, rule: Rule | DatelineRule, share: float | None) -> re.Match[str] | None:
        if not self.paras:
            return None
        para = self.paras[0]
        m = rule.regex.match(para)
        if not m or m.end() == 0:
            return None
        end = m.end()
        cut = para[:end]
        if end < len(para) and para[end - 1].isalnum() and para[end].isalnum():
            self._refuse(rule.name, cut, "would split a word")
            return None
        if not self._share_ok(rule.name, share, cut):
            return None
        self._take_authors(m)
        self.removed.append(Removal(rule.name, cut.strip()))
        rest = para[end:].strip()
        if rest:
            self.paras[0] = rest
        else:
            self.paras.pop(0)
        return m

    def try_marker(self, rule: Rule, share: float | None) -> bool:
        """An end marker (`cuts_tail`) with a few short lines after it: the marker ends the story, so they go too."""
        for i in range(len(self.paras) - 2, max(-1, len(self.paras) - 2 - MAX_TAIL_LINES), -1):
            tail = self.paras[i + 1 :]
            # Furniture is short and is not a sentence; a short closing sentence of the story is kept.
            if any(len(p) > MAX_TAIL_LINE_CHARS or p.endswith(_SENTENCE_CLOSE) for p in tail):
                return False
            m = rule.regex.search(self.paras[i], max(0, len(self.paras[i]) - END_WINDOW))
            if not m:
                continue
            before = self.paras[i][: m.start()].rstrip()
            if before and before[-1] not in _SENTENCE_END:
                continue
            cut = "\n\n".join([self.paras[i][m.start() :].strip(), *tail])
            if not self._share_ok(rule.name, share, cut):
                return False
            self.removed.append(Removal(rule.name, cut))
            self.paras[i:] = [before] if before else []
            return True
        return False

    def try_headline(self, heading: str) -> bool:
        """A first paragraph that only repeats the headline (NITF and some portals print it once or twice).

        Without a title, a short first line said twice (NITF's hl1 and hl2), in one paragraph or two,
        is taken for the headline: reporting never reads that way.
        """
        if not self.paras:
            return False
        para = self.paras[0]
        if len(self.paras) > 1 and para == self.paras[1] and 10 <= len(para) <= 200:
            self.removed.append(Removal(HEADLINE_RULE, f"{para}\n\n{para}"))
            del self.paras[:2]
            return True
        h = len(para) // 2
        doubled = 21 <= len(para) <= 400 and para[h] == " " and para[:h] == para[h + 1 :]
        repeats_title = bool(heading) and para.casefold() in (heading.casefold(), f"{heading} {heading}".casefold())
        if not (doubled or repeats_title):
            return False
        self.removed.append(Removal(HEADLINE_RULE, para))
        self.paras.pop(0)
        return True

    def try_lines(self, rule: Rule, share: float | None) -> bool:
        fired = False
        kept = []
        for para in self.paras:
            m = rule.regex.fullmatch(para)
            if m and self._share_ok(rule.name, share, para):
                self._take_authors(m)
                self.removed.append(Removal(rule.name, para))
                fired = True
            else:
                kept.append(para)
        self.paras = kept
        return fired


def _share(rule: Rule, pack: Pack) -> float | None:
    return rule.max_share if rule.max_share is not None else pack.max_share


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
        run = _Run(paragraphs, self.max_share, self.share_floor)
        active = chosen + self.generic
        dateline, dateline_pack = self._top(run, active, chosen, title)
        for pack in active:
            for rule in pack.rules:
                if rule.where == "line":
                    run.try_lines(rule, _share(rule, pack))
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
        self, run: _Run, active: list[Pack], chosen: list[Pack], title: str | None = None
    ) -> tuple[dict[str, str | None] | None, Pack | None]:
        """Start rules, the repeated headline and the dateline, again while something fires at the top."""
        dateline: dict[str, str | None] | None = None
        found: Pack | None = None
        heading = normalise_text(title) if title else ""
        for _ in range(6):
            fired = run.try_headline(heading)
            for pack in active:
                for rule in pack.rules:
                    if rule.where == "start" and run.try_start(rule, _share(rule, pack)):
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

    def _bottom(self, run: _Run, active: list[Pack]) -> None:
        """End rules from the bottom up while any fires."""
        ends = [(rule, _share(rule, pack)) for pack in active for rule in pack.rules if rule.where == "end"]
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
        run = _Run(to_paragraphs(raw), self.max_share, self.share_floor)
        dateline = None
        if rule_name == f"{pack_id}.dateline":
            for drule in pack.datelines:
                m = run.try_start(drule, pack.max_share)
                if m:
                    dateline = {"location": m.group("location"), "date_text": m.groupdict().get("date")}
                    break
        else:
            rule = next(r for r in pack.rules if r.name == rule_name)
            share = _share(rule, pack)
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


class CleanArticles(beam.DoFn):
    """Beam wrapper: the Cleaner is built once per worker in setup()."""

    def __init__(self, rules_dir: str | Path | None = None) -> None:
        self.rules_dir = rules_dir
        self.cleaner: Cleaner | None = None

    def setup(self) -> None:
        self.cleaner = Cleaner.from_dir(self.rules_dir)

    def process(self, article: Article) -> Iterator[Article]:
        assert self.cleaner is not None
        yield clean_article(article, self.cleaner)
