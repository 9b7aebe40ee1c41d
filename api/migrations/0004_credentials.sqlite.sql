-- 0004 signing keys (public halves and validity periods), signed credential versions, Bitstring Status Lists
-- (frozen: change the schema in a new migration file)
CREATE TABLE "signing_key" ("id" INTEGER NOT NULL PRIMARY KEY, "public_key_multibase" VARCHAR(64) NOT NULL, "valid_from" DATETIME NOT NULL, "valid_until" DATETIME);

CREATE UNIQUE INDEX "signing_key_public_key_multibase" ON "signing_key" ("public_key_multibase");

CREATE TABLE "credential_version" ("id" INTEGER NOT NULL PRIMARY KEY, "certificate_id" INTEGER NOT NULL, "version" INTEGER NOT NULL, "event" VARCHAR(12) NOT NULL, "status_index" INTEGER NOT NULL, "signing_key_id" INTEGER NOT NULL, "created_at" DATETIME NOT NULL, "document" TEXT NOT NULL, FOREIGN KEY ("certificate_id") REFERENCES "certificate" ("id") ON DELETE RESTRICT, FOREIGN KEY ("signing_key_id") REFERENCES "signing_key" ("id") ON DELETE RESTRICT);

CREATE INDEX "credential_version_certificate_id" ON "credential_version" ("certificate_id");

CREATE UNIQUE INDEX "credential_version_status_index" ON "credential_version" ("status_index");

CREATE INDEX "credential_version_signing_key_id" ON "credential_version" ("signing_key_id");

CREATE UNIQUE INDEX "credential_version_certificate_id_version" ON "credential_version" ("certificate_id", "version");

CREATE TABLE "status_list" ("purpose" VARCHAR(20) NOT NULL PRIMARY KEY, "bits" BLOB NOT NULL, "allocated" INTEGER NOT NULL, "updated_at" DATETIME NOT NULL);
