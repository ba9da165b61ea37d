"""Operator rules: a declarative YAML policy parsed into pydantic models.

A policy file looks like::

    thresholds: {review: 0.6, block: 0.95}   # optional; defaults come from the model
    packs: [mobile-money]                      # typology packs to include (pesaguard.decisions.typologies)
    typologies:                                # per-typology overrides of an included pack
      agent_split_deposit: {enabled: false}
      mule_fan_in: {action: block, weight: 0.5}
    lists:
      blocked_accounts: [C123, C456]
    rules:
      - name: drain_after_sim_swap
        sequence: [sim_swap, device_change]   # these happened to the payer, in this order ...
        within: 24h                           # ... the first no more than 24 hours ago
        when: ["features.pair_is_new == 1", "features.balance_drain > 0.5", "count(payer, 1h) >= 2"]
        action: block
        weight: 0.6
        reason: "{balance_drain} of the balance to a first-time payee, {since(sim_swap)} after a SIM swap"
      - name: blocked_payer
        when: ["payer in_list blocked_accounts"]
        action: block
        reason: payer is on the blocked list

A condition is ``FIELD OP VALUE``. FIELD is a transaction column, ``features.NAME``, or a shorthand for a window aggregate or an event's recency
(:mod:`pesaguard.decisions.fields`: ``count(payer, 1h)``, ``sum(payee, 24h)``,
``distinct(payee, 24h)``, ``frauds(payee, 30d)``, ``since(sim_swap)``). OP is one of
:data:`OPERATORS`. VALUE is a YAML scalar or flow list (``[cash_out, p2p]``), a duration
(``24h``, for fields in seconds), another field (``since(device_change) <= since(sim_swap)``) or, for
``in_list``/``not_in_list``, the name of a list. A ``sequence`` of account events with ``within``
compiles to such conditions: each event no older than ``within``, each after the one before it.

There is no expression evaluation at all (no ``eval``, no Python AST): three tokens, a whitelisted
operator and a literal or a field. Libraries such as rule-engine or simpleeval offer full
expression languages, but operators review rules, and a grammar this small is one an operator can
read and a test can enumerate. A condition on a missing value (null field, unknown feature, an event
that never happened) is false, and says so in the hit.

A rule's ``weight`` (0-1) is the share of its hits expected to be fraud; the policy combines the
weights of the rules that hit with the model's probability (:mod:`pesaguard.decisions.policy`).
``reason`` may name tested fields in braces; the sentence shows their values in words.
"""

from __future__ import annotations

import hashlib
import itertools
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from pesaguard.decisions.fields import (
    FIELD_PATTERN,
    SINCE,
    duration_seconds,
    is_duration,
    is_seconds,
    resolve,
)
from pesaguard.errors import InputError
from pesaguard.features.config import parse_duration
from pesaguard.schema import TRANSACTION_COLUMNS

OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
    ">=": operator.ge, "in": lambda a, b: a in b, "not_in": lambda a, b: a not in b,
    "in_list": lambda a, b: a in b, "not_in_list": lambda a, b: a not in b,
}
_NUMERIC = {"<", "<=", ">", ">="}
_CONDITION = re.compile(rf"^\s*({FIELD_PATTERN})\s+(==|!=|<=|>=|<|>|not in|not_in|in_list|not_in_list|in)\s+(.+?)\s*$")
_FIELD_ONLY = re.compile(rf"^{FIELD_PATTERN}$")
_LOCATED = re.compile(r"^Value error, at ([\w.]+): (.*)$", re.S)
RuleAction = Literal["allow", "review", "block"]


