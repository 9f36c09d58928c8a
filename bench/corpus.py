"""A seeded corpus of generated wire stories, written as feed files for the benchmarks.

Why generated: the figures must be reproducible anywhere and no real article may be copied. The
stories are built from the templates below (real public names, places and organisations, so the
entity model has real work to do) with the furniture the cleaner exists for: agency datelines,
Xinhua's ``Enditem``/``Endi``, portal footers (``Go to Forum >>0 Comment(s)``), Reuters credit lines,
AP contributor lines, Yonhap's ``(END)``, AFP initials.

    python bench/corpus.py --articles 2000 --feeds 50 --seed 7 --out /tmp/wirenews-corpus [--copies 0.2]

``--copies`` makes that share of the stories portal copies of an earlier story of another feed (its
body with one paragraph merged into the next, the last paragraph sometimes cut, the carrier's own
trailer), for the story clustering; the default (none) keeps, byte for byte, the corpus the earlier
figures were measured on (copies draw from a generator of their own).
"""

from __future__ import annotations

import argparse
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape
from pathlib import Path

PEOPLE = [
    "Xi Jinping", "Antonio Guterres", "Emmanuel Macron", "Narendra Modi", "Luiz Inacio Lula da Silva",
    "Cyril Ramaphosa", "Kristalina Georgieva", "Tedros Adhanom Ghebreyesus", "Ursula von der Leyen",
    "Recep Tayyip Erdogan", "Jerome Powell", "Christine Lagarde", "Kassym-Jomart Tokayev", "William Ruto",
    "Claudia Sheinbaum", "Anthony Albanese", "Prabowo Subianto", "Li Qiang", "Wang Yi", "Keir Starmer",
    "Friedrich Merz", "Giorgia Meloni", "Pedro Sanchez", "Javier Milei", "Bola Tinubu", "Abiy Ahmed",
    "Shehbaz Sharif", "Anwar Ibrahim", "Ngozi Okonjo-Iweala", "Kazuo Ueda", "Mark Rutte", "Volker Turk",
]  # fmt: skip
COUNTRIES = [
    "China", "France", "India", "Brazil", "South Africa", "Germany", "Turkey", "Kazakhstan", "Kenya", "Mexico",
    "Australia", "Indonesia", "Britain", "Italy", "Spain", "Argentina", "Nigeria", "Ethiopia", "Pakistan",
    "Malaysia", "Japan", "Egypt", "Vietnam", "Chile", "Canada", "Poland", "Norway", "Peru", "Thailand",
]  # fmt: skip
CITIES = [
    "Beijing", "Paris", "New Delhi", "Brasilia", "Pretoria", "Berlin", "Ankara", "Astana", "Nairobi",
    "Mexico City", "Canberra", "Jakarta", "London", "Rome", "Madrid", "Buenos Aires", "Abuja", "Addis Ababa",
    "Islamabad", "Kuala Lumpur", "Tokyo", "Cairo", "Hanoi", "Santiago", "Ottawa", "Warsaw", "Oslo", "Geneva",
]  # fmt: skip
ORGS = [
    "the United Nations", "the World Health Organization", "the International Monetary Fund", "the World Bank",
    "the European Union", "the African Union", "NATO", "the World Trade Organization", "the Red Cross",
    "the Shanghai Cooperation Organization", "the Asian Development Bank", "the European Central Bank",
    "the Federal Reserve", "ASEAN", "the G20", "the International Energy Agency", "UNICEF", "Greenpeace",
]  # fmt: skip
NORPS = ["Chinese", "French", "Indian", "Brazilian", "German", "Turkish", "Kenyan", "Mexican", "Japanese",
         "Egyptian", "Nigerian", "Italian", "Spanish", "Australian", "Indonesian", "Canadian"]
