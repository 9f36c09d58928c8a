"""The model's spans to mentions: joined, trimmed to the name, typed by what the name's own words say.

Per text: spans of PERSON, ORG, GPE, LOC, NORP, FAC and EVENT (other pipelines' labels mapped onto them),
trimmed ("the UN's" -> "UN"), cut where the name stops ("Liverpool 2", "Oval on", "Aryna Sabalenka of
Belarus"), offices taken off ("Kremlin Spokesman" -> "Kremlin", "President Xi Jinping" -> "Xi Jinping"), a
known possessor split off ("Nepal's Department of Tourism"), and typed by a telling last word ("Mount Arafat",
"Optus Stadium"). Pure functions over spaCy docs and plain data, tested without Beam; ``resolve`` turns the
mentions into entities.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from transforms.entities.aliases import ENTITY_TYPES, Alias, AliasTable

if TYPE_CHECKING:  # pragma: no cover - typing only
    from spacy.tokens import Doc

KEPT_TYPES = ENTITY_TYPES
FACETS: dict[str, tuple[str, ...]] = {
    "person": ("PERSON",),
    "org": ("ORG",),
    "location": ("GPE", "LOC", "FAC"),
    "norp": ("NORP",),
    "event": ("EVENT",),
}
STATUS_TAGGED = "tagged"


_LEADING = re.compile(r"^(?:the\s+|(?:mr|mrs|ms|dr)\.?\s+)", re.IGNORECASE)
_TRAILING_POSSESSIVE = re.compile(r"['\u2019]s?$")
_EDGE_PUNCT = "\"'\u2018\u2019\u201c\u201d,;:!?()[]{}<>*-\u2013\u2014/\\ \t\n"
# A final period belongs to these: "U.S.", "D.C.", "Inc.", "Jr."
_KEEPS_PERIOD = re.compile(r"(?:\b[A-Za-z]\.)+$|\b(?:Inc|Corp|Co|Ltd|Jr|Sr|St|Bros)\.$")
_LETTER = re.compile(r"[^\W\d_]")
_NOT_NAMES = {"the", "a", "an", "this", "that"}
_RUNS_ON = re.compile(r"\s+[-\u2013\u2014]\s|:\s|\s*\(")
# Offices the model keeps inside a PERSON span ("Chair Jerome Powell"); royal titles stay part of the name.
_PERSON_TITLE = re.compile(
    r"^(?:(?:vice |deputy |prime |foreign |finance |defen[cs]e )?(?:president|minister|chancellor|premier|secretary)"
    r"|chair(?:man|woman)?|governor|senator|sen\.|rep\.|mayor|judge|justice|gen(?:eral|\.)|col\.|lt\.|ambassador"
    r"|spokes(?:man|woman|person)|director|ceo|chief)\s+",
    re.IGNORECASE,
)
# "Kazakh President Kassym-Jomart Tokayev" typed as an organisation: an office (after at most two words
# of nationality or place) followed by a capitalised name is that person.
_TITLED_NAME = re.compile(
    r"^(?:[A-Z][\w\-]*\s+){0,2}?(?:President|Prime Minister|(?:Foreign |Finance |Defen[cs]e )?Minister|Chancellor"
    r"|Premier|Secretary(?:-General)?|Governor|Senator|Mayor|Spokes(?:man|woman|person)|Ambassador)\s+"
    r"(?P<name>[A-Z][\w\-'\u2019]+(?:\s+[A-Z][\w\-'\u2019]+){1,3})$"
)
# An office the model keeps at the end of an organisation's span.
_TRAILING_OFFICE = re.compile(
    r"\s+(?:spokes(?:man|woman|person)|officials?|chief|aide|minister|secretary|source|sources)$", re.IGNORECASE
)
_MONTH_DAY = re.compile(r"^(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)[a-z]*\.?\s+\d")
# Where a name stops: a number after it ("Liverpool 2", "Barrick Gold 3.8%"), lower-case words at its end
# ("Oval on"), for a person "of" ("Aryna Sabalenka of Belarus").
_NUMBER_AFTER = re.compile(r"\s+\d")
_LOWER_TAIL = re.compile(r"(?:\s+[a-z][\w'\u2019\-]*)+$")
_OF = re.compile(r"\s+of\s+")
# "Nepal's Department of Tourism": the possessor is a name of its own when the alias table knows it.
_POSSESSOR = re.compile(r"^(.+?)['\u2019]s\s+(?=[A-Z])")
_ADMIN_UNIT = re.compile(r"[ \t]+(?:Prefecture|Province|Oblast|Governorate|County|Region|District|State)\b")
# The last word of a name says what it is: "Mount Arafat" and "Rio Negro River" are places, "Optus Stadium" a
# facility, whatever the model guessed.
_LOC_HEADS = {"river", "sea", "ocean", "mountains", "peninsula", "desert", "basin", "valley", "glacier", "strait"}
_FAC_HEADS = {"airport", "stadium", "arena", "palace", "bridge", "tower", "canal", "dam", "cathedral", "mosque",
              "museum", "station", "hospital", "prison"}
_HEAD_TYPES = {
    label: {**{w: "LOC" for w in _LOC_HEADS}, **{w: "FAC" for w in _FAC_HEADS}, "mount": "LOC", "mt": "LOC"}
    for label in ("GPE", "LOC", "FAC", "ORG", "PERSON")
}


def _head_word(text: str) -> str:
    words = text.casefold().replace(".", "").split()
    if words and words[0] in ("mount", "mt") and len(words) > 1:
        return words[0]
    return words[-1] if len(words) > 1 else ""


def _name_part(text: str, label: str, english: bool) -> str:
    """The name in a span the model ran on: cut at a number, lower-case words at the end (in English: French
    names end in them, "Nations unies"), a person's "of"."""
    if cut := _NUMBER_AFTER.search(text):
        text = text[: cut.start()]
    if english:
        text = _LOWER_TAIL.sub("", text)
    if label == "PERSON" and (cut := _OF.search(text)):
        text = text[: cut.start()]
    return text if len(_LETTER.findall(text)) >= 2 else ""


