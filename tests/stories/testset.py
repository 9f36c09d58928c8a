"""The story-clustering test set: written wire stories, the portal copies made from them, and look-alikes.

Base stories are in data/stories.yaml (written) and data/templated.yaml (rows rendered with the agencies'
templates). Copies are made with the edits portals make, drawn from a seeded generator so the set is the same
on every machine: a portal footer or a (truncated) end marker added, the last paragraph cut, a new headline or
an ``UPDATE 1-`` prefix, the dateline added in front, paragraphs merged or split, mojibake (the body decoded
with the wrong charset, repaired again by the clean stage), an update paragraph appended. Every item is then
cleaned by the real clean stage, and the clustering sees only the cleaned body.
"""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import yaml

from transforms.article import Article
from transforms.cleaning import Cleaner, clean_article

DATA = Path(__file__).parent / "data"
SEED = 23

# Footers as portals add them: agency end markers (whole and truncated), forum and share lines, credits.
FOOTERS = [
    "Enditem", "Endi", "(END)", "-- END --", "###", "Go to Forum >>0 Comment(s)",
    "Share | Print | E-mail", "Source: Xinhua | Editor: Wang Li",
    "\u00a9 2024 The Daily Globe. All rights reserved.", "Copyright 2024 Capital Post Media. All rights reserved.",
    "Read more: Markets brace for a busy week of central bank meetings",
    "Sign up for our morning newsletter to get the top stories in your inbox.",
]
PORTALS = ["dailyglobe.example", "capitalpost.example", "chinaportal.example", "newsnow.example",
           "metrotimes.example", "worlddesk.example"]
# Paragraphs a later version adds, per family (the same wording is reused by sister stories on purpose:
# an appended update must not glue two different stories together).
UPDATES = {
    "us-congress": "Later in the day, the White House press secretary said the administration would review "
                   "the measure and respond in the coming days.",
    "beijing-diplomacy": "The two sides also exchanged views on regional and international issues of common "
                         "concern, according to a statement released after the meeting.",
    "beijing-data": "An NBS spokesperson said the national economy sustained a momentum of recovery, though "
                    "the external environment remained complex and severe.",
    "berlin-politics": "A government spokesperson declined to comment on the details when asked at a regular "
                       "news conference on Friday.",
    "seoul-missiles": "The U.S. Indo-Pacific Command said the launch did not pose an immediate threat to U.S. "
                      "personnel or territory, or to its allies.",
    "delhi-parliament": "Both Houses are scheduled to meet again on Tuesday morning, officials said.",
    "tokyo-policy": "Finance Minister Katsunobu Kato told reporters the government would seek the opposition's "
                    "cooperation for swift passage.",
    "markets-europe": "The euro was flat against the dollar at $1.0925, while German 10-year Bund yields rose "
                      "two basis points.",
    "markets-oil": "Investors will also be watching the Fed's next policy statement for signals on demand.",
    "quakes": "Aftershocks were felt in the area for several hours, residents said.",
    "health": "The report was released ahead of a meeting of health ministers in Geneva next week.",
    "science": "A second launch attempt had been scheduled for Wednesday in case of further delays.",
    "earnings": "The company also said its board approved a quarterly dividend payable next month.",
    "results": "The teams meet again in the FA Cup third round next month.",
    "weather": "Forecasts are provided by the national meteorological services.",
}


@dataclass(frozen=True)
class Story:
    key: str
    family: str
    split: str
    agency: str
    dateline: str
    title: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Item:
    """One article as a feed would deliver it."""

    id: str
    story: str  # the key of the story it is a copy of (the truth)
    family: str
    title: str
    raw: str
    agency: str | None
    domain: str
    edits: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def stories() -> tuple[Story, ...]:
    written = yaml.safe_load((DATA / "stories.yaml").read_text(encoding="utf-8"))["stories"]
    out = [Story(s["key"], s["family"], s["split"], s["agency"], s["dateline"], s["title"], tuple(s["paragraphs"]))
           for s in written]
    templated = yaml.safe_load((DATA / "templated.yaml").read_text(encoding="utf-8"))
    out += [_earnings(r) for r in templated["earnings"]]
    out += [_result(r) for r in templated["results"]]
    out += [_weather(d, templated["weather"]["cities"]) for d in templated["weather"]["days"]]
    return tuple(out)


