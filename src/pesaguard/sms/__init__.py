"""The SMS scam shield: normalisation, PII redaction, scam classifier and ledger claim check.

Entry points: :func:`pesaguard.sms.shield.get_shield` then ``Shield.check(text, ...)``;
``pesaguard sms check|train|evaluate`` on the command line; ``POST /v1/sms/check`` over HTTP.
"""
