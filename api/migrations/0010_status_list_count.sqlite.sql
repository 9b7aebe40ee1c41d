-- 0010 the status lists no longer keep a count of the indexes handed out: the next index is one above the highest
-- credential_version.status_index (api/credentials.py), so an issuance never rewrites a list's 16 KB row
-- (frozen once on main)
ALTER TABLE "status_list" DROP COLUMN "allocated";
