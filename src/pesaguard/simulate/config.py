"""The simulator's configuration (:class:`SimConfig`) and the summary of a run (:class:`SimSummary`).

Amounts are whole shillings here (the engine converts to minor units); probabilities are per day
unless named otherwise.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pesaguard.simulate.typologies import TypologySet


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WorldConfig(_Frozen):
    """The legitimate economy: who exists, how often they transact, and how much."""

    customers_per_agent: int = Field(120, ge=10)
    customers_per_merchant: int = Field(40, ge=5)
    banks: int = Field(10, ge=2)
    activity: float = Field(0.62, gt=0, description="mean transactions per customer per day")
    salaried_share: float = Field(0.35, ge=0, le=1)
    smartphone_share: float = Field(0.6, ge=0, le=1)
    swahili_share: float = Field(0.35, ge=0, le=1, description="customers whose phone speaks Swahili")
    mule_share: float = Field(0.004, ge=0, le=0.1)
    fraud_till_share: float = Field(0.02, ge=0, le=0.5)
    new_account_share: float = Field(0.03, ge=0, le=0.5, description="accounts opened during the run")
    contacts: int = Field(6, ge=1, le=32)
    payday_boost: float = Field(1.7, ge=1, description="activity multiplier for salaried people on paydays")
    slot_minutes: int = Field(20, ge=1, le=120, description="ledger time slot; money received is spendable "
                              "from the next slot")
    max_amount: int = Field(250_000, gt=0, description="largest single transaction (KES)")

    @model_validator(mode="after")
    def _slot_divides_day(self) -> WorldConfig:
        if 1440 % self.slot_minutes:
            raise ValueError("slot_minutes must divide 1440 (a day)")
        return self


class LookalikeConfig(_Frozen):
    """Legitimate behaviour that looks like fraud (rates per customer-day unless named otherwise)."""

    large_one_off_rate: float = 0.0015
    large_one_off_median: float = 35_000
    legit_sim_swap_rate: float = 0.0006
    legit_device_change_rate: float = 0.0012
    cash_out_after_swap_prob: float = Field(0.4, ge=0, le=1)
    payday_new_counterparty_prob: float = Field(0.45, ge=0, le=1)
    mistaken_transfer_rate: float = 0.0004
    mistaken_return_prob: float = Field(0.75, ge=0, le=1)
    chama_share: float = Field(0.25, ge=0, le=1, description="customers in a savings group (chama)")
    chama_size: tuple[int, int] = (8, 25)


class SmsConfig(_Frozen):
    """The SMS stream: whose inboxes are recorded and how busy they are."""

    panel_share: float = Field(0.1, ge=0, le=1, description="customers whose whole inbox is recorded")
    personal_rate: float = Field(0.4, ge=0, description="personal messages per panel member per day")
    service_rate: float = Field(0.04, ge=0, description="operator and bank service messages per member-day")
    spam_rate: float = Field(0.05, ge=0, description="untargeted scam messages per member-day")


class SimConfig(_Frozen):
    """One simulated world. ``accounts`` counts customers; agents, merchants, billers and banks follow."""

    accounts: int = Field(1000, ge=50, le=9_999_999)
    days: int = Field(30, ge=1, le=3660)
    seed: int = Field(0, ge=0)
    start: date = date(2024, 1, 1)
    world: WorldConfig = WorldConfig()
    lookalikes: LookalikeConfig = LookalikeConfig()
    sms: SmsConfig = SmsConfig()
    typologies: TypologySet = TypologySet()
    new_typology_from_day: int | None = Field(
        None, ge=0, description="scenario: switch on the new typology (till_swap) from this day")
    operator_sender_id: str | None = Field(None, description="default: settings.operator_sender_ids[0]")
    msisdn_salt: str | None = Field(None, description="default: settings.redaction_salt")

    def effective_typologies(self) -> TypologySet:
        """The typology set with the scenario applied."""
        if self.new_typology_from_day is None:
            return self.typologies
        till = self.typologies.till_swap.model_copy(
            update={"enabled": True, "start_day": self.new_typology_from_day})
        return self.typologies.model_copy(update={"till_swap": till})


class SimSummary(BaseModel):
    """What a run produced; also written to ``summary.json``."""

    model_config = ConfigDict(extra="forbid")

    seed: int
    accounts: dict[str, int]
    days: int
    start_ms: int
    end_ms: int
    first_ts_ms: int | None
    last_ts_ms: int | None
    transactions: int
    per_type: dict[str, int]
    amount_quantiles_kes: dict[str, dict[str, float]]
    fraud_transactions: int
    fraud_rate: float
    per_typology: dict[str, int]
    fraud_amount_kes: dict[str, float]
    labels: int
    label_coverage: float
    label_coverage_by_end: float
    labels_per_source: dict[str, int]
    account_events: dict[str, int]
    sms: dict[str, Any]
    rejected_for_funds: int
    wall_seconds: float
    files: dict[str, str]
