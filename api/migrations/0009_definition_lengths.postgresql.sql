-- The stored columns of the certificate's declared fields take the definition's limits (api/definition.py), which
-- validation has always applied: no stored value is longer.
ALTER TABLE "certificate"
  ALTER COLUMN "agent_name" TYPE VARCHAR(120),
  ALTER COLUMN "cognitive_core_exact" TYPE VARCHAR(120),
  ALTER COLUMN "creator_label" TYPE VARCHAR(120),
  ALTER COLUMN "place_city" TYPE VARCHAR(80),
  ALTER COLUMN "place_state" TYPE VARCHAR(80),
  ALTER COLUMN "place_country" TYPE VARCHAR(80);
