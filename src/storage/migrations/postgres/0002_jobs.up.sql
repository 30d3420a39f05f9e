-- Background jobs and the workers that run them.
-- Timestamps are ISO 8601 UTC text with microseconds, so text order is time order and the
-- queue compares run_after and lease_expires with the current time as text. Workers claim jobs
-- with SELECT ... FOR UPDATE SKIP LOCKED, so two workers never wait for each other's row.

CREATE TABLE job (
  id TEXT PRIMARY KEY,
  app TEXT NOT NULL,
  command TEXT NOT NULL,
  input TEXT NOT NULL DEFAULT '{}',
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
  run_after TEXT NOT NULL,
  lease_owner TEXT,
  lease_expires TEXT,
  heartbeat_at TEXT,
  cancel_requested BOOLEAN NOT NULL DEFAULT false,
  progress_stage TEXT,
  progress_percent INTEGER CHECK (progress_percent BETWEEN 0 AND 100),
  result TEXT,
  error_message TEXT,
  error_code TEXT,
  dedupe_key TEXT,
  created TEXT NOT NULL,
  updated TEXT NOT NULL,
  started TEXT,
  completed TEXT
);

-- The claim query scans due queued jobs oldest first; counts and lists filter by status.
CREATE INDEX job_by_status ON job (status, created, id);
-- The reaper looks for running jobs whose lease has expired.
CREATE INDEX job_running_by_lease ON job (lease_expires) WHERE status = 'running';
CREATE INDEX job_by_lease_owner ON job (lease_owner) WHERE lease_owner IS NOT NULL;
CREATE INDEX job_by_created ON job (created);
CREATE INDEX job_by_command ON job (app, command, created);
-- At most one active job per dedupe key, even when two processes submit at once.
CREATE UNIQUE INDEX job_active_dedupe_key ON job (dedupe_key)
  WHERE dedupe_key IS NOT NULL AND status IN ('queued', 'running');

CREATE TABLE job_worker (
  id TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  pid BIGINT NOT NULL,
  commands TEXT NOT NULL DEFAULT '[]',
  max_tasks INTEGER NOT NULL CHECK (max_tasks >= 1),
  running INTEGER NOT NULL DEFAULT 0 CHECK (running >= 0),
  lease_ms BIGINT NOT NULL CHECK (lease_ms >= 1),
  started TEXT NOT NULL,
  heartbeat_at TEXT NOT NULL
);
CREATE INDEX job_worker_by_heartbeat ON job_worker (heartbeat_at);
