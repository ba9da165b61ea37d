"""An agent-based mobile-money world with labelled fraud typologies and a matching SMS stream.

``simulate(SimConfig(accounts=..., days=..., seed=...), out_dir)`` writes transactions, labels,
accounts, account events and SMS as Parquet plus a ``summary.json``. Never imported by the scoring path.
"""

from pesaguard.simulate.config import LookalikeConfig, SimConfig, SimSummary, SmsConfig, WorldConfig
from pesaguard.simulate.engine import simulate
from pesaguard.simulate.typologies import TYPOLOGY_NAMES, TypologySet

__all__ = ["TYPOLOGY_NAMES", "LookalikeConfig", "SimConfig", "SimSummary", "SmsConfig", "TypologySet",
           "WorldConfig", "simulate"]
