-- 0005 transparency log (api/transparency.py): leaves, the hashes of completed subtrees, and the one head row
-- that every append locks (frozen: change the schema in a new migration file)
CREATE TABLE "log_head" ("id" INTEGER NOT NULL PRIMARY KEY, "size" INTEGER NOT NULL, "frontier" BLOB NOT NULL, "root_hash" BLOB NOT NULL, "updated_at" DATETIME);

INSERT INTO "log_head" ("id", "size", "frontier", "root_hash", "updated_at") VALUES (1, 0, X'', X'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', NULL);

CREATE TABLE "log_entry" ("idx" INTEGER NOT NULL PRIMARY KEY, "leaf" BLOB NOT NULL, "kind" VARCHAR(20) NOT NULL, "subject" VARCHAR(200) NOT NULL, "version" INTEGER NOT NULL, "certificate_id" INTEGER, "created_at" DATETIME NOT NULL, FOREIGN KEY ("certificate_id") REFERENCES "certificate" ("id") ON DELETE RESTRICT);

CREATE INDEX "log_entry_subject" ON "log_entry" ("subject");

CREATE INDEX "log_entry_certificate_id" ON "log_entry" ("certificate_id");

CREATE TABLE "log_node" ("id" INTEGER NOT NULL PRIMARY KEY, "hash" BLOB NOT NULL);
