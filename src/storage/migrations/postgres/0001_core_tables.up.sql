-- Core records: notebooks, sources, their many-to-many links, notes and application settings.
-- Timestamps are ISO 8601 UTC text with microseconds, as in the SQLite schema, so text order is
-- time order and both backends store the same values.

CREATE TABLE notebook (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  archived BOOLEAN NOT NULL DEFAULT false,
  created TEXT NOT NULL,
  updated TEXT NOT NULL,
  last_viewed_at TEXT
);
CREATE INDEX notebook_by_updated ON notebook (updated);
CREATE INDEX notebook_by_last_viewed ON notebook (last_viewed_at) WHERE last_viewed_at IS NOT NULL;

CREATE TABLE source (
  id TEXT PRIMARY KEY,
  title TEXT,
  topics TEXT NOT NULL DEFAULT '[]',
  asset_url TEXT,
  asset_file_path TEXT,
  full_text TEXT,
  created TEXT NOT NULL,
  updated TEXT NOT NULL,
  last_viewed_at TEXT
);
CREATE INDEX source_by_updated ON source (updated);
CREATE INDEX source_by_last_viewed ON source (last_viewed_at) WHERE last_viewed_at IS NOT NULL;

CREATE TABLE source_notebook (
  source_id TEXT NOT NULL REFERENCES source (id) ON DELETE CASCADE,
  notebook_id TEXT NOT NULL REFERENCES notebook (id) ON DELETE CASCADE,
  created TEXT NOT NULL,
  PRIMARY KEY (source_id, notebook_id)
);
CREATE INDEX source_notebook_by_notebook ON source_notebook (notebook_id, source_id);

CREATE TABLE note (
  id TEXT PRIMARY KEY,
  title TEXT,
  content TEXT NOT NULL,
  note_type TEXT NOT NULL CHECK (note_type IN ('human', 'ai')),
  notebook_id TEXT REFERENCES notebook (id) ON DELETE CASCADE,
  command_id TEXT,
  created TEXT NOT NULL,
  updated TEXT NOT NULL
);
CREATE INDEX note_by_notebook ON note (notebook_id, updated);
CREATE INDEX note_by_updated ON note (updated);

CREATE TABLE app_setting (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated TEXT NOT NULL
);
