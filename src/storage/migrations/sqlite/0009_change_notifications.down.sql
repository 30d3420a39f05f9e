-- Nothing to revert: migration 0009 changes the schema on PostgreSQL only.
SELECT 1;
