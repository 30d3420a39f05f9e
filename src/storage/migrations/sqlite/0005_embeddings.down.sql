DROP TRIGGER embedding_deleted;
DROP TABLE embedding_model_state;
DROP TRIGGER note_embedding_stale;
DROP INDEX embedding_by_model;
DROP INDEX embedding_by_note;
DROP INDEX embedding_by_chunk;
DROP TABLE embedding;
