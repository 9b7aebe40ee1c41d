-- 0008 amendments: a locked record can be amended after a payment (api/amendments.py); each amendment makes a new
-- version of the record, whose public view stays retrievable (`GET /api/cert/lookup?id=...&version=N`).
-- certificate.version: the record's version (1 until the first amendment); amended_at: the last amendment
-- amendment: one paid amendment: its own non-secret reference for Stripe, status pending/paid/used/expired/failed
-- certificate_version: the public view of each version (never a private value), and the public fields it changed
ALTER TABLE "certificate" ADD COLUMN "version" INTEGER NOT NULL DEFAULT 1;

ALTER TABLE "certificate" ADD COLUMN "amended_at" DATETIME;

CREATE TABLE "amendment" ("id" INTEGER NOT NULL PRIMARY KEY, "ref" VARCHAR(40) NOT NULL, "certificate_id" INTEGER NOT NULL, "status" VARCHAR(12) NOT NULL, "stripe_session_id" VARCHAR(255), "stripe_payment_intent" VARCHAR(255), "created_at" DATETIME NOT NULL, "paid_at" DATETIME, "ended_at" DATETIME, "used_at" DATETIME, "version" INTEGER, FOREIGN KEY ("certificate_id") REFERENCES "certificate" ("id") ON DELETE RESTRICT);

CREATE UNIQUE INDEX "amendment_ref" ON "amendment" ("ref");

CREATE INDEX "amendment_certificate_id" ON "amendment" ("certificate_id");

CREATE INDEX "amendment_status" ON "amendment" ("status");

CREATE UNIQUE INDEX "amendment_stripe_session_id" ON "amendment" ("stripe_session_id");

CREATE TABLE "certificate_version" ("id" INTEGER NOT NULL PRIMARY KEY, "certificate_id" INTEGER NOT NULL, "version" INTEGER NOT NULL, "changed" TEXT NOT NULL, "public_view" TEXT NOT NULL, "created_at" DATETIME NOT NULL, FOREIGN KEY ("certificate_id") REFERENCES "certificate" ("id") ON DELETE RESTRICT);

CREATE INDEX "certificate_version_certificate_id" ON "certificate_version" ("certificate_id");

CREATE UNIQUE INDEX "certificate_version_certificate_id_version" ON "certificate_version" ("certificate_id", "version");
