-- The extension stays: other tables of the database may use it, and dropping it needs the role
-- that created it.
DROP TRIGGER note_embedding_stale ON note;
DROP FUNCTION note_embedding_stale();
DROP TABLE embedding_model_state;
DROP TABLE embedding;
DROP FUNCTION embedding_deleted();
