-- 0007 lifecycle: resending the private link, reminders, retention (frozen once on main)
-- link_token_enc: the current private-link token, sealed, so the holder can have the link re-sent; deleted by purge
-- token_rotated_at: the last replacement of the token (support or the holder); no reminders after it
-- email_purged_at: when `ops purge` deleted the recovery address (email_enc and email_hash are then '')
ALTER TABLE "purchase" ADD COLUMN "link_token_enc" TEXT;

ALTER TABLE "purchase" ADD COLUMN "token_rotated_at" TIMESTAMP;

ALTER TABLE "purchase" ADD COLUMN "email_purged_at" TIMESTAMP;

CREATE INDEX "purchase_paid_at" ON "purchase" ("paid_at");
