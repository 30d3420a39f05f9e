-- Embedding vectors of source chunks and notes. Each vector is tagged with the embedding model
-- that made it (provider/name), and searches read only the vectors of the current model, so
-- vectors of different models are never compared.

-- AUTOINCREMENT keeps ids increasing even after the newest row is deleted: a vector index file
-- loads the rows above the last id it holds, and a reused id would hide a new vector.
CREATE TABLE embedding (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  model TEXT NOT NULL,
  chunk_id INTEGER REFERENCES source_chunk (id) ON DELETE CASCADE,
  note_id TEXT REFERENCES note (id) ON DELETE CASCADE,
  dimension INTEGER NOT NULL CHECK (dimension > 0),
  vector BLOB NOT NULL CHECK (length(vector) = 4 * dimension),
  created TEXT NOT NULL,
  CHECK ((chunk_id IS NULL) <> (note_id IS NULL))
) STRICT;
CREATE UNIQUE INDEX embedding_by_chunk ON embedding (chunk_id, model) WHERE chunk_id IS NOT NULL;
CREATE UNIQUE INDEX embedding_by_note ON embedding (note_id, model) WHERE note_id IS NOT NULL;
CREATE INDEX embedding_by_model ON embedding (model, id);

-- A note's vector describes its old text once the text changes.
CREATE TRIGGER note_embedding_stale AFTER UPDATE OF title, content ON note BEGIN
  DELETE FROM embedding WHERE note_id = old.id;
END;

-- Counts deletions per model, so a vector index can tell that rows it holds are gone.
CREATE TABLE embedding_model_state (
  model TEXT PRIMARY KEY,
  deletions INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE TRIGGER embedding_deleted AFTER DELETE ON embedding BEGIN
  INSERT INTO embedding_model_state (model, deletions) VALUES (old.model, 1)
    ON CONFLICT (model) DO UPDATE SET deletions = deletions + 1;
END;
