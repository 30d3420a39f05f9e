-- Source processing state, chunks for citations and search, and the keyword index.
--
-- The project's tokenizer (ICU word segmentation plus Snowball stemming) runs in open-notebook,
-- not in the server, so the application writes each text's tokens as a tsvector of the 'simple'
-- configuration: lexemes as given, with their positions, which keep each token's frequency. The
-- *_tokens columns hold the number of tokens, the document length that BM25 ranking needs.
-- NOTE: a tsvector keeps at most 256 positions per lexeme and positions up to 16383, so the
-- frequencies of a very long note or title are capped there.

ALTER TABLE source ADD COLUMN original_filename TEXT;
ALTER TABLE source ADD COLUMN content_kind TEXT;
ALTER TABLE source ADD COLUMN embed BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE source ADD COLUMN transformations TEXT NOT NULL DEFAULT '[]';
ALTER TABLE source ADD COLUMN command_id TEXT;
ALTER TABLE source ADD COLUMN title_vector TSVECTOR NOT NULL DEFAULT '';
ALTER TABLE source ADD COLUMN title_tokens INTEGER NOT NULL DEFAULT 0;
CREATE INDEX source_by_command ON source (command_id) WHERE command_id IS NOT NULL;
CREATE INDEX source_title_search ON source USING gin (title_vector);

-- One row per chunk; (source_id, chunk_index) is unique, so processing a source twice replaces
-- its chunks instead of duplicating them.
CREATE TABLE source_chunk (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source_id TEXT NOT NULL REFERENCES source (id) ON DELETE CASCADE,
  chunk_index INTEGER NOT NULL,
  content TEXT NOT NULL,
  begin_offset BIGINT NOT NULL,
  end_offset BIGINT NOT NULL,
  page INTEGER,
  token_count INTEGER NOT NULL,
  search_vector TSVECTOR NOT NULL DEFAULT '',
  search_tokens INTEGER NOT NULL DEFAULT 0,
  UNIQUE (source_id, chunk_index)
);
CREATE INDEX source_chunk_search ON source_chunk USING gin (search_vector);

ALTER TABLE note ADD COLUMN title_vector TSVECTOR NOT NULL DEFAULT '';
ALTER TABLE note ADD COLUMN title_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE note ADD COLUMN content_vector TSVECTOR NOT NULL DEFAULT '';
ALTER TABLE note ADD COLUMN content_tokens INTEGER NOT NULL DEFAULT 0;
CREATE INDEX note_search ON note USING gin ((title_vector || content_vector));
