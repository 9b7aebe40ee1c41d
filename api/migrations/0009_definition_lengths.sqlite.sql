-- The stored columns of the certificate's declared fields take the definition's limits (api/definition.py), which
-- validation has always applied: no stored value is longer.
-- SQLite keeps a declared length as text only (VARCHAR(n) has TEXT affinity whatever n is), so the table's stored
-- definition is edited in place, the documented way for a change that leaves every row's bytes as they are: no
-- copy of the table, no foreign key touched. RESET reloads this connection's schema; the table made and dropped
-- after it moves the schema cookie, so every other connection reloads it too.
PRAGMA writable_schema = ON;
UPDATE sqlite_master SET sql =
  replace(replace(replace(replace(replace(replace(sql,
    '"agent_name" VARCHAR(200)', '"agent_name" VARCHAR(120)'),
    '"cognitive_core_exact" VARCHAR(200)', '"cognitive_core_exact" VARCHAR(120)'),
    '"creator_label" VARCHAR(200)', '"creator_label" VARCHAR(120)'),
    '"place_city" VARCHAR(120)', '"place_city" VARCHAR(80)'),
    '"place_state" VARCHAR(120)', '"place_state" VARCHAR(80)'),
    '"place_country" VARCHAR(120)', '"place_country" VARCHAR(80)')
  WHERE type = 'table' AND name = 'certificate';
PRAGMA writable_schema = RESET;
CREATE TABLE "schema_cookie_bump" ("x" INTEGER);
DROP TABLE "schema_cookie_bump";