def _earnings(r: dict) -> Story:
    verb = "surpassed" if r["beat"] == "surpassed" else "fell short of"
    paras = [
        f"{r['company']} ({r['ticker']}) on {r['day']} reported {r['quarter']}-quarter net income of "
        f"${r['income']}.",
        f"On a per-share basis, the {r['hq']}-based company said it had profit of {r['eps']}.",
        f"The results {verb} Wall Street expectations. The average estimate of {r['analysts']} analysts surveyed "
        f"by Zacks Investment Research was for earnings of {r['est']} per share.",
        f"{r['what']} posted revenue of ${r['revenue']} in the period, which also {verb} Street forecasts. "
        f"{r['rev_analysts']} analysts surveyed by Zacks expected ${r['rev_est']}.",
        f"{r['company'].split()[0]} shares have {r['shares']} since the beginning of the year. In the final minutes "
        f"of trading on {r['day']}, shares hit {r['price']}, a {r['year_move']} in the last 12 months.",
        "This story was generated by Automated Insights using data from Zacks Investment Research. "
        f"Access a Zacks stock report on {r['ticker']}.",
    ]
    title = f"{r['company'].split(' Inc.')[0].split(' Corp.')[0].split(' Co.')[0]}: {r['quarter'].capitalize()} " \
            f"quarter earnings snapshot"
    return Story(r["key"], "earnings", r["split"], "ap", f"{r['city']} (AP) \u2014", title, tuple(paras))


def _result(r: dict) -> Story:
    if r["hs"] > r["as"]:
        verb, winner, loser, ws, ls = "beat", r["home"], r["away"], r["hs"], r["as"]
    elif r["hs"] < r["as"]:
        verb, winner, loser, ws, ls = "won at", r["away"], r["home"], r["as"], r["hs"]
    else:
        verb, winner, loser, ws, ls = "drew with", r["home"], r["away"], r["hs"], r["as"]
    paras = [f"{winner} {verb} {loser} {ws}-{ls} in the {r['league']} on {r['day']}, with {r['hero']} scoring "
             f"{r['goals']} in front of a crowd of {r['crowd']}."]
    paras.append(f"{r['hero']} struck in the {r['minutes']} minute"
                 f"{'s' if ' and ' in r['minutes'] else ''} to take his tally for the season to "
                 f"{7 + len(r['hero']) % 6} goals.")
    if r["other_min"]:
        paras.append(f"{r['other']} added another in the {r['other_min']}th minute.")
    if r["away_min"]:
        paras.append(f"{r['away_scorer']} had pulled one back for the visitors in the {r['away_min']}th minute.")
    paras.append(f"The result leaves {r['home']} {r['place']} in the table with {r['points']} points.")
    return Story(r["key"], "results", r["split"], "ap", f"{r['city']} (AP) \u2014",
                 f"{r['home']} {r['hs']}, {r['away']} {r['as']}", tuple(paras))


def _weather(d: dict, cities: list[str]) -> Story:
    rng = random.Random(f"{SEED}-{d['key']}")
    conditions = ["sunny", "cloudy", "overcast", "light rain", "showers", "fog", "snow", "thunderstorms"]
    rows = []
    for city in cities:
        low = rng.randint(-8, 22)
        rows.append(f"{city}: {rng.choice(conditions)}, {low}/{low + rng.randint(3, 12)}")
    paras = [f"The following are the weather forecasts for major world cities for {d['date']} (Celsius, low/high):"]
    paras += ["\n".join(rows[i:i + 6]) for i in range(0, len(rows), 6)]
    return Story(d["key"], "weather", d["split"], "xinhua", f"BEIJING, {d['date']} (Xinhua) --",
                 f"World weather forecast for {d['date']}", tuple(paras))


# --- the edits -----------------------------------------------------------------------------------------------

def _footer(paras: list[str], story: Story, rng: random.Random) -> list[str]:
    return paras + [rng.choice(FOOTERS)]


def _cut_last(paras: list[str], story: Story, rng: random.Random) -> list[str]:
    return paras[:-1] if len(paras) >= 4 else paras


def _truncate(paras: list[str], story: Story, rng: random.Random) -> list[str]:
    """A portal that shows the first part only (more than the issue's one paragraph: a harder case)."""
    return paras[:max(2, round(len(paras) * 0.6))]


def _dateline(paras: list[str], story: Story, rng: random.Random) -> list[str]:
    return [f"{story.dateline} {paras[0]}"] + paras[1:]


