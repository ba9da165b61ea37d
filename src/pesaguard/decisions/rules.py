"""Operator rules: a declarative YAML policy parsed into pydantic models.

A policy file looks like::

    thresholds: {review: 0.6, block: 0.95}   # optional; defaults come from the model
    lists:
      blocked_accounts: [C123, C456]
      allowed_devices: [dev-teller-1]
    rules:
      - name: big_cash_out_after_sim_swap
        when: ["amount_minor > 5000000", "features.sim_swap_age_h < 24", "type in [cash_out]"]
        action: block
        reason: large cash-out within a day of a SIM swap
      - name: blocked_payer
        when: ["payer in_list blocked_accounts"]
        action: block
        reason: payer is on the blocked list

A condition is ``FIELD OP VALUE``: FIELD is a transaction column or ``features.NAME``; OP is one
of :data:`OPERATORS`; VALUE is a YAML scalar or flow list (``[cash_out, p2p]``) or, for
``in_list``/``not_in_list``, the name of a list. There is no expression evaluation at all (no
``eval``, no Python AST): three tokens, a whitelisted operator and a literal. Libraries such as
rule-engine or simpleeval offer full expression languages, but operators review rules, and a
grammar this small is one an operator can read and a test can enumerate.
A condition on a missing value (null field, unknown feature) is false, and says so in the hit.
"""

from __future__ import annotations

import hashlib
import operator
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pesaguard.errors import InputError
from pesaguard.schema import TRANSACTION_COLUMNS

OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
    ">=": operator.ge, "in": lambda a, b: a in b, "not_in": lambda a, b: a not in b,
    "in_list": lambda a, b: a in b, "not_in_list": lambda a, b: a not in b,
}
_NUMERIC = {"<", "<=", ">", ">="}
_CONDITION = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s+(==|!=|<=|>=|<|>|not in|not_in|in_list|not_in_list|in)\s+(.+?)\s*$")
_LOCATED = re.compile(r"^Value error, at ([\w.]+): (.*)$", re.S)
RuleAction = Literal["allow", "review", "block"]


class Condition(BaseModel):
    """One parsed ``FIELD OP VALUE`` test."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    text: str
    field: str
    op: str
    value: Any

    @classmethod
    def parse(cls, text: str) -> Condition:
        m = _CONDITION.match(text)
        if not m:
            raise ValueError(f"cannot read condition {text!r}: write FIELD OP VALUE with OP one of "
                             f"{', '.join(OPERATORS)}")
        field, op, raw = m.group(1), m.group(2).replace("not in", "not_in"), m.group(3)
        if field.startswith("features."):
            if len(field.split(".")) != 2 or not field.split(".")[1]:
                raise ValueError(f"{field!r}: name one feature, as in features.amount_z")
        elif field not in TRANSACTION_COLUMNS:
            raise ValueError(f"unknown field {field!r}: use a transaction column "
                             f"({', '.join(TRANSACTION_COLUMNS)}) or features.NAME")
        value: Any = raw if op in ("in_list", "not_in_list") else yaml.safe_load(raw)
        if op in _NUMERIC and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ValueError(f"{text!r}: {op} needs a number, got {raw!r}")
        if op in ("in", "not_in") and not isinstance(value, list):
            raise ValueError(f"{text!r}: {op} needs a list such as [cash_out, p2p]")
        return cls(text=text.strip(), field=field, op=op, value=value)

    def lookup(self, txn: dict[str, Any], features: dict[str, Any]) -> Any:
        if self.field.startswith("features."):
            return features.get(self.field[len("features."):])
        return txn.get(self.field)

    def test(self, txn: dict[str, Any], features: dict[str, Any], lists: dict[str, frozenset[str]]) -> tuple[bool, Any]:
        """(holds, the value it was tested on). Missing values make every condition false."""
        got = self.lookup(txn, features)
        if got is None or (isinstance(got, float) and got != got):  # None or NaN
            return False, None
        other = lists[self.value] if self.op in ("in_list", "not_in_list") else self.value
        try:
            return bool(OPERATORS[self.op](got, other)), got
        except TypeError:  # e.g. a string field compared with a number: not a hit, never a crash
            return False, got


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    when: list[Condition] = Field(min_length=1, description="all conditions must hold")
    action: RuleAction
    reason: str = Field(min_length=1, max_length=300)
    enabled: bool = True

    @field_validator("when", mode="before")
    @classmethod
    def _parse(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = [v]
        if isinstance(v, list):
            return [Condition.parse(c) if isinstance(c, str) else c for c in v]
        return v


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    review: float = Field(ge=0, le=1)
    block: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.block < self.review:
            raise ValueError("block threshold must be >= review threshold")
        return self


class RuleSet(BaseModel):
    """A policy file: optional thresholds, named lists and ordered rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    thresholds: Thresholds | None = None
    lists: dict[str, frozenset[str]] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)

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
        rule = ""
        if len(loc) >= 2 and loc[0] == "rules" and loc[1].isdigit() and isinstance(data, dict):
            idx = int(loc[1])
            raw = (data.get("rules") or [None] * (idx + 1))[idx]
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
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", file=path, hint="fix the YAML syntax at the line shown") from None
    return parse_rules(data, str(path))
