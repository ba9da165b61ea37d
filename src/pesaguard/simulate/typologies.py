"""Every fraud typology the simulator knows, with ALL of its parameters, one frozen config each.

Rates are events per million active customer-days (for the scams: people targeted, of whom
``success_prob`` pay; for agents and merchants: per thousand agent- or merchant-days), multiplied by
``intensity``. A typology runs on days ``start_day <= day < end_day``
(``end_day=None``: to the end), which is how a scenario switches a new typology on mid-run.
Amounts are in whole shillings (KES); delays in minutes unless named ``_days``.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LabelPolicy(_Frozen):
    """Who reports a fraud, how likely, and how late (lognormal delays; some are never reported)."""

    victim_report_prob: float = Field(0.7, ge=0, le=1)
    victim_delay_median_days: float = Field(2.0, gt=0)
    victim_delay_sigma: float = Field(0.9, ge=0)
    victim_source: Literal["victim_report", "chargeback"] = "victim_report"
    investigation_prob: float = Field(0.4, ge=0, le=1)
    investigation_delay_median_days: float = Field(12.0, gt=0)
    investigation_delay_sigma: float = Field(0.6, ge=0)


class TypologyConfig(_Frozen):
    """What every typology has: a name, an on/off window and an intensity."""

    name: ClassVar[str] = "typology"
    enabled: bool = True
    start_day: int = Field(0, ge=0)
    end_day: int | None = Field(None, ge=0)
    intensity: float = Field(1.0, ge=0)
    rate: float = Field(10.0, ge=0, description="events per million active customer-days")
    labels: LabelPolicy = LabelPolicy()

    def active(self, day: int) -> bool:
        return (self.enabled and self.intensity > 0 and day >= self.start_day
                and (self.end_day is None or day < self.end_day))


class SimSwapConfig(TypologyConfig):
    """SIM-swap account takeover: SIM change, then draining transfers to mules, then cash-out at agents."""

    name: ClassVar[str] = "sim_swap_ato"
    rate: float = 45.0
    min_victim_balance: int = 2_000
    phishing_sms_prob: float = Field(0.45, ge=0, le=1, description="a PIN/OTP phishing SMS precedes the swap")
    drains_mean: float = Field(1.6, ge=0, description="extra drains beyond the first (Poisson)")
    max_drains: int = Field(5, ge=1)
    drain_share: tuple[float, float] = (0.75, 0.97)
    first_drain_delay_min: tuple[float, float] = (8.0, 90.0)
    drain_gap_min: tuple[float, float] = (2.0, 25.0)
    airtime_drain_prob: float = Field(0.25, ge=0, le=1)
    mules_per_event: tuple[int, int] = (1, 3)
    cash_out_delay_min: tuple[float, float] = (35.0, 360.0)
    recovery_days: tuple[float, float] = (0.3, 3.0)
    labels: LabelPolicy = LabelPolicy(victim_report_prob=0.85, victim_delay_median_days=1.0,
                                      victim_delay_sigma=0.8, investigation_prob=0.5)


class ReversalScamConfig(TypologyConfig):
    """A fake "you have received" SMS, then a plea; the victim sends the money "back"."""

    name: ClassVar[str] = "reversal_scam"
    rate: float = 1_200.0
    claimed_amount_median: float = 1_800
    claimed_amount_sigma: float = 0.8
    success_prob: float = Field(0.25, ge=0, le=1, description="share of targeted people who pay")
    plea_delay_min: tuple[float, float] = (1.0, 15.0)
    pay_delay_min: tuple[float, float] = (3.0, 90.0)
    cash_out_prob: float = 0.8
    cash_out_delay_min: tuple[float, float] = (40.0, 600.0)
    labels: LabelPolicy = LabelPolicy(victim_report_prob=0.65, victim_delay_median_days=1.5,
                                      investigation_prob=0.3)


class PrizeScamConfig(TypologyConfig):
    """Prize/lottery and fake job/loan offers: the victim pays a "fee" (advance-fee fraud)."""

    name: ClassVar[str] = "prize_scam"
    rate: float = 700.0
    success_prob: float = 0.12
    job_loan_share: float = Field(0.4, ge=0, le=1, description="offers dressed as jobs or loans")
    fee_median: float = 900
    fee_sigma: float = 0.7
    second_fee_prob: float = Field(0.3, ge=0, le=1)
    till_share: float = Field(0.3, ge=0, le=1, description="fee paid to a till instead of a phone number")
    pay_delay_min: tuple[float, float] = (5.0, 600.0)
    cash_out_delay_min: tuple[float, float] = (60.0, 900.0)
    labels: LabelPolicy = LabelPolicy(victim_report_prob=0.45, victim_delay_median_days=3.0,
                                      victim_delay_sigma=1.0, investigation_prob=0.25)


class ImpersonationScamConfig(TypologyConfig):
    """Staff or agent impersonation ("customer care", "your agent", "bank officer"): the victim pays."""

    name: ClassVar[str] = "impersonation_scam"
    rate: float = 1_000.0
    success_prob: float = 0.15
    amount_median: float = 3_000
    amount_sigma: float = 0.9
    agent_share: float = Field(0.35, ge=0, le=1, description="posing as an agent who deposited by mistake")
    pay_delay_min: tuple[float, float] = (2.0, 120.0)
    cash_out_delay_min: tuple[float, float] = (40.0, 480.0)
    labels: LabelPolicy = LabelPolicy(victim_report_prob=0.6, victim_delay_median_days=2.0,
                                      investigation_prob=0.3)


class MuleNetworkConfig(TypologyConfig):
    """A ring collects from many victims (fake sellers, investment schemes), layers and cashes out fast."""

    name: ClassVar[str] = "mule_network"
    rate: float = 12.0
    victims: tuple[int, int] = (6, 30)
    collect_hours: tuple[float, float] = (4.0, 40.0)
    amount_median: float = 1_500
    amount_sigma: float = 0.8
    layers: tuple[int, int] = (1, 2)
    layer_delay_min: tuple[float, float] = (30.0, 180.0)
    cash_out_agents: tuple[int, int] = (2, 4)
    cash_out_delay_min: tuple[float, float] = (30.0, 240.0)
    bank_exit_prob: float = Field(0.2, ge=0, le=1)
    labels: LabelPolicy = LabelPolicy(victim_report_prob=0.4, victim_delay_median_days=4.0,
                                      investigation_prob=0.6, investigation_delay_median_days=15.0)


class CompromisedAgentConfig(TypologyConfig):
    """An agent goes bad for a window of days: unauthorised withdrawals on visiting customers' accounts."""

    name: ClassVar[str] = "compromised_agent"
    rate: float = 0.5  # per thousand agent-days
    window_days: tuple[int, int] = (3, 10)
    victim_prob: float = Field(0.2, ge=0, le=1, description="share of the agent's customers hit")
    withdraw_share: tuple[float, float] = (0.2, 0.8)
    delay_min: tuple[float, float] = (20.0, 300.0)
    mule_cash_out_pull: float = Field(4.0, ge=1, description="how much more mules favour such an agent")
    labels: LabelPolicy = LabelPolicy(victim_report_prob=0.55, victim_delay_median_days=3.0,
                                      investigation_prob=0.7, investigation_delay_median_days=20.0)


