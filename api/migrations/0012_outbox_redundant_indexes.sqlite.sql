-- 0012 two outbox indexes that no query needs: "status" alone is the first column of the claim index (0011), which
-- also serves every query on status and next_attempt_at together; each message written or sent no longer updates them
DROP INDEX "outbox_message_status";
DROP INDEX "outbox_message_next_attempt_at";
