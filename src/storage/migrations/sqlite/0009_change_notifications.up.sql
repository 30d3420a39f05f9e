-- Change notifications exist on PostgreSQL only (LISTEN/NOTIFY), where processes on several
-- hosts share one database. SQLite has no such mechanism and needs none: its processes share one
-- host and find other processes' commits through PRAGMA data_version and by polling the job
-- queue and the configuration version. This migration keeps the version numbers of both backends
-- equal, so a database copied between them has the same schema version.
SELECT 1;
