-- Embedding vectors of source chunks and notes, in pgvector columns. Each vector is tagged with
-- the embedding model that made it (provider/name), and searches read only the vectors of the
-- current model, so vectors of different models are never compared.
--
-- The vector column has no fixed dimension because models differ. pgvector's HNSW index needs
-- one, so the application creates a partial index per dimension when the first vector of that
-- dimension is stored: USING hnsw ((vector::vector(N)) vector_cosine_ops) WHERE dimension = N.
--
-- CREATE EXTENSION needs a role allowed to create it (pgvector 0.8.0 is not a trusted
-- extension): a database owner can run `CREATE EXTENSION vector` once before migrating.

CREATE EXTENSION IF NOT EXISTS vector;

-- An identity column never reuses an id, even after the newest row is deleted: a vector index
-- loads the rows above the last id it holds, and a reused id would hide a new vector.
CREATE TABLE embedding (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  model TEXT NOT NULL,
  chunk_id BIGINT REFERENCES source_chunk (id) ON DELETE CASCADE,
  note_id TEXT REFERENCES note (id) ON DELETE CASCADE,
  dimension INTEGER NOT NULL CHECK (dimension > 0),
  vector VECTOR NOT NULL CHECK (vector_dims(vector) = dimension),
  created TEXT NOT NULL,
  CONSTRAINT embedding_one_owner CHECK (num_nonnulls(chunk_id, note_id) = 1)
);
CREATE UNIQUE INDEX embedding_by_chunk ON embedding (chunk_id, model) WHERE chunk_id IS NOT NULL;
CREATE UNIQUE INDEX embedding_by_note ON embedding (note_id, model) WHERE note_id IS NOT NULL;
CREATE INDEX embedding_by_model ON embedding (model, id);

-- A note's vector describes its old text once the text changes.
CREATE FUNCTION note_embedding_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM embedding WHERE note_id = OLD.id;
  RETURN NULL;
END;
$$;
CREATE TRIGGER note_embedding_stale AFTER UPDATE OF title, content ON note
  FOR EACH ROW EXECUTE FUNCTION note_embedding_stale();

-- Counts deletions per model, so a vector index can tell that rows it holds are gone.
CREATE TABLE embedding_model_state (
  model TEXT PRIMARY KEY,
  deletions BIGINT NOT NULL DEFAULT 0
);
CREATE FUNCTION embedding_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO embedding_model_state (model, deletions) VALUES (OLD.model, 1)
    ON CONFLICT (model) DO UPDATE SET deletions = embedding_model_state.deletions + 1;
  RETURN NULL;
END;
$$;
CREATE TRIGGER embedding_deleted AFTER DELETE ON embedding
  FOR EACH ROW EXECUTE FUNCTION embedding_deleted();