class CompromisedMerchantConfig(TypologyConfig):
    """A till goes bad for a window of days: paid from stolen accounts, many of its sales fraudulent."""

    name: ClassVar[str] = "compromised_merchant"
    rate: float = 0.35  # per thousand merchant-days
    window_days: tuple[int, int] = (2, 7)
    payments_per_day: tuple[int, int] = (2, 8)
    amount_median: float = 2_500
    amount_sigma: float = 0.9
    labels: LabelPolicy = LabelPolicy(victim_report_prob=0.7, victim_delay_median_days=5.0,
                                      victim_source="chargeback", investigation_prob=0.3)


class TillSwapConfig(TypologyConfig):
    """New typology, off by default: a fraudster's till number replaces a real shop's; its customers pay it.

    Amounts look like the shop's normal sales and the payers are ordinary customers, so only the new
    payee and its fast cash-out give it away. Scenarios switch it on with ``new_typology_from_day``.
    """

    name: ClassVar[str] = "till_swap"
    enabled: bool = False
    rate: float = 2.0  # per thousand merchant-days: shops hit
    duration_days: tuple[int, int] = (2, 6)
    diverted_share: float = Field(0.35, ge=0, le=1, description="share of the shop's payers who pay the fake till")
    sweep_share: float = Field(0.95, ge=0, le=1, description="share of the fake till's balance banked each night")
    labels: LabelPolicy = LabelPolicy(victim_report_prob=0.3, victim_delay_median_days=6.0,
                                      investigation_prob=0.4)


class TypologySet(_Frozen):
    sim_swap_ato: SimSwapConfig = SimSwapConfig()
    reversal_scam: ReversalScamConfig = ReversalScamConfig()
    prize_scam: PrizeScamConfig = PrizeScamConfig()
    impersonation_scam: ImpersonationScamConfig = ImpersonationScamConfig()
    mule_network: MuleNetworkConfig = MuleNetworkConfig()
    compromised_agent: CompromisedAgentConfig = CompromisedAgentConfig()
    compromised_merchant: CompromisedMerchantConfig = CompromisedMerchantConfig()
    till_swap: TillSwapConfig = TillSwapConfig()

    @model_validator(mode="after")
    def _names_match(self) -> TypologySet:
        for field, cfg in self:
            if field != cfg.name:  # pragma: no cover - a programming error
                raise ValueError(f"typology field {field} holds {cfg.name}")
        return self

    def all(self) -> list[TypologyConfig]:
        return [cfg for _, cfg in self]


#: Typology names in code order; code 0 means legitimate.
TYPOLOGY_NAMES: tuple[str, ...] = tuple(cfg.name for cfg in TypologySet().all())


def typology_code(name: str) -> int:
    """1-based code of a typology (0 is legitimate).

    >>> typology_code("sim_swap_ato"), TYPOLOGY_NAMES[typology_code("till_swap") - 1]
    (1, 'till_swap')
    """
    return TYPOLOGY_NAMES.index(name) + 1
