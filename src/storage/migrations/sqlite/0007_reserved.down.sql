-- Placeholder for version 7 (see 0007_reserved.up.sql).
SELECT 1;
