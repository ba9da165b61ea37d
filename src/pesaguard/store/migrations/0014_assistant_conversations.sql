-- Assistant: the last question of each conversation, so that a follow-up ("and if I already sent
-- it?") over SMS or the API is read with it. One row per conversation, overwritten by each turn;
-- the question is stored with phone numbers, names and account numbers redacted.
CREATE TABLE assistant_conversations (
    conversation_id  TEXT PRIMARY KEY,
    question         TEXT NOT NULL,
    lang             TEXT NOT NULL,
    chunk_id         TEXT,
    ref              TEXT,
    updated_ms       BIGINT NOT NULL
);
