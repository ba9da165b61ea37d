-- SMS shield: the kind of message each check found (scam, promotion or genuine), next to its
-- protective verdict. Messages checked before categories existed keep NULL, except scams, whose
-- verdict already says what they are.
ALTER TABLE sms_messages ADD COLUMN category TEXT;
UPDATE sms_messages SET category = 'scam' WHERE verdict = 'scam';
