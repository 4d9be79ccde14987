"""Rating scales (PHQ-9, MADRS, CADSS...) read from data files, and their scoring.

An instrument is data, not code: one JSON file per instrument (see
``resources/instruments/``). The bundled files carry short item labels written for kapp;
a clinic that holds a licence for a scale writes its own file in the same format with the
full wording in each item's ``text``. Loading is strict and names the file and the place
of every mistake, because a scale that scores wrongly is worse than one that will not load.

File format (``"format": 1``)::

    {"format": 1, "code": "phq9", "name": "PHQ-9", "version": "...",
     "description": "...", "licence": "...",
     "options": [{"score": 0, "label": "Not at all"}, ...],      # shared by all items
     "items": [{"number": 1, "label": "...", "text": "...",       # text: optional
                "options": [...]}, ...],                          # options: optional
     "scoring": "sum" | "domains",
     "domains": [{"code": "sleep", "label": "Sleep", "items": [1, 2, 3, 4]}, ...],
     "range": {"min": 0, "max": 27},
     "bands": [{"min": 0, "max": 4, "label": "Minimal"}, ...],   # cover the whole range
     "flags": [{"code": "...", "item": 9, "at_least": 1, "message": "..."}],
     "subscales": [{"code": "...", "label": "...", "items": [...]}]}

``domains`` is required with ``"scoring": "domains"``: each domain scores its highest item
and the total is the sum of domains (as in QIDS-SR16). A flag without ``item`` applies to
the total. A subscale is the sum of its items.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from kapp.domain.errors import FieldError, KappError, ValidationError

FORMAT_VERSION = 1

_CODE = re.compile(r"[a-z][a-z0-9_]*")


class InstrumentFileError(KappError):
    """An instrument file cannot be used; the message names the file and the mistake."""


@dataclass(frozen=True, slots=True)
class AnswerOption:
    """One answer an item accepts and the score it carries."""

    score: int
    label: str


@dataclass(frozen=True, slots=True)
class Item:
    """One question. ``label`` is a short label of our own; ``text`` is the licensed full
    wording, when a clinic supplies it."""

    number: int
    label: str
    options: tuple[AnswerOption, ...]
    text: str | None = None

    @property
    def scores(self) -> tuple[int, ...]:
        return tuple(option.score for option in self.options)


@dataclass(frozen=True, slots=True)
class Domain:
    """A group of items of which only the highest counts towards the total."""

    code: str
    label: str
    items: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Band:
    """A named range of totals, inclusive at both ends."""

    min: int
    max: int
    label: str


@dataclass(frozen=True, slots=True)
class FlagRule:
    """A finding that needs attention whatever the total (PHQ-9 item 9)."""

    code: str
    message: str
    at_least: int
    item: int | None = None  # None: the rule applies to the total


@dataclass(frozen=True, slots=True)
class Subscale:
    """A named sum of some items, reported next to the total."""

    code: str
    label: str
    items: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Instrument:
    """A parsed, checked instrument file."""

    code: str
    name: str
    version: str
    description: str
    licence: str
    items: tuple[Item, ...]
    scoring: Literal["sum", "domains"]
    domains: tuple[Domain, ...]
    min_total: int
    max_total: int
    bands: tuple[Band, ...]
    flags: tuple[FlagRule, ...]
    subscales: tuple[Subscale, ...]

    def item(self, number: int) -> Item:
        """The item with this number.

        Raises:
            KeyError: there is no such item.
        """
        for item in self.items:
            if item.number == number:
                return item
        raise KeyError(number)

    @property
    def item_numbers(self) -> tuple[int, ...]:
        return tuple(item.number for item in self.items)

    def band_for(self, total: int) -> str | None:
        """The band label for a total, or None when the instrument has no bands."""
        for band in self.bands:
            if band.min <= total <= band.max:
                return band.label
        return None


# -- Reading files -------------------------------------------------------------------------


class _Reader:
    """Type-checked access to parsed JSON that names the place of every mistake."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> InstrumentFileError:
        place = f"{self.source}: {where}: " if where else f"{self.source}: "
        return InstrumentFileError(place + problem)

    def obj(self, value: Any, where: str, required: set[str], optional: set[str]) -> dict:
        if not isinstance(value, dict):
            raise self.fail(where, "must be an object ({...})")
        missing = sorted(required - value.keys())
        if missing:
            raise self.fail(where, f"missing {', '.join(missing)}")
        unknown = sorted(value.keys() - required - optional)
        if unknown:
            raise self.fail(where, f"unknown key {', '.join(unknown)} (a spelling mistake?)")
        return value

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, "must be non-empty text")
        return value

    def integer(self, value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(where, f"must be a whole number; got {value!r}")
        return value

    def array(self, value: Any, where: str) -> list:
        if not isinstance(value, list) or not value:
            raise self.fail(where, "must be a non-empty list")
        return value

    def code(self, value: Any, where: str) -> str:
        text = self.text(value, where)
        if not _CODE.fullmatch(text):
            raise self.fail(where, f"must be lower-case letters, digits and _; got {text!r}")
        return text

    def options(self, value: Any, where: str) -> tuple[AnswerOption, ...]:
        options = []
        for index, raw in enumerate(self.array(value, where)):
            place = f"{where}[{index}]"
            entry = self.obj(raw, place, {"score", "label"}, set())
            options.append(
                AnswerOption(
                    self.integer(entry["score"], f"{place}.score"),
                    self.text(entry["label"], f"{place}.label"),
                )
            )
        scores = [option.score for option in options]
        if len(set(scores)) != len(scores):
            raise self.fail(where, "two answer options have the same score")
        return tuple(options)

    def item_refs(self, value: Any, where: str, known: set[int]) -> tuple[int, ...]:
        raw = self.array(value, where)
        numbers = tuple(self.integer(n, f"{where}[{i}]") for i, n in enumerate(raw))
        unknown = sorted(set(numbers) - known)
        if unknown:
            raise self.fail(where, f"refers to unknown item {', '.join(map(str, unknown))}")
        if len(set(numbers)) != len(numbers):
            raise self.fail(where, "lists an item twice")
        return numbers


_TOP_REQUIRED = {
    "format",
    "code",
    "name",
    "version",
    "description",
    "licence",
    "items",
    "scoring",
    "range",
}
_TOP_OPTIONAL = {"options", "domains", "bands", "flags", "subscales"}


def parse_instrument(data: Any, source: str = "instrument") -> Instrument:
    """An ``Instrument`` from already-decoded JSON; ``source`` names it in error messages.

    Raises:
        InstrumentFileError: the data is not a valid instrument.
    """
    r = _Reader(source)
    top = r.obj(data, "", _TOP_REQUIRED, _TOP_OPTIONAL)
    fmt_version = r.integer(top["format"], "format")
    if fmt_version > FORMAT_VERSION:
        raise r.fail("format", f"written for a newer kapp (format {fmt_version}); update kapp")
    if fmt_version < 1:
        raise r.fail("format", f"must be {FORMAT_VERSION}; got {fmt_version}")
    shared = r.options(top["options"], "options") if "options" in top else None
    items = _parse_items(r, top["items"], shared)
    known = {item.number for item in items}

    scoring = top["scoring"]
    if scoring not in ("sum", "domains"):
        raise r.fail("scoring", f'must be "sum" or "domains"; got {scoring!r}')
    domains = _parse_domains(r, top.get("domains"), scoring, known)

    by_number = {item.number: item for item in items}
    if scoring == "sum":
        low = sum(min(item.scores) for item in items)
        high = sum(max(item.scores) for item in items)
    else:
        low = sum(max(min(by_number[n].scores) for n in d.items) for d in domains)
        high = sum(max(max(by_number[n].scores) for n in d.items) for d in domains)
    declared = r.obj(top["range"], "range", {"min", "max"}, set())
    min_total = r.integer(declared["min"], "range.min")
    max_total = r.integer(declared["max"], "range.max")
    if (min_total, max_total) != (low, high):
        raise r.fail(
            "range",
            f"says {min_total}-{max_total} but the items and scoring give {low}-{high}",
        )

    return Instrument(
        code=r.code(top["code"], "code"),
        name=r.text(top["name"], "name"),
        version=r.text(top["version"], "version"),
        description=r.text(top["description"], "description"),
        licence=r.text(top["licence"], "licence"),
        items=items,
        scoring=scoring,
        domains=domains,
        min_total=min_total,
        max_total=max_total,
        bands=_parse_bands(r, top.get("bands", []), min_total, max_total),
        flags=_parse_flags(r, top.get("flags", []), known),
        subscales=_parse_subscales(r, top.get("subscales", []), known),
    )


def _parse_items(
    r: _Reader, value: Any, shared: tuple[AnswerOption, ...] | None
) -> tuple[Item, ...]:
    items: list[Item] = []
    for index, raw in enumerate(r.array(value, "items")):
        where = f"items[{index}]"
        entry = r.obj(raw, where, {"number", "label"}, {"text", "options"})
        number = r.integer(entry["number"], f"{where}.number")
        if number < 1:
            raise r.fail(f"{where}.number", f"must be 1 or more; got {number}")
        if items and number <= items[-1].number:
            raise r.fail(f"{where}.number", "items must be listed in rising order of number")
        if "options" in entry:
            options = r.options(entry["options"], f"{where}.options")
        elif shared is not None:
            options = shared
        else:
            raise r.fail(where, "has no answer options (give them here or in 'options')")
        text = r.text(entry["text"], f"{where}.text") if "text" in entry else None
        items.append(Item(number, r.text(entry["label"], f"{where}.label"), options, text))
    return tuple(items)


def _parse_domains(r: _Reader, value: Any, scoring: str, known: set[int]) -> tuple[Domain, ...]:
    if scoring == "sum":
        if value is not None:
            raise r.fail("domains", 'only used with "scoring": "domains"')
        return ()
    if value is None:
        raise r.fail("domains", 'required with "scoring": "domains"')
    domains: list[Domain] = []
    for index, raw in enumerate(r.array(value, "domains")):
        where = f"domains[{index}]"
        entry = r.obj(raw, where, {"code", "label", "items"}, set())
        domains.append(
            Domain(
                r.code(entry["code"], f"{where}.code"),
                r.text(entry["label"], f"{where}.label"),
                r.item_refs(entry["items"], f"{where}.items", known),
            )
        )
    covered = [n for domain in domains for n in domain.items]
    if len(set(covered)) != len(covered):
        raise r.fail("domains", "an item belongs to two domains")
    left_out = sorted(known - set(covered))
    if left_out:
        raise r.fail("domains", f"item {', '.join(map(str, left_out))} is in no domain")
    return tuple(domains)


def _parse_bands(r: _Reader, value: Any, low: int, high: int) -> tuple[Band, ...]:
    if not isinstance(value, list):
        raise r.fail("bands", "must be a list")
    bands: list[Band] = []
    for index, raw in enumerate(value):
        where = f"bands[{index}]"
        entry = r.obj(raw, where, {"min", "max", "label"}, set())
        band = Band(
            r.integer(entry["min"], f"{where}.min"),
            r.integer(entry["max"], f"{where}.max"),
            r.text(entry["label"], f"{where}.label"),
        )
        if band.min > band.max:
            raise r.fail(where, f"min {band.min} is above max {band.max}")
        expected = bands[-1].max + 1 if bands else low
        if band.min != expected:
            raise r.fail(where, f"should start at {expected} so that bands meet without gaps")
        bands.append(band)
    if bands and bands[-1].max != high:
        raise r.fail("bands", f"must end at the top of the range, {high}")
    return tuple(bands)


def _parse_flags(r: _Reader, value: Any, known: set[int]) -> tuple[FlagRule, ...]:
    if not isinstance(value, list):
        raise r.fail("flags", "must be a list")
    flags: list[FlagRule] = []
    for index, raw in enumerate(value):
        where = f"flags[{index}]"
        entry = r.obj(raw, where, {"code", "at_least", "message"}, {"item"})
        item = None
        if "item" in entry:
            item = r.integer(entry["item"], f"{where}.item")
            if item not in known:
                raise r.fail(f"{where}.item", f"refers to unknown item {item}")
        flags.append(
            FlagRule(
                r.code(entry["code"], f"{where}.code"),
                r.text(entry["message"], f"{where}.message"),
                r.integer(entry["at_least"], f"{where}.at_least"),
                item,
            )
        )
    return tuple(flags)


def _parse_subscales(r: _Reader, value: Any, known: set[int]) -> tuple[Subscale, ...]:
    if not isinstance(value, list):
        raise r.fail("subscales", "must be a list")
    subscales: list[Subscale] = []
    for index, raw in enumerate(value):
        where = f"subscales[{index}]"
        entry = r.obj(raw, where, {"code", "label", "items"}, set())
        subscales.append(
            Subscale(
                r.code(entry["code"], f"{where}.code"),
                r.text(entry["label"], f"{where}.label"),
                r.item_refs(entry["items"], f"{where}.items", known),
            )
        )
    return tuple(subscales)


def load_instrument(path: Path) -> Instrument:
    """Read and check one instrument file.

    Raises:
        InstrumentFileError: the file cannot be read, is not JSON, or is not a valid
            instrument; the message names the file and the mistake.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InstrumentFileError(f"{path.name}: cannot be read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise InstrumentFileError(f"{path.name}: is not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise InstrumentFileError(
            f"{path.name}: is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    return parse_instrument(data, path.name)


def load_instruments(directory: Path) -> dict[str, Instrument]:
    """Every ``*.json`` instrument in a directory, keyed by code.

    Raises:
        InstrumentFileError: a file is invalid, or two files use the same code (which one
            should win is a clinic's decision, not kapp's).
    """
    found: dict[str, Instrument] = {}
    origin: dict[str, str] = {}
    for path in sorted(Path(directory).glob("*.json")):
        instrument = load_instrument(path)
        if instrument.code in found:
            raise InstrumentFileError(
                f"{path.name}: code {instrument.code!r} is already used by "
                f"{origin[instrument.code]}"
            )
        found[instrument.code] = instrument
        origin[instrument.code] = path.name
    return found


# -- Scoring -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Score:
    """The result of scoring one completed instrument."""

    instrument_code: str
    version: str
    total: int
    band: str | None
    subscales: dict[str, int]
    flags: tuple[str, ...]
    flag_messages: tuple[str, ...]


def _allowed(scores: tuple[int, ...]) -> tuple[str, str]:
    """Short form ("0-3") and sentence form ("from 0 to 3") of an item's possible scores."""
    ordered = sorted(scores)
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{ordered[0]}-{ordered[-1]}", f"from {ordered[0]} to {ordered[-1]}"
    listed = ", ".join(map(str, ordered))
    return listed, f"one of {listed}"


def score_problems(instrument: Instrument, answers: Mapping[int, int]) -> list[FieldError]:
    """Missing, unknown and impossible answers, one error per item (field ``item_N``).

    Every item must be answered: a total with a gap would look lower than it is, and a
    lower depression score is exactly the mistake that must not happen silently.
    """
    errors: list[FieldError] = []
    known = set(instrument.item_numbers)
    for key in answers:
        if isinstance(key, bool) or not isinstance(key, int) or key not in known:
            errors.append(FieldError(f"item_{key}", f"Item {key} is not part of {instrument.name}"))
    for item in instrument.items:
        field = f"item_{item.number}"
        allowed, in_words = _allowed(item.scores)
        if item.number not in answers:
            errors.append(
                FieldError(field, f"Item {item.number} ({item.label}) has no answer", allowed)
            )
            continue
        value = answers[item.number]
        if isinstance(value, bool) or not isinstance(value, int) or value not in item.scores:
            errors.append(
                FieldError(
                    field,
                    f"Item {item.number} ({item.label}) must be {in_words}; got {value!r}",
                    allowed,
                )
            )
    return errors


def score(instrument: Instrument, answers: Mapping[int, int]) -> Score:
    """Total, band, subscales and flags for a complete set of answers.

    Raises:
        ValidationError: carrying ``score_problems`` when the answers are incomplete or
            impossible.
    """
    problems = score_problems(instrument, answers)
    if problems:
        raise ValidationError(problems)
    if instrument.scoring == "domains":
        total = sum(max(answers[n] for n in domain.items) for domain in instrument.domains)
    else:
        total = sum(answers[n] for n in instrument.item_numbers)
    fired = [
        rule
        for rule in instrument.flags
        if (total if rule.item is None else answers[rule.item]) >= rule.at_least
    ]
    return Score(
        instrument_code=instrument.code,
        version=instrument.version,
        total=total,
        band=instrument.band_for(total),
        subscales={s.code: sum(answers[n] for n in s.items) for s in instrument.subscales},
        flags=tuple(rule.code for rule in fired),
        flag_messages=tuple(rule.message for rule in fired),
    )
