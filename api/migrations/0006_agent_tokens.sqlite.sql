-- 0006 agent tokens: the holder delegates to the agent with a separate secret (api/delegation.py).
-- Existing purchase tokens keep working as the holder's; existing records keep their registration source.
CREATE TABLE "agent_token" ("id" INTEGER NOT NULL PRIMARY KEY, "purchase_id" INTEGER NOT NULL, "token_hash" VARCHAR(64) NOT NULL, "token_last4" VARCHAR(4) NOT NULL, "created_at" DATETIME NOT NULL, "revoked_at" DATETIME, "last_used_at" DATETIME, FOREIGN KEY ("purchase_id") REFERENCES "purchase" ("id") ON DELETE RESTRICT);

CREATE INDEX "agent_token_purchase_id" ON "agent_token" ("purchase_id");

CREATE UNIQUE INDEX "agent_token_token_hash" ON "agent_token" ("token_hash");

ALTER TABLE "audit_event" ADD COLUMN "agent_token_id" INTEGER REFERENCES "agent_token" ("id") ON DELETE RESTRICT;

CREATE INDEX "audit_event_agent_token_id" ON "audit_event" ("agent_token_id");
