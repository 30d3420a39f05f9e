-- Podcasts: speaker profiles (voices and personas), episode profiles (models, language,
-- segments) and episodes, which keep a copy of both profiles as they were at generation time.
-- JSON columns are TEXT, as in the SQLite schema; the checks cast them to jsonb, so text that is
-- not JSON fails the insert with SQLSTATE 22P02.

CREATE TABLE speaker_profile (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  -- The text-to-speech model; NULL speaks with the offline espeak-ng program.
  voice_model TEXT REFERENCES model (id) ON DELETE SET NULL,
  -- JSON array of 1 to 4 {name, voice_id, backstory, personality, voice_model?}.
  speakers TEXT NOT NULL CHECK (jsonb_array_length(speakers::jsonb) BETWEEN 1 AND 4),
  created TEXT NOT NULL,
  updated TEXT NOT NULL
);
CREATE UNIQUE INDEX speaker_profile_by_name ON speaker_profile (lower(name));

CREATE TABLE episode_profile (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  speaker_config TEXT REFERENCES speaker_profile (id) ON DELETE SET NULL,
  -- Language models of the two steps; NULL uses the default chat model.
  outline_llm TEXT REFERENCES model (id) ON DELETE SET NULL,
  transcript_llm TEXT REFERENCES model (id) ON DELETE SET NULL,
  language TEXT,  -- BCP 47 tag; NULL means English
  default_briefing TEXT NOT NULL DEFAULT '',
  num_segments INTEGER NOT NULL DEFAULT 5 CHECK (num_segments BETWEEN 3 AND 20),
  max_tokens INTEGER CHECK (max_tokens IS NULL OR max_tokens > 0),
  created TEXT NOT NULL,
  updated TEXT NOT NULL
);
CREATE UNIQUE INDEX episode_profile_by_name ON episode_profile (lower(name));

CREATE TABLE episode (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  briefing TEXT NOT NULL DEFAULT '',
  -- Copies of the profiles as JSON objects, so editing or deleting a profile never changes a
  -- past episode.
  episode_profile TEXT NOT NULL CHECK (jsonb_typeof(episode_profile::jsonb) = 'object'),
  speaker_profile TEXT NOT NULL CHECK (jsonb_typeof(speaker_profile::jsonb) = 'object'),
  notebook_id TEXT REFERENCES notebook (id) ON DELETE SET NULL,
  content TEXT NOT NULL,
  command_id TEXT,
  outline TEXT CHECK (outline IS NULL OR outline::jsonb IS NOT NULL),
  transcript TEXT CHECK (transcript IS NULL OR transcript::jsonb IS NOT NULL),
  -- Path relative to the podcasts directory; set only once the file has been verified.
  audio_file TEXT,
  duration_ms BIGINT,
  created TEXT NOT NULL,
  updated TEXT NOT NULL
);
CREATE INDEX episode_by_created ON episode (created);
CREATE INDEX episode_by_command ON episode (command_id);

-- Default profiles with fixed ids, so they have the same id in every installation. Their model
-- references are empty: speech then uses espeak-ng and text the default chat model.
INSERT INTO speaker_profile (id, name, description, speakers, created, updated)
SELECT id, name, description, speakers, now, now
FROM (SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') AS now) AS t,
(SELECT 'speaker_profile:tech_experts' AS id, 'tech_experts' AS name,
  'Two technical experts who explain and debate a subject' AS description,
  '[{"name": "Dr. Alex Chen", "voice_id": "nova", "backstory": "Senior software engineer who has built distributed systems for fifteen years and teaches at a university.", "personality": "Analytical and precise, explains hard ideas with concrete examples."},
    {"name": "Jordan Rivera", "voice_id": "alloy", "backstory": "Technology journalist who has covered startups and research labs for a decade.", "personality": "Curious and enthusiastic, asks the questions a listener would ask."}]' AS speakers
UNION ALL SELECT 'speaker_profile:solo_expert', 'solo_expert',
  'One expert who explains a subject on their own',
  '[{"name": "Professor Sarah Kim", "voice_id": "nova", "backstory": "Professor who has spent twenty years making research understandable to a general audience.", "personality": "Warm and clear, builds each idea on the previous one."}]'
UNION ALL SELECT 'speaker_profile:business_panel', 'business_panel',
  'Three business voices who analyse strategy, markets and risks',
  '[{"name": "Marcus Thompson", "voice_id": "echo", "backstory": "Former management consultant who now advises companies on strategy.", "personality": "Strategic and direct, looks for the decision behind the facts."},
    {"name": "Elena Rodriguez", "voice_id": "shimmer", "backstory": "Startup founder who built and sold two companies.", "personality": "Practical and energetic, tests ideas against what customers do."},
    {"name": "David Park", "voice_id": "ash", "backstory": "Investment analyst who covers technology companies.", "personality": "Sceptical and numbers-driven, asks what could go wrong."}]') AS d;

INSERT INTO episode_profile (id, name, description, speaker_config, default_briefing, num_segments, created, updated)
SELECT id, name, description, speaker_config, default_briefing, num_segments, now, now
FROM (SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') AS now) AS t,
(SELECT 'episode_profile:tech_discussion' AS id, 'tech_discussion' AS name,
  'Two experts discuss the technical content of the notebook' AS description,
  'speaker_profile:tech_experts' AS speaker_config,
  'Create an engaging technical discussion of the material. Explain the key concepts, why they matter and how they are used in practice, with concrete examples. Let the speakers question each other so that the listener hears both the ideas and their limits.' AS default_briefing,
  5 AS num_segments
UNION ALL SELECT 'episode_profile:solo_expert', 'solo_expert',
  'One expert explains the material in a lecture-like episode',
  'speaker_profile:solo_expert',
  'Explain the material as an expert speaking to curious listeners who are new to it. Start with the big picture, then go through the main ideas in a logical order, and end with what the listener should remember.',
  4
UNION ALL SELECT 'episode_profile:business_analysis', 'business_analysis',
  'A panel analyses the material from a business point of view',
  'speaker_profile:business_panel',
  'Analyse the material from a business point of view: the opportunities it describes, the risks, the market and the decisions it implies. The speakers bring different views and end with practical recommendations.',
  6) AS d;
