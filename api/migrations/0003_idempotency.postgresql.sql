-- 0003 stored answers for writes sent with an Idempotency-Key (redeem-token, lock-agent-edits)
-- (frozen: change the schema in a new migration file)
CREATE TABLE "idempotent_request" ("id" SERIAL NOT NULL PRIMARY KEY, "scope_hash" VARCHAR(64) NOT NULL, "request_hash" VARCHAR(64) NOT NULL, "status" INTEGER NOT NULL, "answer_enc" TEXT NOT NULL, "created_at" TIMESTAMP NOT NULL);

CREATE UNIQUE INDEX "idempotent_request_scope_hash" ON "idempotent_request" ("scope_hash");

CREATE INDEX "idempotent_request_created_at" ON "idempotent_request" ("created_at");