def _field(raw: str) -> str:
    """The canonical column for what a condition names (``features.NAME`` for features)."""
    name = resolve(raw)
    if name.startswith("features."):
        parts = name.split(".")
        if len(parts) != 2 or not parts[1]:
            raise ValueError(f"{raw!r}: name one feature, as in features.amount_ratio_30d")
        return name
    if name in TRANSACTION_COLUMNS:
        return name
    raise ValueError(f"unknown field {raw!r}: use a transaction column ({', '.join(TRANSACTION_COLUMNS)}), "
                     "features.NAME, or a shorthand such as count(payer, 1h) or since(sim_swap)")


class Condition(BaseModel):
    """One parsed ``FIELD OP VALUE`` test; ``ref`` names the field VALUE is read from, if any."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    text: str
    field: str
    op: str
    value: Any = None
    ref: str | None = None

    @classmethod
    def parse(cls, text: str) -> Condition:
        m = _CONDITION.match(text)
        if not m:
            raise ValueError(f"cannot read condition {text!r}: write FIELD OP VALUE with OP one of "
                             f"{', '.join(OPERATORS)}")
        raw_field, op, raw = m.group(1), m.group(2).replace("not in", "not_in"), m.group(3)
        field = _field(raw_field)
        if op in ("in_list", "not_in_list"):
            return cls(text=text.strip(), field=field, op=op, value=raw)
        if is_duration(raw):
            if not is_seconds(field):
                raise ValueError(f"{text!r}: a duration compares only with a time since something, such as "
                                 f"since(sim_swap); {raw_field} is not one")
            return cls(text=text.strip(), field=field, op=op, value=duration_seconds(raw))
        if _FIELD_ONLY.match(raw) and ("(" in raw or raw.startswith("features.")):
            if op not in _NUMERIC | {"==", "!="}:
                raise ValueError(f"{text!r}: {op} cannot compare two fields")
            return cls(text=text.strip(), field=field, op=op, ref=_field(raw))
        value: Any = yaml.safe_load(raw)
        if op in _NUMERIC and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ValueError(f"{text!r}: {op} needs a number, got {raw!r}")
        if op in ("in", "not_in") and not isinstance(value, list):
            raise ValueError(f"{text!r}: {op} needs a list such as [cash_out, p2p]")
        return cls(text=text.strip(), field=field, op=op, value=value)

    @staticmethod
    def lookup_field(field: str, txn: dict[str, Any], features: dict[str, Any]) -> Any:
        if field.startswith("features."):
            return features.get(field[len("features."):])
        return txn.get(field)

    def lookup(self, txn: dict[str, Any], features: dict[str, Any]) -> Any:
        return self.lookup_field(self.field, txn, features)

    def test(self, txn: dict[str, Any], features: dict[str, Any], lists: dict[str, frozenset[str]]) -> tuple[bool, Any]:
        """(holds, the value it was tested on). Missing values make every condition false."""
        got = self.lookup(txn, features)
        if _missing(got):
            return False, None
        if self.ref is not None:
            other = self.lookup_field(self.ref, txn, features)
            if _missing(other):
                return False, got
        else:
            other = lists[self.value] if self.op in ("in_list", "not_in_list") else self.value
        try:
            return bool(OPERATORS[self.op](got, other)), got
        except TypeError:  # e.g. a string field compared with a number: not a hit, never a crash
            return False, got


    def mask(self, columns: Mapping[str, Column], lists: dict[str, frozenset[str]], n: int,
             rows: np.ndarray | None = None) -> np.ndarray:
        """:meth:`test` for every row of a frame at once (or for the given ``rows`` of it): the same
        truth value row for row (a property test holds them equal). ``columns`` maps field names to
        their :class:`Column`; a field without one is missing on every row."""
        col = columns.get(self.field)
        size = n if rows is None else len(rows)
        if col is None:
            return np.zeros(size, dtype=bool)
        if self.ref is not None:
            other = columns.get(self.ref)
            return np.zeros(size, dtype=bool) if other is None else col.compare(self.op, other, rows)
        return col.test(self.op, lists[self.value] if self.op in ("in_list", "not_in_list") else self.value, rows)


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and v != v)  # None or NaN


def _holds(op: str, got: Any, other: Any) -> bool:
    """:meth:`Condition.test` on one value once the value it is compared with is known."""
    if _missing(got):
        return False
    try:
        return bool(OPERATORS[op](got, other))
    except TypeError:
        return False


_NUMPY_OPS: dict[str, Callable[[Any, Any], np.ndarray]] = {
    "==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}
#: Whole numbers up to this size are exact as float64, so comparing them as floats is comparing them as ints.
EXACT_INT = 2**53


def _exact_number(v: Any) -> bool:
    """A rule value that float64 comparisons treat exactly as Python compares it with an int or float."""
    return isinstance(v, float) or (isinstance(v, int) and not isinstance(v, bool) and -EXACT_INT <= v <= EXACT_INT)


class Column:
    """One field's value on every row of a frame, as :meth:`Condition.test` receives it row by row.

    Either numbers, in a float64 array with NaN for a missing value (``ints``: whole numbers that a
    row holds as ``int``, all within +-2**53, so float64 compares them exactly), or any values, as
    codes into a list of distinct values (code -1: missing). Numbers are compared column-wise with
    numpy; everything else is tested once per distinct value with the same operators as one row,
    which keeps the outcome identical to :meth:`Condition.test` without a Python call per row.
    """

    __slots__ = ("codes", "ints", "numbers", "values")

    def __init__(self, numbers: np.ndarray | None = None, ints: bool = False, codes: np.ndarray | None = None,
                 values: Sequence[Any] = ()) -> None:
        self.numbers, self.ints, self.codes, self.values = numbers, ints, codes, list(values)

    @classmethod
    def of_numbers(cls, numbers: np.ndarray, ints: bool = False) -> Column:
        return cls(numbers=np.ascontiguousarray(numbers, dtype=np.float64), ints=ints)

    @classmethod
    def of_values(cls, values: Sequence[Any] | np.ndarray | pd.Series) -> Column:
        """Values as a row holds them (None or NaN: missing)."""
        codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
        return cls(codes=codes, values=list(uniques))

    def _numbers(self, rows: np.ndarray | None) -> np.ndarray:
        assert self.numbers is not None
        return self.numbers if rows is None else self.numbers[rows]

    def _codes(self, rows: np.ndarray | None) -> tuple[np.ndarray, list[Any]]:
        if self.numbers is None:
            assert self.codes is not None
            return (self.codes if rows is None else self.codes[rows]), self.values
        codes, uniques = pd.factorize(self._numbers(rows), use_na_sentinel=True)
        return codes, [int(u) if self.ints else float(u) for u in uniques.tolist()]

    def present(self, rows: np.ndarray | None = None) -> np.ndarray:
        if self.numbers is not None:
            return ~np.isnan(self._numbers(rows))
        return self._codes(rows)[0] >= 0

    def at(self, i: int) -> Any:
        """Row ``i``'s value as one row holds it (None when missing from a row of ints or values)."""
        if self.numbers is not None:
            v = float(self.numbers[i])
            return (None if v != v else int(v)) if self.ints else v
        assert self.codes is not None
        code = int(self.codes[i])
        return None if code < 0 else self.values[code]

    def test(self, op: str, other: Any, rows: np.ndarray | None = None) -> np.ndarray:
        """Whether value ``op`` ``other`` holds on each row (or each of ``rows``); missing values and
        TypeErrors give False."""
        if self.numbers is not None:
            a = self._numbers(rows)
            if op in _NUMPY_OPS and _exact_number(other):
                with np.errstate(invalid="ignore"):
                    return ~np.isnan(a) & _NUMPY_OPS[op](a, float(other))
            if op in ("in", "not_in") and all(_exact_number(v) for v in other):
                inside = np.isin(a, [float(v) for v in other])
                return ~np.isnan(a) & (inside if op == "in" else ~inside)
        codes, values = self._codes(rows)
        table = np.array([_holds(op, v, other) for v in values] + [False], dtype=bool)
        return table[codes]  # code -1 (missing) picks the final False

    def compare(self, op: str, other: Column, rows: np.ndarray | None = None) -> np.ndarray:
        """Whether this value ``op`` the other column's holds on each row (or each of ``rows``);
        either missing gives False."""
        both = self.present(rows) & other.present(rows)
        if self.numbers is not None and other.numbers is not None:
            with np.errstate(invalid="ignore"):
                return both & _NUMPY_OPS[op](self._numbers(rows), other._numbers(rows))
        at = np.arange(len(both)) if rows is None else rows
        out = np.zeros(len(both), dtype=bool)
        for k in np.flatnonzero(both).tolist():
            i = int(at[k])
            out[k] = _holds(op, self.at(i), other.at(i))
        return out


