"""Typology packs: named, versioned rule sets in the policy language, shipped with pesaguard.

A pack is a directory holding ``pack.yaml`` (name, version, description, the typology files in
order) and one YAML file per typology: its name, version, title, description, the real-world
pattern it encodes, its sources, the action (``review`` or ``block``) and weight its rules take
unless they say otherwise, the simulator typologies it is meant to catch (``covers``, used by the
backtest for recall; empty for patterns the simulator does not generate) and its rules. A policy
file includes a pack with ``packs: [mobile-money]`` and may switch typologies off or change their
action and weight under ``typologies:`` (:class:`pesaguard.decisions.rules.TypologyOverride`).

>>> pack = load_pack("mobile-money")
>>> pack.name, "sim_swap_takeover" in [t.name for t in pack.typologies]
('mobile-money', True)
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pesaguard.errors import InputError, NotFoundError

PACKS_DIR = Path(__file__).parent
DEFAULT_PACK = "mobile-money"
Action = Literal["review", "block"]


class TypologyRule(BaseModel):
    """One rule of a typology: the policy language's rule, with action and weight optional."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=r"^[a-z0-9_]+$")
    sequence: list[str] = Field(default_factory=list)
    within: str | None = None
    when: list[str] = Field(default_factory=list)
    reason: str = Field(min_length=1, max_length=300)
    action: Action | None = None
    weight: float | None = Field(None, ge=0, le=1)


class Typology(BaseModel):
    """A named, versioned set of rules with what it encodes and where it comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=r"^[a-z0-9_]+$")
    version: str = Field(pattern=r"^\d+\.\d+$")
    title: str
    description: str
    pattern: str = Field(description="the real-world behaviour the rules look for")
    sources: list[str] = Field(min_length=1)
    action: Action
    weight: float = Field(ge=0, le=1, description="share of hits expected to be fraud")
    covers: list[str] = Field(default_factory=list, description="simulator typologies this should catch")
    rules: list[TypologyRule] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Typology:
        names = [r.name for r in self.rules]
        if len(set(names)) != len(names):
            raise ValueError(f"rule names repeat in typology {self.name}")
        return self


_WORDING: Any = {"description": True, "typologies": {"__all__": {
    "title": True, "description": True, "pattern": True, "sources": True, "rules": {"__all__": {"reason"}}}}}


class Pack(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    version: str
    description: str
    typologies: list[Typology]

    @property
    def digest(self) -> str:
        """A short hash of what decides in the pack (names, versions, conditions, actions, weights, coverage):
        figures measured on it name the pack they describe. Wording (titles, descriptions, sources, reason
        texts) is left out: rephrasing a reason changes no decision and no figure."""
        return hashlib.blake2b(self.model_dump_json(exclude=_WORDING).encode(), digest_size=6).hexdigest()

    def typology(self, name: str) -> Typology:
        for t in self.typologies:
            if t.name == name:
                return t
        raise KeyError(name)

    def rule_dicts(self, overrides: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The pack's rules as policy rules (``TYPOLOGY.RULE``), with operator overrides applied."""
        out = []
        for t in self.typologies:
            o = (overrides or {}).get(t.name) or {}
            o = o if isinstance(o, dict) else o.model_dump(exclude_none=True)
            for r in t.rules:
                rule: dict[str, Any] = {
                    "name": f"{t.name}.{r.name}", "typology": t.name, "when": list(r.when), "reason": r.reason,
                    "action": o.get("action") or r.action or t.action,
                    "weight": o.get("weight") if o.get("weight") is not None else (
                        r.weight if r.weight is not None else t.weight),
                    "enabled": o.get("enabled", True) is not False}
                if r.sequence:
                    rule.update(sequence=list(r.sequence), within=r.within)
                out.append(rule)
        return out


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise NotFoundError(f"cannot read {path}: {exc.strerror}", file=path, hint="check the pack directory") from None
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", file=path, hint="fix the YAML syntax at the line shown") from None


def _validate(model: type[BaseModel], data: Any, path: Path) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InputError(str(err["msg"]), file=path, field=".".join(str(p) for p in err["loc"]) or None,
                         hint="see docs/typologies.md for the typology file format") from None


def pack_dir(name: str) -> Path:
    """The directory of a shipped pack (by name) or of a pack at a path."""
    shipped = PACKS_DIR / name
    if (shipped / "pack.yaml").exists():
        return shipped
    path = Path(name)
    if (path / "pack.yaml").exists():
        return path
    available = sorted(p.name for p in PACKS_DIR.iterdir() if (p / "pack.yaml").exists())
    raise NotFoundError(f"no typology pack {name!r}", field="packs",
                        hint=f"use a shipped pack ({', '.join(available)}) or a directory with a pack.yaml")


@functools.lru_cache(maxsize=16)
def _load(directory: Path, stamp: str) -> Pack:
    meta = _read_yaml(directory / "pack.yaml")
    if not isinstance(meta, dict) or not isinstance(meta.get("typologies"), list):
        raise InputError("pack.yaml must list its typology files under `typologies:`", file=directory / "pack.yaml",
                         field="typologies", hint="e.g. typologies: [sim_swap_takeover.yaml]")
    typologies = []
    for file in meta["typologies"]:
        path = directory / str(file)
        typologies.append(_validate(Typology, _read_yaml(path), path))
    return _validate(Pack, {**meta, "typologies": [t.model_dump() for t in typologies]}, directory / "pack.yaml")


def load_pack(name: str = DEFAULT_PACK) -> Pack:
    """A pack by name (shipped with pesaguard) or by directory; validated, cached until its files change."""
    directory = pack_dir(name).resolve()
    stamp = json.dumps(sorted((p.name, p.stat().st_mtime_ns) for p in directory.glob("*.yaml")))
    return _load(directory, stamp)


__all__ = ["DEFAULT_PACK", "Pack", "Typology", "TypologyRule", "load_pack", "pack_dir"]
