-- Placeholder that keeps migration versions gap-free on this branch. Version 7 belongs to the
-- chat migration; when both branches are merged, delete this file and its .down.sql.
SELECT 1;