# Labels of other pipelines as the product's types (spaCy's French pipeline: PER, ORG, LOC, MISC).
LABELS = {"PER": "PERSON", "LOC": "GPE"}


@dataclass(frozen=True)
class Mention:
    """One trimmed entity span: in the title (offset into the title) or the body; ``end`` is where it stops.
    ``override`` is the name and type its context gives it (a team, a company); a ``dateline`` place is kept
    apart from other uses of its name."""

    text: str
    type: str
    offset: int
    in_title: bool
    end: int = -1
    override: Alias | None = None
    dateline: bool = False


def trim_mention(text: str, start: int) -> tuple[str, int] | None:
    """Trim a span to its name: 'the UN Security Council,' -> 'UN Security Council'; None if nothing is left."""
    # A span running past the name: "Isis (Institute of ...", "Issam Abdallah - found", "Real Madrid: The ..."
    cut = _RUNS_ON.search(text)
    if cut and text[: cut.start()].strip(_EDGE_PUNCT):
        text = text[: cut.start()]
    while True:
        before = text
        stripped = text.lstrip(_EDGE_PUNCT + "@#")  # handles and hashtags name the same thing
        start += len(text) - len(stripped)
        text = stripped
        match = _LEADING.match(text)
        if match:
            start += match.end()
            text = text[match.end() :]
        text = _TRAILING_POSSESSIVE.sub("", text.rstrip(_EDGE_PUNCT)).rstrip(_EDGE_PUNCT)
        while text.endswith(".") and not _KEEPS_PERIOD.search(text):
            text = text[:-1].rstrip(_EDGE_PUNCT)
        if text == before:
            break
    # Names carry a capital ("eBay" too); all-lowercase spans are the model's misfires ("naira", "mm").
    if text.casefold() in _NOT_NAMES or len(_LETTER.findall(text)) < 2 or text.islower():
        return None
    return text, start


def _spans(doc: Doc) -> Iterator[tuple[str, int, int]]:
    """(text, label, start) of the kept entities, with touching spans of one label joined.

    The small model sometimes cuts a name in two ("Prince Abdulaziz" + "bin Salman");
    two entities of one label separated only by a space are one name.
    """
    # doc.text rebuilds the string from every token: read token boundaries instead.
    current: list[Any] | None = None  # [label, start_char, end_char, end_token]
    for ent in doc.ents:
        label = LABELS.get(ent.label_, ent.label_)
        if label not in KEPT_TYPES:
            continue
        if (
            current is not None
            and current[0] == label
            and current[3] == ent.start
            and doc[ent.start - 1].whitespace_ == " "
        ):
            current[2], current[3] = ent.end_char, ent.end
            continue
        if current is not None:
            yield current[0], current[1], current[2]
        current = [label, ent.start_char, ent.end_char, ent.end]
    if current is not None:
        yield current[0], current[1], current[2]


def mentions_from_doc(
    doc: Doc,
    in_title: bool,
    aliases: AliasTable | None = None,
    text: str | None = None,
    ignored: list[tuple[int, int]] | None = None,
) -> list[Mention]:
    """Kept-type entity spans of ``doc``, trimmed; names the alias table ignores are dropped. ``text`` is the
    original the doc was made from with its case changed (see ``casing``): spans are read from it."""
    source = text if text is not None else doc.text
    mentions = []
    for label, start, end in _spans(doc):
        trimmed = trim_mention(source[start:end], start)
        if trimmed is None:
            continue
        text, offset = trimmed
        known = aliases is not None and aliases.lookup(text) is not None
        if not known:
            text = _name_part(text, label, doc.lang_ == "en")
            if not text or _MONTH_DAY.match(text):
                continue
            if aliases is not None and (own := _POSSESSOR.match(text)) and (head := aliases.lookup(own.group(1))):
                mentions.append(Mention(own.group(1), head.type, offset, in_title, offset + len(own.group(1))))
                text, offset = text[own.end() :], offset + own.end()
            if label == "GPE" and (unit := _ADMIN_UNIT.match(source, offset + len(text))):
                text = source[offset : unit.end()]
            label = _HEAD_TYPES.get(label, {}).get(_head_word(text), label)
        if label in ("ORG", "GPE", "NORP", "FAC") and (titled := _TITLED_NAME.match(text)):
            label, text, offset = "PERSON", titled.group("name"), offset + titled.start("name")
        while label == "PERSON" and (match := _PERSON_TITLE.match(text)) and match.end() < len(text):
            text, offset = text[match.end() :], offset + match.end()
        if label == "ORG" and (office := _TRAILING_OFFICE.search(text)) and office.start() > 0:
            text = text[: office.start()]  # "Kremlin Spokesman" -> "Kremlin"
        if aliases is not None and aliases.ignored(text):
            if ignored is not None:
                ignored.append((offset, offset + len(text)))  # "UN Charter" is no mention of the UN either
            continue
        mentions.append(Mention(" ".join(text.split()), label, offset, in_title, offset + len(text)))
    return mentions