TOPICS = ["energy security", "food prices", "public debt", "climate finance", "port investment", "rail links",
          "vaccine supply", "water management", "digital trade", "fisheries", "grain exports", "refugee aid",
          "interest rates", "green hydrogen", "copper mining", "tourism", "the drought", "cross-border power grids"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
SENTENCES = [
    "{person} said on {weekday} that {country} was ready to deepen cooperation with {country2} on {topic}.",
    "Speaking in {city}, {person} told reporters that talks with {org} had made steady progress.",
    "{norp} officials met their counterparts from {country2} to discuss {topic} and trade.",
    "The agreement, signed in {city}, covers {n} projects worth about {n2} million dollars.",
    "{org} said {topic} had become more pressing since {month}, and that {country} needed more support.",
    "Analysts in {city} expect growth of {n} percent next year, while {surname} urged caution.",
    "Hundreds of people gathered outside the parliament in {city} on {weekday}, demanding action on {topic}.",
    "{surname} later flew to {city2}, where {org} is holding its annual meeting.",
    "A spokesperson for {org} said the body would publish its assessment of {topic} in {month}.",
    "{country} and {country2} have traded accusations over {topic} for several years.",
    "According to figures released by {org}, exports from {country} rose {n} percent in the first nine months.",
    "{person}, who arrived in {city} on {weekday}, is expected to meet business leaders before leaving for "
    "{city2}.",
    "The {norp} government has pledged {n2} million dollars to a fund managed by {org}.",
    "Officials in {city2} said the measures would take effect next month and be reviewed after a year.",
    "{surname} said the two sides had agreed to set up a working group on {topic}.",
    "Markets in {city} reacted calmly, with the main index closing {n} points higher.",
    "Critics say the plan does too little for farmers and small companies in the north of {country}.",
    "The visit is the first by a {norp} leader to {country2} in {n} years.",
]  # fmt: skip
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
TITLES = [
    "{surname} meets {norp} leaders on {topic}", "{country} and {country2} agree to expand {topic} cooperation",
    "{org} warns of risks to {topic} in {country}", "{surname} visits {city} as talks on {topic} resume",
    "{norp} firms eye {topic} deals in {country2}", "Protests in {city} over {topic}",
]  # fmt: skip


@dataclass(frozen=True)
class Agency:
    """How one agency opens and closes a story."""

    name: str
    domain: str
    source: str

    def dateline(self, city: str, when: datetime) -> str:
        place = city.upper()
        short = when.strftime("%b")
        if self.name in ("xinhua", "chinaportal"):
            return f"{place}, {short}. {when.day} (Xinhua) -- "
        if self.name == "reuters":
            return f"{place}, {short} {when.day} (Reuters) - "
        if self.name == "ap":
            return f"{place} (AP) \u2014 "
        if self.name == "afp":
            return f"{city} (AFP) - "
        return f"{place}, {short}. {when.day} (Yonhap) -- "

    def trailer(self, rng: random.Random, person: str) -> tuple[str, list[str]]:
        """(text appended to the last paragraph, paragraphs after it)."""
        other = rng.choice(PEOPLE).split()[-1]
        if self.name == "xinhua":
            return " Enditem", []
        if self.name == "chinaportal":
            share = ["Share | Print | E-mail"] if rng.random() < 0.5 else []
            return " Endi", ["Go to Forum &gt;&gt;0 Comment(s)", *share]
        if self.name == "reuters":
            return "", [f"(Reporting by {person.split()[0]} {other}; Editing by {rng.choice(PEOPLE)})"]
        if self.name == "ap":
            return "", ["___", f"Associated Press writer {person.split()[0]} {other} in {rng.choice(CITIES)} "
                               "contributed to this report."]
        if self.name == "afp":
            return "", [f"{other[:2].lower()}-{person[:3].lower()}/{other[-2:].lower()}"]
        return "", [f"{other.lower()}@yna.co.kr", "(END)"]


AGENCIES = [
    Agency("xinhua", "english.news.example.cn", "Xinhua World"),
    Agency("chinaportal", "english.chinaportal.example.net", "China Portal"),
    Agency("reuters", "wire.example.com", "Reuters Wire"),
    Agency("ap", "apnews.example.org", "AP News"),
    Agency("afp", "afp.example.fr", "AFP"),
    Agency("yonhap", "en.yna.example.kr", "Yonhap"),
]
BASE_TIME = datetime(2026, 11, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Story:
    guid: str
    title: str
    html: str
    published: datetime
    words: int


@dataclass(frozen=True)
class FeedFile:
    """One generated feed: its config entry and its bytes.

    ``site`` is the publisher of ``AGENCIES`` it comes from, which decides its host; ``agency`` is the
    config's agency, the rule pack the cleaner applies (the China portal carries Xinhua's copy).
    """

    name: str
    agency: str
    filename: str
    stories: tuple[Story, ...]
    site: str

    def render(self) -> bytes:
        items = "".join(
            f"<item><title>{escape(s.title)}</title><link>{escape(s.guid)}</link>"
            f'<guid isPermaLink="true">{escape(s.guid)}</guid><pubDate>{format_datetime(s.published, usegmt=True)}'
            f"</pubDate><description><![CDATA[{s.html}]]></description></item>"
            for s in self.stories)
        return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{self.name}</title>'
                f"<link>http://{self.name}.example/</link><description>Generated wire stories</description>"
                f"<language>en</language>{items}</channel></rss>").encode()


def _slots(rng: random.Random) -> dict[str, object]:
    person = rng.choice(PEOPLE)
    country, country2 = rng.sample(COUNTRIES, 2)
    city, city2 = rng.sample(CITIES, 2)
    return {"person": person, "surname": person.split()[-1], "country": country, "country2": country2,
            "city": city, "city2": city2, "org": rng.choice(ORGS), "norp": rng.choice(NORPS),
            "topic": rng.choice(TOPICS)}


def _fill(rng: random.Random, template: str, slots: dict[str, object]) -> str:
    extra = {"weekday": rng.choice(WEEKDAYS), "month": rng.choice(MONTHS), "n": rng.randint(2, 40),
             "n2": rng.randint(10, 900)}
    text = template.format(**slots, **extra)
    return text[0].upper() + text[1:]


def make_story(rng: random.Random, agency: Agency, index: int, words: int = 400) -> Story:
    """One story of about ``words`` words, as the HTML an agency feed carries."""
    slots = _slots(rng)
    published = BASE_TIME + timedelta(minutes=index * 7 + rng.randint(0, 6))
    paragraphs: list[str] = []
    count = 0
    while count < words:
        para = " ".join(_fill(rng, rng.choice(SENTENCES), slots) for _ in range(rng.randint(2, 3)))
        count += len(para.split())
        paragraphs.append(para)
    paragraphs[0] = agency.dateline(str(slots["city"]), published) + paragraphs[0]
    tail, after = agency.trailer(rng, str(slots["person"]))
    paragraphs[-1] += tail
    html = "".join(f"<p>{escape(p, quote=False) if '&gt;' not in p else p}</p>" for p in paragraphs + after)
    title = _fill(rng, rng.choice(TITLES), slots)
    guid = f"http://{agency.domain}/{published:%Y-%m/%d}/story-{index:06d}.htm"
    return Story(guid, title, html, published, count)


def make_copy(rng: random.Random, original: Story, carrier: Agency, index: int) -> Story:
    """A portal's copy of ``original``: paragraphs merged, perhaps the last cut, the carrier's trailer."""
    paragraphs = re.findall(r"<p>(.*?)</p>", original.html, flags=re.S)
    if len(paragraphs) > 3:
        i = rng.randrange(len(paragraphs) - 2)
        paragraphs[i:i + 2] = [paragraphs[i] + " " + paragraphs[i + 1]]
        if rng.random() < 0.5:
            paragraphs = paragraphs[:-1]
    tail, after = carrier.trailer(rng, rng.choice(PEOPLE))
    # The carrier's end marker goes on a line of its own: the original may end in its own trailer.
    ending = [tail.strip()] if tail.strip() else []
    html = "".join(f"<p>{p}</p>" for p in paragraphs + ending + [escape(a, quote=False) for a in after])
    published = original.published + timedelta(minutes=rng.randint(5, 240))
    guid = f"http://{carrier.domain}/{published:%Y-%m/%d}/copy-{index:06d}.htm"
    title = original.title if rng.random() < 0.5 else f"UPDATE 1-{original.title}"
    return Story(guid, title, html, published, original.words)


def generate(articles: int = 2000, feeds: int = 50, seed: int = 7, copies: float = 0.0) -> list[FeedFile]:
    """``articles`` stories spread round-robin over ``feeds`` feeds; the same for the same arguments.

    ``copies``: the share of them that are portal copies of an earlier story of another feed.
    """
    rng = random.Random(seed)
    copy_rng = random.Random(f"{seed}-copies")
    per_feed: list[list[Story]] = [[] for _ in range(feeds)]
    made: list[tuple[int, Story]] = []
    for i in range(articles):
        agency = AGENCIES[(i % feeds) % len(AGENCIES)]
        others = [(f, s) for f, s in made[-200:] if f != i % feeds]
        if copies and others and copy_rng.random() < copies:
            _, original = copy_rng.choice(others)
            per_feed[i % feeds].append(make_copy(copy_rng, original, agency, i))
            continue
        story = make_story(rng, agency, i)
        made.append((i % feeds, story))
        per_feed[i % feeds].append(story)
    out = []
    for f, stories in enumerate(per_feed):
        agency = AGENCIES[f % len(AGENCIES)]
        name = f"{agency.name}-{f:02d}"
        out.append(FeedFile(name, "xinhua" if agency.name == "chinaportal" else agency.name, f"{name}.xml",
                            tuple(stories), agency.name))
    return out


def write_corpus(out_dir: Path, articles: int = 2000, feeds: int = 50, seed: int = 7,
                 copies: float = 0.0) -> list[FeedFile]:
    """Write the feed files into ``out_dir``; returns what was written (for the config)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = generate(articles, feeds, seed, copies)
    for feed in files:
        (out_dir / feed.filename).write_bytes(feed.render())
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--feeds", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--copies", type=float, default=0.0, help="share of stories that are portal copies")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    files = write_corpus(args.out, args.articles, args.feeds, args.seed, args.copies)
    words = sum(s.words for f in files for s in f.stories)
    size = sum((args.out / f.filename).stat().st_size for f in files)
    print(f"{args.articles} stories, {words / max(args.articles, 1):.0f} words on average, {len(files)} feeds, "
          f"{size / 1e6:.1f} MB in {args.out}")


if __name__ == "__main__":
    main()
