"""docs/typologies.md is generated from the shipped pack and its measured figures, and stays current."""

from __future__ import annotations

import json
from pathlib import Path

from pesaguard.decisions.typologies import load_pack
from pesaguard.decisions.typologies.docs import BACKTEST_COMMAND, DEMO_COMMAND, render

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_the_typologies_page_is_current() -> None:
    pack = load_pack("mobile-money")
    backtest = json.loads((DOCS / "typologies-backtest.json").read_text(encoding="utf-8"))
    demo = json.loads((DOCS / "typologies-demo.json").read_text(encoding="utf-8"))
    assert backtest["packs"][pack.name]["digest"] == pack.digest, f"the pack changed: run `{BACKTEST_COMMAND}`"
    assert demo["pack_digest"] == pack.digest, f"the pack changed: run `{DEMO_COMMAND}`"
    expected = render(pack, backtest, demo)
    page = (DOCS / "typologies.md").read_text(encoding="utf-8")
    assert page == expected, ("docs/typologies.md is stale: write pesaguard.decisions.typologies.docs.render(...) "
                              "to it (see python -m pesaguard.decisions.typologies.docs)")
