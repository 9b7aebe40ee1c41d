-- 0011 the outbox sender claims the next due message with one step down an index on (status, next_attempt_at, id);
-- with only the index on status it read and sorted every queued message, inside its write transaction, once per
-- message sent (frozen once on main)
CREATE INDEX "outbox_message_status_next_attempt_at_id" ON "outbox_message" ("status", "next_attempt_at", "id");
