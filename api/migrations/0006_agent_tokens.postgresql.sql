-- 0006 agent tokens: the holder delegates to the agent with a separate secret (api/delegation.py).
-- Existing purchase tokens keep working as the holder's; existing records keep their registration source.
CREATE TABLE "agent_token" ("id" SERIAL NOT NULL PRIMARY KEY, "purchase_id" INTEGER NOT NULL, "token_hash" VARCHAR(64) NOT NULL, "token_last4" VARCHAR(4) NOT NULL, "created_at" TIMESTAMP NOT NULL, "revoked_at" TIMESTAMP, "last_used_at" TIMESTAMP, FOREIGN KEY ("purchase_id") REFERENCES "purchase" ("id") ON DELETE RESTRICT);

CREATE INDEX "agent_token_purchase_id" ON "agent_token" ("purchase_id");

CREATE UNIQUE INDEX "agent_token_token_hash" ON "agent_token" ("token_hash");

ALTER TABLE "audit_event" ADD COLUMN "agent_token_id" INTEGER REFERENCES "agent_token" ("id") ON DELETE RESTRICT;

CREATE INDEX "audit_event_agent_token_id" ON "audit_event" ("agent_token_id");
