"""The actors of the simulated world and their mutable state, held in numpy arrays.

Account indices are laid out by kind: customers ``[0, n_c)``, then agents, merchants, billers, banks.
Balances are integer minor units; ``opened_ms`` and timestamps are UTC epoch milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pesaguard.simulate.codes import BILLER, KINDS
from pesaguard.simulate.config import SimConfig
from pesaguard.simulate.ids import account_ids, device_ids
from pesaguard.simulate.text import names

DAY_MS = 86_400_000
EAT_OFFSET_MS = 3 * 3_600_000  # the world lives in East Africa Time (UTC+3)
KES = 100
INCOME_BANDS: tuple[str, ...] = ("low", "lower_middle", "middle", "upper")
BAND_SHARE = np.array([0.45, 0.30, 0.18, 0.07])
BAND_AMOUNT = np.array([0.55, 1.0, 1.8, 3.5])  # multiplies every legitimate amount
BAND_BALANCE = np.array([300, 1_200, 4_000, 15_000]) * KES
BAND_SALARIED = np.array([0.15, 0.35, 0.6, 0.8])
BAND_SALARY = np.array([9_000, 22_000, 55_000, 160_000]) * KES
BANK_BALANCE = 10**14  # banks never run dry


def day_start_ms(start: datetime, day: int) -> int:
    """UTC epoch ms of local (EAT) midnight that begins ``day``."""
    return int(start.timestamp() * 1000) + day * DAY_MS - EAT_OFFSET_MS


@dataclass
class World:
    n: dict[str, int]
    offset: dict[str, int]
    kind: np.ndarray
    ids: pa.StringArray
    region: np.ndarray
    band: np.ndarray
    opened_ms: np.ndarray
    device: np.ndarray
    msisdn: np.ndarray
    display: list[str]
    sw: np.ndarray
    smartphone: np.ndarray
    salaried: np.ndarray
    salary: np.ndarray
    payday: np.ndarray  # day of month, 0 = last day
    bank_of: np.ndarray
    activity: np.ndarray
    contacts: np.ndarray
    home_agents: np.ndarray
    fav_merchants: np.ndarray
    my_billers: np.ndarray
    mule: np.ndarray
    fraud_till: np.ndarray
    till: np.ndarray
    float_target: np.ndarray
    panel: np.ndarray
    chama: np.ndarray  # (members, treasurer, day of month, amount) rows for each group
    balance: np.ndarray
    agents_by_region: list[np.ndarray]
    merchants_by_region: list[np.ndarray]
    customers_by_region: list[np.ndarray]
    seed: int
    next_device: int = 0

    def ix(self, kind: int) -> np.ndarray:
        name = KINDS[kind]
        return np.arange(self.offset[name], self.offset[name] + self.n[name])

    def phone(self, i: int) -> str:
        """Local phone number of account ``i`` (``07XXXXXXXX`` or ``01XXXXXXXX``)."""
        return f"0{int(self.msisdn[i]):09d}"

    def device_str(self, numbers: np.ndarray) -> pa.Array:
        """Device id strings for device numbers (``-1``: null)."""
        ok = numbers >= 0
        out = device_ids(np.where(ok, numbers, 0), self.seed)
        return pc.if_else(pa.array(ok), out, pa.scalar(None, pa.string()))

    def new_devices(self, k: int) -> np.ndarray:
        out = np.arange(self.next_device, self.next_device + k, dtype=np.int64)
        self.next_device += k
        return out


def _pick_in(groups: list[np.ndarray], keys: np.ndarray, u: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """For each key (a region), a member of ``groups[key]`` chosen by ``u`` in [0, 1)."""
    out = np.empty(len(keys), dtype=np.int64)
    for r, members in enumerate(groups):
        sel = keys == r
        pool = members if len(members) else fallback
        out[sel] = pool[(u[sel] * len(pool)).astype(np.int64)]
    return out


def build_world(cfg: SimConfig) -> World:
    """Create every account with its attributes and opening balance; deterministic for ``cfg.seed``."""
    w = cfg.world
    rng = np.random.default_rng([cfg.seed, 1])
    nc = cfg.accounts
    n = {"customer": nc, "agent": max(3, nc // w.customers_per_agent),
         "merchant": max(6, nc // w.customers_per_merchant), "biller": len(names.BILLERS), "bank": w.banks}
    offset, total = {}, 0
    for k in KINDS:
        offset[k], total = total, total + n[k]
    kind = np.repeat(np.arange(len(KINDS), dtype=np.int8), [n[k] for k in KINDS])
    ids = pa.concat_arrays([
        account_ids("C", 7, 1, n["customer"]), account_ids("AG", 5, 1, n["agent"]),
        account_ids("M", 5, 1, n["merchant"]), account_ids("B", 4, 1, n["biller"]), account_ids("BK", 2, 1, n["bank"]),
    ])
    start = datetime.combine(cfg.start, time(), tzinfo=UTC)
    t0 = day_start_ms(start, 0)
    nreg = len(names.REGIONS)
    region = rng.choice(nreg, size=total, p=np.array(names.REGION_WEIGHTS)).astype(np.int8)
    band = np.full(total, -1, dtype=np.int8)
    band[:nc] = rng.choice(4, size=nc, p=BAND_SHARE)
    cb = band[:nc]

    # Opening dates: most accounts are years old; some open during the run (mules more often).
    age_days = np.exp(rng.normal(np.log(3 * 365), 0.8, total)).clip(30, 15 * 365)
    opened = (t0 - age_days * DAY_MS).astype(np.int64)
    mule = np.zeros(total, dtype=bool)
    mule[:nc] = rng.random(nc) < w.mule_share
    fresh = np.zeros(total, dtype=bool)
    fresh[:nc] = (rng.random(nc) < w.new_account_share) | (mule[:nc] & (rng.random(nc) < 0.35))
    opened[fresh] = t0 + (rng.random(fresh.sum()) * min(cfg.days - 1, 20) * DAY_MS).astype(np.int64)
    veteran = rng.choice(nc, size=min(nc, 3), replace=False)  # every world has a few mules from day 0
    mule[veteran], fresh[veteran] = True, False
    opened[veteran] = np.minimum(opened[veteran], t0 - 30 * DAY_MS)
    young_mule = mule & ~fresh & (rng.random(total) < 0.5)
    opened[young_mule] = t0 - (rng.random(young_mule.sum()) * 60 * DAY_MS).astype(np.int64)

    msisdn = np.zeros(total, dtype=np.int64)
    need = n["customer"] + n["agent"]
    pool = np.unique(rng.integers(700_000_000, 800_000_000, size=need * 2 + 100))
    pool = rng.permutation(pool)[:need]
    eleven = rng.random(need) < 0.12  # newer 01XX numbers
    pool[eleven] = 100_000_000 + pool[eleven] % 20_000_000
    msisdn[:need] = pool
    till = np.zeros(total, dtype=bool)
    m0, a0 = offset["merchant"], offset["agent"]
    till[m0:m0 + n["merchant"]] = rng.random(n["merchant"]) < 0.75
    msisdn[m0:m0 + n["merchant"]] = 100_000 + rng.choice(9_899_999, n["merchant"], replace=False)  # till numbers

    first = rng.integers(0, len(names.FIRST_NAMES), total)
    last = rng.integers(0, len(names.LAST_NAMES), total)
    display = [f"{names.FIRST_NAMES[a]} {names.LAST_NAMES[b]}".upper() for a, b in zip(first[:nc], last[:nc], strict=True)]
    display += [f"{names.FIRST_NAMES[first[i]]} {names.AGENT_KINDS[i % len(names.AGENT_KINDS)]}".upper()
                for i in range(a0, a0 + n["agent"])]
    display += [f"{names.SHOP_WORDS[first[i] % len(names.SHOP_WORDS)]} {names.SHOP_KINDS[last[i] % len(names.SHOP_KINDS)]}".upper()
                for i in range(m0, m0 + n["merchant"])]
    display += [b[0] for b in names.BILLERS]
    display += [names.BANK_NAMES[i % len(names.BANK_NAMES)].upper() for i in range(n["bank"])]

    salaried = np.zeros(total, dtype=bool)
    salaried[:nc] = rng.random(nc) < BAND_SALARIED[cb] * (w.salaried_share / 0.35)
    salary = np.zeros(total, dtype=np.int64)
    salary[:nc] = (BAND_SALARY[cb] * np.exp(rng.normal(0, 0.35, nc))).astype(np.int64) // (100 * KES) * 100 * KES
    payday = np.where(rng.random(total) < 0.7, 0, rng.integers(25, 29, total)).astype(np.int8)
    bank_of = offset["bank"] + rng.integers(0, n["bank"], total)
    act = np.exp(rng.normal(0, 0.6, total))
    act *= w.activity / act.mean()
    act[mule] *= 0.3

    by_region = lambda lo, k: [lo + np.flatnonzero(region[lo:lo + k] == r) for r in range(nreg)]  # noqa: E731
    cust_r, agent_r, merch_r = by_region(0, nc), by_region(a0, n["agent"]), by_region(m0, n["merchant"])
    all_c, all_a, all_m = np.arange(nc), a0 + np.arange(n["agent"]), m0 + np.arange(n["merchant"])
    creg = np.repeat(region[:nc], w.contacts)
    local = rng.random(nc * w.contacts) < 0.7
    contacts = np.where(local, _pick_in(cust_r, creg, rng.random(len(creg)), all_c),
                        rng.integers(0, nc, len(creg))).reshape(nc, w.contacts)
    selfc = contacts == np.arange(nc)[:, None]
    contacts[selfc] = (np.nonzero(selfc)[0] + 1) % nc
    home_agents = _pick_in(agent_r, np.repeat(region[:nc], 2), rng.random(nc * 2), all_a).reshape(nc, 2)
    fav_merchants = _pick_in(merch_r, np.repeat(region[:nc], 3), rng.random(nc * 3), all_m).reshape(nc, 3)
    bill_w = np.array([0.0, 0.3, 0.08, 0.12, 0.12, 0.05, 0.08, 0.05, 0.08, 0.05, 0.05, 0.02])
    my_billers = offset["biller"] + rng.choice(len(names.BILLERS), size=(nc, 2), p=bill_w / bill_w.sum())

    fraud_till = np.zeros(total, dtype=bool)
    k_ft = max(2, int(n["merchant"] * w.fraud_till_share))
    ft = m0 + rng.choice(n["merchant"], size=k_ft, replace=False)
    fraud_till[ft] = True
    till[ft] = True
    opened[ft] = t0 - (rng.random(k_ft) * 45 * DAY_MS).astype(np.int64)

    float_target = np.zeros(total, dtype=np.int64)
    float_target[all_a] = (np.exp(rng.normal(np.log(80_000), 0.5, n["agent"])) * KES).astype(np.int64)
    balance = np.zeros(total, dtype=np.int64)
    balance[:nc] = (BAND_BALANCE[cb] * np.exp(rng.normal(0, 1.0, nc))).astype(np.int64) // KES * KES
    balance[all_a] = float_target[all_a]
    balance[all_m] = (np.exp(rng.normal(np.log(5_000), 1.0, n["merchant"])) * KES).astype(np.int64)
    balance[offset["bank"]:] = BANK_BALANCE

    chama = _chamas(cfg, rng, region[:nc], cust_r)
    sw = rng.random(total) < w.swahili_share
    panel = np.zeros(total, dtype=bool)
    panel[:nc] = rng.random(nc) < cfg.sms.panel_share
    world = World(
        n=n, offset=offset, kind=kind, ids=ids, region=region, band=band, opened_ms=opened,
        device=np.arange(total, dtype=np.int64), msisdn=msisdn, display=display, sw=sw,
        smartphone=rng.random(total) < w.smartphone_share, salaried=salaried, salary=salary, payday=payday,
        bank_of=bank_of, activity=act, contacts=contacts, home_agents=home_agents, fav_merchants=fav_merchants,
        my_billers=my_billers, mule=mule, fraud_till=fraud_till, till=till, float_target=float_target,
        panel=panel, chama=chama, balance=balance, agents_by_region=agent_r, merchants_by_region=merch_r,
        customers_by_region=cust_r, seed=cfg.seed, next_device=total,
    )
    world.device[kind >= BILLER] = -1
    return world


def _chamas(cfg: SimConfig, rng: np.random.Generator, cregion: np.ndarray, cust_r: list[np.ndarray]) -> np.ndarray:
    """Savings groups: members pay the treasurer on a fixed day each month (legit fan-in)."""
    rows = []
    lo, hi = cfg.lookalikes.chama_size
    for members in cust_r:
        chosen = members[rng.random(len(members)) < cfg.lookalikes.chama_share]
        i = 0
        while len(chosen) - i >= lo:
            size = int(rng.integers(lo, hi + 1))
            group = chosen[i:i + size]
            i += size
            amount = int(rng.choice([300, 500, 1_000, 2_000, 3_000, 5_000])) * KES
            for m in group[1:]:
                rows.append((m, group[0], int(rng.integers(1, 29)), amount))
    arr = np.array(rows, dtype=np.int64).reshape(-1, 4)
    # all members of one group share its day: take the treasurer's first row's day
    if len(arr):
        _, first_idx, inv = np.unique(arr[:, 1], return_index=True, return_inverse=True)
        arr[:, 2] = arr[first_idx[inv], 2]
    return arr