def _merge(paras: list[str], story: Story, rng: random.Random) -> list[str]:
    if len(paras) < 2:
        return paras
    i = rng.randrange(len(paras) - 1)
    return paras[:i] + [paras[i] + " " + paras[i + 1]] + paras[i + 2:]


def _split(paras: list[str], story: Story, rng: random.Random) -> list[str]:
    for i in rng.sample(range(len(paras)), len(paras)):
        cut = [m.end() for m in re.finditer(r"[.!?][\"\u201d]? (?=[A-Z\"\u201c])", paras[i])]
        if cut:
            at = rng.choice(cut)
            return paras[:i] + [paras[i][:at].strip(), paras[i][at:].strip()] + paras[i + 1:]
    return paras


def _mojibake(paras: list[str], story: Story, rng: random.Random) -> list[str]:
    def bake(text: str) -> str:
        return text.encode("utf-8").decode("windows-1252", errors="replace").replace("\ufffd", "\u00bf")
    return [bake(p) for p in paras]


def _update(paras: list[str], story: Story, rng: random.Random) -> list[str]:
    return paras + [UPDATES[story.family]]


BODY_EDITS = {"footer": _footer, "cut_last": _cut_last, "truncate": _truncate, "dateline": _dateline, "merge": _merge,
              "split": _split,
              "mojibake": _mojibake, "update": _update}
TITLE_EDITS = ("new_headline", "update_prefix")


def copies(story: Story, rng: random.Random, n: int) -> list[Item]:
    """``n`` portal copies of one story, each with one to four edits."""
    out = []
    for i in range(n):
        edits = rng.sample(sorted(BODY_EDITS) + list(TITLE_EDITS), rng.randint(1, 4))
        paras = list(story.paragraphs)
        # Edits apply in a portal's order: cut, then add, then reformat, then the charset.
        for name in ("truncate", "cut_last", "update", "dateline", "merge", "split", "footer", "mojibake"):
            if name in edits:
                paras = BODY_EDITS[name](paras, story, rng)
        title = story.title
        if "update_prefix" in edits:
            title = f"UPDATE {rng.randint(1, 3)}-{title}"
        if "new_headline" in edits:
            title = f"{story.title.split(',')[0]} — what we know"
        portal = PORTALS[(i + len(story.key)) % len(PORTALS)]
        html = rng.random() < 0.5
        raw = "".join(f"<p>{p}</p>" for p in paras) if html else "\n\n".join(paras)
        out.append(Item(f"{story.key}~{portal}~{i}", story.key, story.family, title, raw, None, portal,
                        tuple(sorted(edits))))
    return out


def original(story: Story) -> Item:
    raw = "\n\n".join([f"{story.dateline} {story.paragraphs[0]}", *story.paragraphs[1:]])
    return Item(f"{story.key}~wire", story.key, story.family, story.title, raw, story.agency,
                f"{story.agency}.example")


def items(split: str, seed: int = SEED, per_story: int = 5) -> list[Item]:
    """Every item of one split (``dev`` or ``held``), originals and copies, in a seeded arrival order."""
    rng = random.Random(f"{seed}-{split}")
    out: list[Item] = []
    for story in stories():
        if story.split != split:
            continue
        out.append(original(story))
        out += copies(story, rng, per_story)
    rng.shuffle(out)
    return out


def cleaned(split: str, seed: int = SEED) -> list[tuple[Item, str]]:
    """Items with the body the clean stage makes of them."""
    cleaner = Cleaner.from_dir()
    out = []
    for item in items(split, seed):
        art = Article(id=item.id, guid=item.id, url="", canonical_url="", title=item.title, content_html=item.raw,
                      agency=item.agency, source_domain=item.domain)
        out.append((item, clean_article(art, cleaner).text))
    return out


def true_pairs(its: list[Item]) -> set[tuple[str, str]]:
    return {tuple(sorted((a.id, b.id))) for a, b in itertools.combinations(its, 2) if a.story == b.story}


def pair_scores(its: list[Item], story_of: dict[str, str]) -> tuple[float, float, int, int, int]:
    """Pair precision, recall, true positives, false positives, false negatives."""
    truth = true_pairs(its)
    predicted = {tuple(sorted((a.id, b.id))) for a, b in itertools.combinations(its, 2)
                 if story_of[a.id] == story_of[b.id]}
    tp = len(truth & predicted)
    fp = len(predicted - truth)
    fn = len(truth - predicted)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, tp, fp, fn


def with_story(item: Item, story: str) -> Item:
    return replace(item, story=story)
