"""Small integer codes the engine uses in its numpy arrays, and their output strings."""

from __future__ import annotations

from pesaguard.schema import TRANSACTION_TYPES

# Transaction types: indices into TYPES, which follows pesaguard.schema.TRANSACTION_TYPES.
TYPES: tuple[str, ...] = TRANSACTION_TYPES[:7]
CASH_IN, CASH_OUT, P2P, MERCHANT, BILL, AIRTIME, BANK_TRANSFER = range(7)

CHANNELS: tuple[str, ...] = ("app", "ussd", "agent", "till", "bank")
APP, USSD, AGENT_CH, TILL, BANK_CH = range(5)

# Account kinds, in the order their index ranges are laid out in the world.
KINDS: tuple[str, ...] = ("customer", "agent", "merchant", "biller", "bank")
CUSTOMER, AGENT, MERCHANT_K, BILLER, BANK = range(5)

# How a candidate's amount is decided: fixed when generated, a fraction of the payer's balance at the
# start of its time slot ("drain"), or a fraction of the money collected so far into a pot.
FIXED, DRAIN, POT = 0, 1, 2

# Role of a row in a fraud event; decides who reports it and when.
NO_ROLE, VICTIM, MULE_MOVE, CASH_OUT_ROLE = 0, 1, 2, 3

assert TYPES == ("cash_in", "cash_out", "p2p", "merchant", "bill", "airtime", "bank_transfer")
