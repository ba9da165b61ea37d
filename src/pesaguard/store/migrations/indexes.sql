-- Repeatable: secondary indexes that a bulk load may drop and rebuild (pesaguard.store.core.bulk_load).
-- Store.migrate() re-applies this file on every start, so an index dropped by a load that was
-- killed half-way is rebuilt the next time the store is opened. Every statement must be idempotent.
CREATE INDEX IF NOT EXISTS ix_transactions_ts ON transactions (ts_ms);
CREATE INDEX IF NOT EXISTS ix_transactions_payer ON transactions (payer, ts_ms);
CREATE INDEX IF NOT EXISTS ix_transactions_payee ON transactions (payee, ts_ms);
