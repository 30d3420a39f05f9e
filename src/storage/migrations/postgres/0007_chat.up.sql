-- Chat sessions of a notebook or of one source, and their messages.
--
-- The original kept the message history outside its database (LangGraph checkpoints), so
-- deleting a session or a notebook left the messages behind. Here messages are rows of the
-- session and go with it.

CREATE TABLE chat_session (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  -- True while the title is the generated default; the first message then replaces it.
  auto_title BOOLEAN NOT NULL DEFAULT false,
  notebook_id TEXT REFERENCES notebook (id) ON DELETE CASCADE,
  source_id TEXT REFERENCES source (id) ON DELETE CASCADE,
  -- No foreign key: a deleted model leaves the override, and the next message reports it.
  model_override TEXT,
  created TEXT NOT NULL,
  updated TEXT NOT NULL,
  -- A session belongs to a notebook (notebook chat) or to a source (source chat), never both.
  CHECK ((notebook_id IS NULL) <> (source_id IS NULL))
);
CREATE INDEX chat_session_by_notebook ON chat_session (notebook_id, updated) WHERE notebook_id IS NOT NULL;
CREATE INDEX chat_session_by_source ON chat_session (source_id, created) WHERE source_id IS NOT NULL;

-- seq orders the messages of a session; id is the public "chat_message:..." id.
CREATE TABLE chat_message (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  session_id TEXT NOT NULL REFERENCES chat_session (id) ON DELETE CASCADE,
  type TEXT NOT NULL CHECK (type IN ('human', 'ai')),
  content TEXT NOT NULL,
  -- AI messages: JSON array of the checked citations, and JSON object of the ids that were in
  -- the prompt ({"sources": [...], "chunks": [...], "insights": [...], "notes": [...]}).
  citations TEXT NOT NULL DEFAULT '[]',
  context TEXT NOT NULL DEFAULT '{}',
  model_id TEXT,
  created TEXT NOT NULL
);
CREATE INDEX chat_message_by_session ON chat_message (session_id, seq);