def sequence_conditions(events: list[str], within: str) -> list[Condition]:
    """``[a, b]`` within ``W``: ``since(a) <= W`` and ``since(b) <= since(a)`` (b came after a)."""
    unknown = [e for e in events if e not in SINCE]
    if unknown:
        raise ValueError(f"sequence: unknown event {unknown[0]!r}; events are {', '.join(SINCE)}")
    out = [Condition.parse(f"since({events[0]}) <= {within}")]
    for before, after in itertools.pairwise(events):
        out.append(Condition.parse(f"since({after}) <= since({before})"))
    return out


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    sequence: list[str] = Field(default_factory=list, description="account events before this payment, in order")
    within: str | None = Field(None, description="the sequence's first event is at most this old (e.g. 24h)")
    when: list[Condition] = Field(default_factory=list, description="all conditions must hold")
    action: RuleAction
    reason: str = Field(min_length=1, max_length=300)
    weight: float | None = Field(None, ge=0, le=1, description="share of hits expected to be fraud")
    enabled: bool = True
    typology: str | None = Field(None, description="the typology (of a pack) this rule belongs to")
    _conditions: list[Condition] = PrivateAttr(default_factory=list)

    @field_validator("when", mode="before")
    @classmethod
    def _parse(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = [v]
        if isinstance(v, list):
            return [Condition.parse(c) if isinstance(c, str) else c for c in v]
        return v

    @field_validator("within")
    @classmethod
    def _within(cls, v: str | None) -> str | None:
        if v is not None:
            parse_duration(v)
        return v

    @model_validator(mode="after")
    def _compile(self) -> Rule:
        if self.sequence and self.within is None:
            raise ValueError("a sequence needs `within`, e.g. within: 24h")
        if self.within is not None and not self.sequence:
            raise ValueError("`within` applies to a sequence: add `sequence: [sim_swap, ...]`")
        if not self.sequence and not self.when:
            raise ValueError("a rule needs at least one condition under `when` (or a `sequence`)")
        seq = sequence_conditions(self.sequence, self.within) if self.sequence and self.within else []
        self._conditions = [*seq, *self.when]
        return self

    @property
    def conditions(self) -> list[Condition]:
        """The sequence's conditions, then ``when``'s: everything that must hold for a hit."""
        return self._conditions

    def fields(self) -> dict[str, str]:
        """Every name the reason may use for a tested value -> its column."""
        out: dict[str, str] = {}
        for c in self.conditions:
            raw = _CONDITION.match(c.text)
            if raw:
                out[raw.group(1)] = c.field
            out[c.field] = c.field
            out[c.field[len("features."):]] = c.field
        return out


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    review: float = Field(ge=0, le=1)
    block: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.block < self.review:
            raise ValueError("block threshold must be >= review threshold")
        return self


class TypologyOverride(BaseModel):
    """An operator's change to one typology of an included pack."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    enabled: bool | None = None
    action: RuleAction | None = None
    weight: float | None = Field(None, ge=0, le=1)


class RuleSet(BaseModel):
    """A policy file: optional thresholds, packs, named lists and ordered rules.

    Rules of the included packs follow the file's own rules in :attr:`rules`, named
    ``TYPOLOGY.RULE`` and marked with their typology.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    thresholds: Thresholds | None = None
    packs: list[str] = Field(default_factory=list)
    typologies: dict[str, TypologyOverride] = Field(default_factory=dict)
    lists: dict[str, frozenset[str]] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _include_packs(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not data.get("packs"):
            return data
        from pesaguard.decisions.typologies import load_pack

        packs = data["packs"]
        if not isinstance(packs, list) or not all(isinstance(p, str) for p in packs):
            raise ValueError("at packs: list pack names, e.g. packs: [mobile-money]")
        own = [r for r in (data.get("rules") or []) if not (isinstance(r, dict) and r.get("typology"))]
        overrides = data.get("typologies") or {}
        included: list[Any] = []
        known: set[str] = set()
        for name in packs:
            pack = load_pack(name)
            known |= {t.name for t in pack.typologies}
            included += pack.rule_dicts(overrides if isinstance(overrides, dict) else {})
        unknown = sorted(set(overrides) - known) if isinstance(overrides, dict) else []
        if unknown:
            raise ValueError(f"at typologies: {', '.join(unknown)} is not a typology of the included packs "
                             f"({', '.join(sorted(known))})")
        return {**data, "rules": [*own, *included]}

    @field_validator("lists", mode="before")
    @classmethod
    def _stringify(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {k: [str(x) for x in (items or [])] if isinstance(items, list) else items
                    for k, items in v.items()}
        return v

    @model_validator(mode="after")
    def _check_refs(self) -> RuleSet:
        names = [r.name for r in self.rules]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"at rules: rule names must be unique; repeated: {', '.join(dupes)}")
        if self.typologies and not self.packs:
            raise ValueError("at typologies: overrides need the pack they change under `packs:`")
        for i, rule in enumerate(self.rules):
            for c in rule.when:
                if c.op in ("in_list", "not_in_list") and c.value not in self.lists:
                    raise ValueError(f"at rules.{i}.when: list {c.value!r} is not defined under lists: "
                                     f"({', '.join(sorted(self.lists)) or 'none'})")
        return self

    @property
    def version(self) -> str:
        """A short digest of the policy, stored with each decision (reproducibility)."""
        text = self.model_dump_json()
        return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


def parse_rules(data: Any, source: str = "<rules>") -> RuleSet:
    """Validate a loaded YAML document; errors name the file, the rule and the field."""
    if data is None:
        data = {}
    try:
        return RuleSet.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        msg = str(err["msg"])
        located = _LOCATED.match(msg)
        if not loc and located:  # a whole-file check that knows which rule is wrong
            loc, msg = located.group(1).split("."), located.group(2)
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        rule = ""
        if len(loc) >= 2 and loc[0] == "rules" and loc[1].isdigit() and isinstance(data, dict):
            idx = int(loc[1])
            raw = (data.get("rules") or [None] * (idx + 1))[idx] if idx < len(data.get("rules") or []) else None
            name = raw.get("name") if isinstance(raw, dict) else None
            rule = f"rule {idx + 1}" + (f" ({name!r})" if name else "") + ": "
        raise InputError(f"{rule}{msg}", file=source, field=".".join(loc) or None,
                         hint="see the policy file format in `pesaguard rules --help`") from None


def load_rules(path: Path) -> RuleSet:
    """Read and validate a policy YAML file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read rules file: {exc.strerror}", file=path,
                         hint="check the path") from None
    except UnicodeDecodeError:
        raise InputError("the rules file is not UTF-8 text", file=path,
                         hint="give the policy YAML file (see docs/architecture.md, operator rules)") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", file=path, hint="fix the YAML syntax at the line shown") from None
    return parse_rules(data, str(path))
