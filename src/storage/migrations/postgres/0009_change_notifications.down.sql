-- Removes the change notifications; processes fall back to polling.

DROP TRIGGER job_notify_job ON job;
DROP FUNCTION on_notify_job();

DO $$
DECLARE
  name TEXT;
BEGIN
  FOREACH name IN ARRAY ARRAY['notebook', 'source', 'source_notebook', 'note', 'app_setting', 'job', 'job_worker',
                              'source_chunk', 'credential', 'model', 'default_model', 'embedding',
                              'embedding_model_state', 'transformation', 'source_insight', 'chat_session',
                              'chat_message', 'speaker_profile', 'episode_profile', 'episode'] LOOP
    EXECUTE format('DROP TRIGGER %I ON %I', name || '_notify_insert', name);
    EXECUTE format('DROP TRIGGER %I ON %I', name || '_notify_update', name);
    EXECUTE format('DROP TRIGGER %I ON %I', name || '_notify_delete', name);
    EXECUTE format('DROP TRIGGER %I ON %I', name || '_notify_truncate', name);
  END LOOP;
END
$$;

DROP FUNCTION on_notify_data();
