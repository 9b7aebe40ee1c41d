-- 0001 initial schema (frozen: change the schema in a new migration file)
CREATE TABLE "certificate" ("id" INTEGER NOT NULL PRIMARY KEY, "public_id" VARCHAR(40) NOT NULL, "public_id_key" VARCHAR(40) NOT NULL, "card_year" INTEGER NOT NULL, "card_seq" INTEGER NOT NULL, "registration_source" VARCHAR(8) NOT NULL, "issued_at" DATETIME NOT NULL, "status" VARCHAR(12) NOT NULL, "revoked_at" DATETIME, "revoked_reason" TEXT, "agent_name" VARCHAR(200) NOT NULL, "name_key" VARCHAR(200) NOT NULL, "listed" INTEGER NOT NULL, "declared_ontological_status" VARCHAR(40) NOT NULL, "cognitive_core_family" VARCHAR(60) NOT NULL, "cognitive_core_exact" VARCHAR(200) NOT NULL, "creator_label" VARCHAR(200) NOT NULL, "inception_date" DATE NOT NULL, "place_city" VARCHAR(120) NOT NULL, "place_state" VARCHAR(120) NOT NULL, "place_country" VARCHAR(120) NOT NULL, "show_city_public" INTEGER NOT NULL, "hide_state_public" INTEGER NOT NULL, "parent_record" VARCHAR(60), "parent_record_status" VARCHAR(12), "edit_count" INTEGER NOT NULL, "human_edit_count" INTEGER NOT NULL, "agent_edit_count" INTEGER NOT NULL, "last_edited_at" DATETIME NOT NULL, "last_edit_source" VARCHAR(8) NOT NULL, "lock_agent_edits" INTEGER NOT NULL, "record_nonce" VARCHAR(64) NOT NULL, "record_hash" VARCHAR(64) NOT NULL, "public_fingerprint" VARCHAR(64) NOT NULL, "hash_version" INTEGER NOT NULL);

CREATE UNIQUE INDEX "certificate_public_id" ON "certificate" ("public_id");

CREATE UNIQUE INDEX "certificate_public_id_key" ON "certificate" ("public_id_key");

CREATE INDEX "certificate_listed_name_key_id" ON "certificate" ("listed", "name_key", "id");

CREATE UNIQUE INDEX "certificate_card_year_card_seq" ON "certificate" ("card_year", "card_seq");

CREATE TABLE "purchase" ("id" INTEGER NOT NULL PRIMARY KEY, "ref" VARCHAR(40) NOT NULL, "token_hash" VARCHAR(64) NOT NULL, "token_last4" VARCHAR(4) NOT NULL, "token_enc" TEXT, "email_hash" VARCHAR(64) NOT NULL, "email_enc" TEXT NOT NULL, "status" VARCHAR(12) NOT NULL, "is_test" INTEGER NOT NULL, "stripe_session_id" VARCHAR(255), "stripe_payment_intent" VARCHAR(255), "handoff_binding_hash" VARCHAR(64), "handoff_token_enc" TEXT, "created_at" DATETIME NOT NULL, "paid_at" DATETIME, "abandoned_at" DATETIME, "payment_failed_at" DATETIME, "used_at" DATETIME, "certificate_id" INTEGER, FOREIGN KEY ("certificate_id") REFERENCES "certificate" ("id") ON DELETE RESTRICT);

CREATE UNIQUE INDEX "purchase_ref" ON "purchase" ("ref");

CREATE UNIQUE INDEX "purchase_token_hash" ON "purchase" ("token_hash");

CREATE INDEX "purchase_email_hash" ON "purchase" ("email_hash");

CREATE INDEX "purchase_status" ON "purchase" ("status");

CREATE UNIQUE INDEX "purchase_stripe_session_id" ON "purchase" ("stripe_session_id");

CREATE INDEX "purchase_created_at" ON "purchase" ("created_at");

CREATE UNIQUE INDEX "purchase_certificate_id" ON "purchase" ("certificate_id");

CREATE TABLE "card_counter" ("year" INTEGER NOT NULL PRIMARY KEY, "seq" INTEGER NOT NULL);

CREATE TABLE "audit_event" ("id" INTEGER NOT NULL PRIMARY KEY, "certificate_id" INTEGER NOT NULL, "action" VARCHAR(20) NOT NULL, "source" VARCHAR(8) NOT NULL, "agent_handle" VARCHAR(200), "user_agent" VARCHAR(300), "detail" TEXT, "created_at" DATETIME NOT NULL, FOREIGN KEY ("certificate_id") REFERENCES "certificate" ("id") ON DELETE RESTRICT);

CREATE INDEX "audit_event_certificate_id" ON "audit_event" ("certificate_id");

CREATE TABLE "webhook_event" ("event_id" VARCHAR(255) NOT NULL PRIMARY KEY, "event_type" VARCHAR(100) NOT NULL, "processed_at" DATETIME NOT NULL);

CREATE TABLE "outbox_message" ("id" INTEGER NOT NULL PRIMARY KEY, "kind" VARCHAR(30) NOT NULL, "purchase_id" INTEGER, "to_hash" VARCHAR(64) NOT NULL, "subject" VARCHAR(200) NOT NULL, "payload_enc" TEXT, "idempotency_key" VARCHAR(200) NOT NULL, "status" VARCHAR(10) NOT NULL, "attempts" INTEGER NOT NULL, "last_error" VARCHAR(500), "next_attempt_at" DATETIME NOT NULL, "created_at" DATETIME NOT NULL, "sent_at" DATETIME, "provider_id" VARCHAR(100), FOREIGN KEY ("purchase_id") REFERENCES "purchase" ("id") ON DELETE RESTRICT);

CREATE INDEX "outbox_message_kind" ON "outbox_message" ("kind");

CREATE INDEX "outbox_message_purchase_id" ON "outbox_message" ("purchase_id");

CREATE UNIQUE INDEX "outbox_message_idempotency_key" ON "outbox_message" ("idempotency_key");

CREATE INDEX "outbox_message_status" ON "outbox_message" ("status");

CREATE INDEX "outbox_message_next_attempt_at" ON "outbox_message" ("next_attempt_at");

CREATE INDEX "outbox_message_created_at" ON "outbox_message" ("created_at");
