"""What the words around a name say its type is: teams in sports copy, companies in market copy, places.

The small model types a name mostly from the name itself, so a club written as its city comes out a place and a
company written as a surname a person. The words around it are surer: in a results row, beside a score or after
"beat" a name is a team; after "shares of" or before "shares rose" it is a company; after "the town of" it is a
place. ``team_positions``, ``company_positions`` and ``place_positions`` say which of a text's spans stand so;
the tagger decides what that makes them (a country written as a team stays a place).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Words of sports copy; a story with a few of them (or a results row, or a score) is sports copy.
SPORTS_WORDS = frozenset(
    "beat beats drew draw goal goals scored scorer scorers wicket wickets innings halftime penalty standings"
    " coach striker midfielder defender goalkeeper season match matches fixture fixtures tournament relegation"
    " relegated semifinal semifinals quarterfinal quarterfinals seeded inning touchdown touchdowns rebounds"
    " league cup qualifier soccer football cricket rugby tennis golf baseball basketball hockey cycling"
    " athletics tabulate".split()
)
_WORDS = re.compile(r"[a-z]+")
_SCORE = re.compile(r"\b\d{1,3}-\d{1,3}\b")
# A results row ("Barcelona 3 Sevilla 1") or a standings row ("1 Vikingur 23 16 4 3 52 21 52").
_ROW = re.compile(
    r"^[ \t]*(?:\d{1,2}\.?[ \t]+)?[A-Z][^\n\d]{1,40}?[ \t]+\d{1,3}"
    r"(?:[ \t]+\(|[ \t]+\d|[ \t]*$|[ \t]+[A-Z][^\n\d]{1,40}?[ \t]+\d{1,3}[ \t]*$)",
    re.M,
)
MIN_SPORTS_SIGNALS = 3
SPORTS_SAMPLE = 2000

# Before a team: a results row's start, the score of the team before it, a verb of winning or losing.
_TEAM_BEFORE = re.compile(
    r"(?:(?:^|\n)[ \t]*(?:\d{1,2}\.?[ \t]+)?|(?:\d|\))[ \t]*[;,]?[ \t]+"
    r"|\b(?:beat|beats|defeated|edged|edge|thrashed|crushed|routed|stunned|swept|hammered|overcame|downed|held"
    r"|drew with|lost to|lost \d{1,3}-\d{1,3} to|draw (?:away )?(?:to|with)|win (?:over|against|at)"
    r"|victory over|defeat (?:to|by)|against|host|hosts|visit|visits|v|vs\.?|versus|ahead of|behind"
    r"|\d{1,3}-\d{1,3} (?:to|against|with|over))[ \t]+"
    r"(?:the[ \t]+|ten-man[ \t]+|visiting[ \t]+|leaders[ \t]+|champions[ \t]+)?)$"
)
# After a team: its score, a verb of winning or losing, its staff.
_TEAM_AFTER = re.compile(
    r"^(?:[ \t]+\d{1,3}(?:[ \t]|$|\n|;|,)|[ \t]+\d{1,3}-\d{1,3}\b"
    r"|(?:['\u2019]s)?[ \t]+(?:beat|beats|defeated|edged|thrashed|crushed|routed|drew|lost|held|won|host|hosts"
    r"|visit|visits|coach|manager|striker|midfielder|defender|goalkeeper|captain|forward|winger|batsman|bowler"
    r"|skipper|head coach|side|squad|fans|supporters)\b)"
)
_COMPANY_BEFORE = re.compile(r"\b(?:shares|stock|stake|bonds) (?:of|in)[ \t]+(?:the[ \t]+)?$", re.IGNORECASE)
_COMPANY_AFTER = re.compile(
    r"^(?:['\u2019]s)?[ \t]+(?:shares|stock|(?:chief|vice|deputy) executive|chief financial officer|ceo"
    r"|chairman|chairwoman|board|shareholders|investors|plc|ltd|inc)\b",
    re.IGNORECASE,
)
# Around a place: "the town of X", "X peninsula", "X river".
_PLACE_BEFORE = re.compile(
    r"\b(?:town|city|village|port|capital|province|county|district|region|island|state|suburb) of[ \t]+$"
)
_LOC_AFTER = re.compile(r"^[ \t]+(?:peninsula|river|rivers|sea|basin|valley|mountains?|desert|glacier|volcano)\b")
# A name in a list of places: "10 counties including Turkana, Marsabit and Mandera", "the provinces of
# Kandahar and Helmand", "Marsabit and Mandera counties". A list ends where a word in lower case comes.
_PLACES = (r"(?:counties|provinces|districts|regions|states|cities|towns|villages|islands|countries|municipalities"
           r"|prefectures|governorates|oblasts|territories|cantons)")
_NAME = r"[A-Z][\w'\u2019.-]*(?:[ \t]+[A-Z][\w'\u2019.-]*)*"
_LIST_GAP = r"(?:,[ \t]+|[ \t]+(?:and|or)[ \t]+|,[ \t]+(?:and|or)[ \t]+)"
_PLACE_LIST_BEFORE = re.compile(
    rf"\b{_PLACES}[ \t]+(?:including|such as|like|of|namely|:)[ \t]+(?:{_NAME}{_LIST_GAP})*$")
_PLACE_LIST_AFTER = re.compile(rf"^(?:{_LIST_GAP}{_NAME})*[ \t]+{_PLACES}\b")
_WINDOW = 48
_LIST_WINDOW = 160


def is_sports(title: str, body: str) -> bool:
    """Sports copy: enough sports words, scores and results rows in the title and the start of the body."""
    sample = f"{title}\n{body[:SPORTS_SAMPLE]}"
    signals = 0
    for word in _WORDS.findall(sample.lower()):
        signals += word in SPORTS_WORDS
        if signals >= MIN_SPORTS_SIGNALS:
            return True
    for pattern, weight in ((_SCORE, 1), (_ROW, 2)):
        for _ in pattern.finditer(sample):
            signals += weight
            if signals >= MIN_SPORTS_SIGNALS:
                return True
    return False


def _stands(text: str, start: int, end: int, before: re.Pattern[str], after: re.Pattern[str]) -> bool:
    return bool(before.search(text[max(0, start - _WINDOW) : start]) or after.match(text[end : end + _WINDOW]))


def team_positions(text: str, spans: Sequence[tuple[int, int]]) -> set[int]:
    """Indices of the spans that stand as teams: a results or standings row, a score, beat, drew, coach..."""
    return {i for i, (start, end) in enumerate(spans) if _stands(text, start, end, _TEAM_BEFORE, _TEAM_AFTER)}


def company_positions(text: str, spans: Sequence[tuple[int, int]]) -> set[int]:
    """Indices of the spans that stand as companies: "shares of X", "X shares fell", "X chief executive"..."""
    return {i for i, (start, end) in enumerate(spans) if _stands(text, start, end, _COMPANY_BEFORE, _COMPANY_AFTER)}


def place_positions(text: str, spans: Sequence[tuple[int, int]]) -> dict[int, str]:
    """Indices of the spans that stand as places, with the type: "the town of X" (GPE), "X peninsula" (LOC),
    "counties including X, Y and Z" or "X and Y counties" (GPE)."""
    found: dict[int, str] = {}
    for index, (start, end) in enumerate(spans):
        if _LOC_AFTER.match(text[end : end + _WINDOW]):
            found[index] = "LOC"
        elif (_PLACE_BEFORE.search(text[max(0, start - _WINDOW) : start])
              or _PLACE_LIST_BEFORE.search(text[max(0, start - _LIST_WINDOW) : start])
              or _PLACE_LIST_AFTER.match(text[end : end + _LIST_WINDOW])):
            found[index] = "GPE"
    return found
