-- Provider credentials, registered models and the default model of each role.
--
-- An API key is stored only encrypted (XChaCha20-Poly1305 with the credential id as associated
-- data): base64 ciphertext and nonce, plus the version of the key that encrypted it, so a key
-- change is detected per row and `open-notebook credentials rotate-key` can re-encrypt.

CREATE TABLE credential (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  provider TEXT NOT NULL,
  modalities TEXT NOT NULL DEFAULT '[]',
  api_key_ciphertext TEXT,
  api_key_nonce TEXT,
  api_key_version TEXT,
  base_url TEXT,
  endpoint TEXT,
  api_version TEXT,
  endpoint_llm TEXT,
  endpoint_embedding TEXT,
  endpoint_stt TEXT,
  endpoint_tts TEXT,
  project TEXT,
  location TEXT,
  credentials_path TEXT,
  num_ctx BIGINT,
  created TEXT NOT NULL,
  updated TEXT NOT NULL,
  -- The three parts of a sealed key exist together or not at all.
  CHECK ((api_key_ciphertext IS NULL) = (api_key_nonce IS NULL)
         AND (api_key_ciphertext IS NULL) = (api_key_version IS NULL))
);
CREATE INDEX credential_by_provider ON credential (provider, created);

CREATE TABLE model (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  provider TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('language', 'embedding', 'text_to_speech', 'speech_to_text')),
  -- Deleting a credential deletes or re-points its models in the same transaction first; the
  -- cascade only covers deletes made outside open-notebook.
  credential_id TEXT REFERENCES credential (id) ON DELETE CASCADE,
  created TEXT NOT NULL,
  updated TEXT NOT NULL
);
-- One model per provider, name and type regardless of letter case ("GPT-4o" equals "gpt-4o").
CREATE UNIQUE INDEX model_unique_name ON model (lower(provider), lower(name), type);
CREATE INDEX model_by_credential ON model (credential_id) WHERE credential_id IS NOT NULL;

-- One row per default-model slot, always present. `updated` changes whenever model_id does, so
-- code that depends on a slot (embeddings depend on default_embedding_model) can detect a change.
CREATE TABLE default_model (
  slot TEXT PRIMARY KEY CHECK (slot IN ('default_chat_model', 'default_transformation_model',
                                        'large_context_model', 'default_text_to_speech_model',
                                        'default_speech_to_text_model', 'default_embedding_model',
                                        'default_tools_model')),
  model_id TEXT REFERENCES model (id) ON DELETE SET NULL,
  updated TEXT NOT NULL
);

INSERT INTO default_model (slot, model_id, updated)
SELECT slot, NULL, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')
FROM (SELECT 'default_chat_model' AS slot UNION ALL SELECT 'default_transformation_model'
      UNION ALL SELECT 'large_context_model' UNION ALL SELECT 'default_text_to_speech_model'
      UNION ALL SELECT 'default_speech_to_text_model' UNION ALL SELECT 'default_embedding_model'
      UNION ALL SELECT 'default_tools_model') AS slots;
