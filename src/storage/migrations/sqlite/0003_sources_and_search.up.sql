-- Source processing state, chunks for citations and search, and the keyword index.
-- The index uses the on_icu FTS5 tokenizer (ICU word segmentation plus Snowball stemming) that
-- open-notebook registers on every connection; other SQLite clients can read the tables but
-- cannot query the *_fts tables.

ALTER TABLE source ADD COLUMN original_filename TEXT;
ALTER TABLE source ADD COLUMN content_kind TEXT;
ALTER TABLE source ADD COLUMN embed INTEGER NOT NULL DEFAULT 0 CHECK (embed IN (0, 1));
ALTER TABLE source ADD COLUMN transformations TEXT NOT NULL DEFAULT '[]';
ALTER TABLE source ADD COLUMN command_id TEXT;
CREATE INDEX source_by_command ON source (command_id) WHERE command_id IS NOT NULL;

-- One row per chunk; (source_id, chunk_index) is unique, so processing a source twice replaces
-- its chunks instead of duplicating them.
CREATE TABLE source_chunk (
  id INTEGER PRIMARY KEY,
  source_id TEXT NOT NULL REFERENCES source (id) ON DELETE CASCADE,
  chunk_index INTEGER NOT NULL,
  content TEXT NOT NULL,
  begin_offset INTEGER NOT NULL,
  end_offset INTEGER NOT NULL,
  page INTEGER,
  token_count INTEGER NOT NULL,
  UNIQUE (source_id, chunk_index)
) STRICT;

CREATE VIRTUAL TABLE chunk_fts USING fts5(content, content='source_chunk', content_rowid='id', tokenize='on_icu');
CREATE TRIGGER source_chunk_ai AFTER INSERT ON source_chunk BEGIN
  INSERT INTO chunk_fts (rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER source_chunk_ad AFTER DELETE ON source_chunk BEGIN
  INSERT INTO chunk_fts (chunk_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER source_chunk_au AFTER UPDATE ON source_chunk BEGIN
  INSERT INTO chunk_fts (chunk_fts, rowid, content) VALUES ('delete', old.id, old.content);
  INSERT INTO chunk_fts (rowid, content) VALUES (new.id, new.content);
END;

-- Titles of sources and notes with note bodies: small, so the index keeps its own copy.
CREATE VIRTUAL TABLE source_title_fts USING fts5(source_id UNINDEXED, title, tokenize='on_icu');
CREATE TRIGGER source_title_ai AFTER INSERT ON source WHEN new.title IS NOT NULL BEGIN
  INSERT INTO source_title_fts (source_id, title) VALUES (new.id, new.title);
END;
CREATE TRIGGER source_title_au AFTER UPDATE OF title ON source BEGIN
  DELETE FROM source_title_fts WHERE source_id = old.id;
  INSERT INTO source_title_fts (source_id, title) SELECT new.id, new.title WHERE new.title IS NOT NULL;
END;
CREATE TRIGGER source_title_ad AFTER DELETE ON source BEGIN
  DELETE FROM source_title_fts WHERE source_id = old.id;
END;

CREATE VIRTUAL TABLE note_fts USING fts5(note_id UNINDEXED, title, content, tokenize='on_icu');
INSERT INTO note_fts (note_id, title, content) SELECT id, coalesce(title, ''), content FROM note;
CREATE TRIGGER note_fts_ai AFTER INSERT ON note BEGIN
  INSERT INTO note_fts (note_id, title, content) VALUES (new.id, coalesce(new.title, ''), new.content);
END;
CREATE TRIGGER note_fts_au AFTER UPDATE OF title, content ON note BEGIN
  DELETE FROM note_fts WHERE note_id = old.id;
  INSERT INTO note_fts (note_id, title, content) VALUES (new.id, coalesce(new.title, ''), new.content);
END;
CREATE TRIGGER note_fts_ad AFTER DELETE ON note BEGIN
  DELETE FROM note_fts WHERE note_id = old.id;
END;
