-- Removes transformations, insights and insight vectors; restores the embedding table of 0005.

DELETE FROM embedding WHERE insight_id IS NOT NULL;
DROP TRIGGER note_embedding_stale;
DROP TRIGGER embedding_deleted;
CREATE TABLE embedding_old (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  model TEXT NOT NULL,
  chunk_id INTEGER REFERENCES source_chunk (id) ON DELETE CASCADE,
  note_id TEXT REFERENCES note (id) ON DELETE CASCADE,
  dimension INTEGER NOT NULL CHECK (dimension > 0),
  vector BLOB NOT NULL CHECK (length(vector) = 4 * dimension),
  created TEXT NOT NULL,
  CHECK ((chunk_id IS NULL) <> (note_id IS NULL))
) STRICT;
INSERT INTO embedding_old (id, model, chunk_id, note_id, dimension, vector, created)
  SELECT id, model, chunk_id, note_id, dimension, vector, created FROM embedding;
DELETE FROM sqlite_sequence WHERE name = 'embedding_old';
INSERT INTO sqlite_sequence (name, seq) SELECT 'embedding_old', seq FROM sqlite_sequence WHERE name = 'embedding';
DROP TABLE embedding;
ALTER TABLE embedding_old RENAME TO embedding;
CREATE UNIQUE INDEX embedding_by_chunk ON embedding (chunk_id, model) WHERE chunk_id IS NOT NULL;
CREATE UNIQUE INDEX embedding_by_note ON embedding (note_id, model) WHERE note_id IS NOT NULL;
CREATE INDEX embedding_by_model ON embedding (model, id);
CREATE TRIGGER note_embedding_stale AFTER UPDATE OF title, content ON note BEGIN
  DELETE FROM embedding WHERE note_id = old.id;
END;
CREATE TRIGGER embedding_deleted AFTER DELETE ON embedding BEGIN
  INSERT INTO embedding_model_state (model, deletions) VALUES (old.model, 1)
    ON CONFLICT (model) DO UPDATE SET deletions = deletions + 1;
END;

DROP TABLE source_insight;
DROP TABLE transformation;
DELETE FROM app_setting WHERE key = 'transformation_instructions';
