#!/usr/bin/env python3
"""Writes src/api/openapi.json from the route list below.

Each route is declared once here with its summary, parameters and body shapes. The test
`OpenApi.DocumentsEveryRoute` fails when the server registers a route that is missing here, or
when this file documents a route the server does not have. Run after changing routes:

    python3 scripts/gen_openapi.py
"""
import json
import pathlib
import re

S = {"type": "string"}
I = {"type": "integer"}
B = {"type": "boolean"}
N = {"type": ["string", "null"]}
OBJ = {"type": "object"}


def obj(required=(), **props):
    return {"type": "object", "properties": props, "required": list(required)}


def arr(item):
    return {"type": "array", "items": item}


SCHEMAS = {
    "Error": obj(["detail"], detail=S),
    "Message": obj(["message"], message=S),
    "Notebook": obj(["id", "name"], id=S, name=S, description=S, archived=B, created=S, updated=S,
                    source_count=I, note_count=I),
    "NotebookCreate": obj(["name"], name=S, description=S),
    "NotebookUpdate": obj(name=S, description=S, archived=B),
    "NotebookDeletePreview": obj(notebook_id=S, notebook_name=S, note_count=I, exclusive_source_count=I,
                                 shared_source_count=I),
    "NotebookDeleteResult": obj(message=S, deleted_notes=I, deleted_sources=I, unlinked_sources=I,
                                deleted_chat_sessions=I),
    "RecentItem": obj(type=S, id=S, title=S, last_viewed_at=S),
    "Note": obj(["id", "content"], id=S, title=N, content=S, note_type={"enum": ["human", "ai"]}, notebook_id=N,
                created=S, updated=S, command_id=N),
    "NoteCreate": obj(["content"], title=S, content=S, note_type={"enum": ["human", "ai"]}, notebook_id=S),
    "NoteUpdate": obj(title=N, content=S, note_type={"enum": ["human", "ai"]}),
    "Health": obj(status=S, detail=S),
    "Source": obj(["id"], id=S, title=N, topics=arr(S), asset=obj(file_path=N, url=N), original_filename=N,
                  content_kind=N, embedded=B, embedded_chunks=I, insights_count=I, chunk_count=I, created=S, updated=S,
                  file_available=B, command_id=N, status={"enum": ["queued", "running", "completed", "failed", "cancelled"]},
                  processing_info=obj(started_at=N, completed_at=N, error=N, stage=N, percent={"type": ["integer", "null"]}),
                  full_text=N, notebooks=arr(S)),
    "SourceCreateForm": obj(["type"], type={"enum": ["link", "upload", "text"]}, url=S, content=S, title=S,
                            notebook_id=S, notebooks={"type": "string", "description": "JSON array of notebook ids, at most 50"},
                            transformations={"type": "string", "description": "JSON array of transformation ids, at most 50"},
                            embed=S, delete_source=S, async_processing=S, file={"type": "string", "format": "binary"}),
    "SourceCreateJson": obj(["type"], type={"enum": ["link", "text"]}, url=S, content=S, title=S, notebook_id=S,
                            notebooks=arr(S), transformations=arr(S), embed=B, delete_source=B, async_processing=B),
    "SourceUpdate": obj(title=S, topics=arr(S)),
    "SourceStatus": obj(status=S, message=S, processing_info=OBJ, command_id=N),
    "SearchRequest": obj(["query"], query=S, type={"enum": ["text", "vector", "hybrid"]}, limit=I, search_sources=B,
                         search_notes=B, minimum_score={"type": "number"}, notebook_id=S,
                         granularity={"enum": ["item", "passage"]}),
    "SearchResponse": obj(results=arr(obj(id=S, item_id=S, parent_id=S, title=S, type=S, chunk_index=I, page=I,
                                          relevance={"type": "number"},
                                          similarity={"type": "number"}, keyword_rank=I, vector_rank=I, snippet=S,
                                          matches=arr(obj(snippet=S, field=S, score={"type": "number"}, chunk_index=I, page=I)))),
                          total_count=I, search_type=S),
    "AskRequest": obj(["question"], question=S, strategy_model=S, answer_model=S, final_answer_model=S, notebook_id=S),
    "AskCitation": obj(["id", "kind"], id=S, kind={"enum": ["source", "chunk", "note", "insight"]}, source_id=N,
                       chunk_index={"type": ["integer", "null"]}, title=S),
    "AskResponse": obj(["answer", "question"], answer=S, question=S, final_answer=S, notebook_id=N,
                       citations=arr({"$ref": "#/components/schemas/AskCitation"}),
                       evidence=arr({"$ref": "#/components/schemas/AskCitation"}), rejected_citations=arr(S),
                       found_nothing=B, search_type={"enum": ["text", "hybrid"]},
                       strategy=obj(reasoning=S, searches=arr(obj(term=S, instructions=S))),
                       answers=arr(obj(content=S, term=S, instructions=S, passage_count=I,
                                       citations=arr({"$ref": "#/components/schemas/AskCitation"})))),
    "ConnectionTest": obj(provider=S, success=B, message=S),
    "DiscoveredModel": obj(name=S, provider=S, model_type=S, description=S),
    "CredentialDiscovery": obj(credential_id=S, provider=S, discovered=arr({"$ref": "#/components/schemas/DiscoveredModel"})),
    "ModelSync": obj(provider=S, discovered=I, new=I, existing=I),
    "ModelSyncAll": obj(results=OBJ, total_discovered=I, total_new=I),
    "ModelTest": obj(success=B, message=S),
    "EmbedRequest": obj(["item_id", "item_type"], item_id=S, item_type={"enum": ["source", "note", "insight"]},
                        async_processing=B),
    "Transformation": obj(["id", "name", "title", "prompt"], id=S, name=S, title=S, description=S, prompt=S,
                          apply_default=B, model_id=N, created=S, updated=S),
    "TransformationCreate": obj(["name", "title", "prompt"], name=S, title=S, description=S, prompt=S,
                                apply_default=B, model_id=N),
    "TransformationUpdate": obj(name=S, title=S, description=S, prompt=S, apply_default=B,
                                model_id={"type": ["string", "null"], "description": "null clears the model"}),
    "TransformationExecute": obj(["transformation_id", "input_text"], transformation_id=S, input_text=S, model_id=S),
    "TransformationOutput": obj(output=S, transformation_id=S, model_id=S, parts=I),
    "DefaultPrompt": obj(["transformation_instructions"], transformation_instructions=S),
    "Insight": obj(["id", "source_id", "insight_type", "content"], id=S, source_id=S, insight_type=S, content=S,
                   transformation_id=N, model_id=N, command_id=N, created=S, updated=S),
    "InsightCreate": obj(["transformation_id"], transformation_id=S, model_id=S),
    "InsightQueued": obj(status=S, message=S, source_id=S, transformation_id=S, model_id=N, command_id=S),
    "SaveAsNote": obj(notebook_id=S),
    "EmbedQueued": obj(success=B, message=S, item_id=S, item_type=S, command_id=S),
    "RebuildRequest": obj(mode={"enum": ["existing", "all"]}, include_sources=B, include_notes=B, include_insights=B),
    "RebuildStarted": obj(command_id=S, total_items=I, message=S),
    "RebuildStatus": obj(command_id=S, status=S, progress=obj(processed=I, total=I, percentage={"type": "number"}),
                         stats=OBJ, started_at=N, completed_at=N, error_message=N),
    "JobSubmit": obj(["command"], command=S, app=S, input=OBJ),
    "JobSubmitted": obj(job_id=S, status=S, message=S),
    "Job": obj(job_id=S, status=S, result={}, error_message=N, created=S, updated=S, progress=OBJ, attempts=I),
    "JobCancelled": obj(job_id=S, cancelled=B),
    "Config": obj(version=S, latestVersion=N, hasUpdate=B, dbStatus={"enum": ["online", "offline"]},
                  schemaVersion={"type": ["integer", "null"]}, settings=OBJ,
                  configVersion={"type": "integer", "description": "Configuration version whose runtime settings "
                                 "this process applies"}),
    "RuntimeSettings": obj(log_level={"enum": ["trace", "debug", "info", "warn", "error"]}, retry_max_attempts=I,
                           retry_wait_min_s=I, retry_wait_max_s=I, worker_max_tasks=I, fetch_timeout_s=I,
                           pdf_timeout_s=I, chunk_size=I, chunk_overlap=I, sync_processing_timeout_s=I,
                           default_embedding_option={"enum": ["ask", "always", "never"]},
                           config_version={"type": "integer", "description": "On PUT, optional: the version read "
                                           "before; a different current version gives 409"}),
    "AuthStatus": obj(auth_enabled=B, message=S),
    "Credential": obj(["id", "name", "provider"], id=S, name=S, provider=S, modalities=arr(S), base_url=N, endpoint=N,
                      api_version=N, endpoint_llm=N, endpoint_embedding=N, endpoint_stt=N, endpoint_tts=N, project=N,
                      location=N, credentials_path=N, num_ctx={"type": ["integer", "null"]}, has_api_key=B, created=S,
                      updated=S, model_count=I,
                      decryption_error={"type": ["string", "null"],
                                        "description": "Why the stored API key cannot be used; null when it can"}),
    "CredentialCreate": obj(["name", "provider"], name=S, provider=S, modalities=arr(S),
                            api_key={"type": "string", "description": "Stored encrypted, never returned"},
                            base_url=S, endpoint=S, api_version=S, endpoint_llm=S, endpoint_embedding=S,
                            endpoint_stt=S, endpoint_tts=S, project=S, location=S, credentials_path=S, num_ctx=I),
    "CredentialUpdate": obj(name=S, modalities=arr(S),
                            api_key={"type": ["string", "null"], "description": "Replaces the stored key when not empty"},
                            base_url=N, endpoint=N, api_version=N, endpoint_llm=N, endpoint_embedding=N,
                            endpoint_stt=N, endpoint_tts=N, project=N, location=N, credentials_path=N,
                            num_ctx={"type": ["integer", "null"]}),
    "CredentialDeleteResult": obj(message=S, deleted_models=I, migrated_models=I),
    "CredentialStatus": obj(configured=OBJ, source=OBJ, encryption_configured=B),
    "RegisterModels": obj(["models"], models=arr(obj(["name"], name=S, provider=S, model_type=S))),
    "RegisterModelsResult": obj(created=I, existing=I),
    "MigrateFromEnvResult": obj(message=S, migrated=arr(S), skipped=arr(S), not_configured=arr(S), errors=arr(S)),
    "Provider": obj(name=S, display_name=S, modalities=arr(S), docs_url=N, env_configured=B),
    "Model": obj(["id", "name", "provider", "type"], id=S, name=S, provider=S,
                 type={"enum": ["language", "embedding", "text_to_speech", "speech_to_text"]}, credential=N,
                 created=S, updated=S),
    "ModelCreate": obj(["name", "provider", "type"], name=S, provider=S,
                       type={"enum": ["language", "embedding", "text_to_speech", "speech_to_text"]}, credential=S),
    "DefaultModels": obj(default_chat_model=N, default_transformation_model=N, large_context_model=N,
                         default_text_to_speech_model=N, default_speech_to_text_model=N, default_embedding_model=N,
                         default_tools_model=N),
    "ModelProviders": obj(available=arr(S), unavailable=arr(S), supported_types=OBJ),
    "ModelCounts": obj(provider=S, counts=OBJ, total=I),
    "AutoAssignResult": obj(assigned=OBJ, skipped=arr(S), missing=arr(S)),
    "Speaker": obj(["name", "voice_id"], name=S, voice_id=S, backstory=S, personality=S, voice_model=N),
    "SpeakerProfile": obj(["id", "name", "speakers"], id=S, name=S, description=S, voice_model=N,
                          speakers=arr({"$ref": "#/components/schemas/Speaker"}), created=S, updated=S),
    "SpeakerProfileCreate": obj(["name", "speakers"], name=S, description=S, voice_model=N,
                                speakers={**arr({"$ref": "#/components/schemas/Speaker"}), "minItems": 1, "maxItems": 4}),
    "SpeakerProfileUpdate": obj(name=S, description=S, voice_model=N,
                                speakers={**arr({"$ref": "#/components/schemas/Speaker"}), "minItems": 1, "maxItems": 4}),
    "EpisodeProfile": obj(["id", "name"], id=S, name=S, description=S, speaker_config=N, speaker_config_name=N,
                          outline_llm=N, transcript_llm=N, language=N, default_briefing=S, num_segments=I,
                          max_tokens={"type": ["integer", "null"]}, created=S, updated=S),
    "EpisodeProfileCreate": obj(["name"], name=S, description=S,
                                speaker_config={"type": ["string", "null"], "description": "speaker profile id or name"},
                                outline_llm=N, transcript_llm=N,
                                language={"type": ["string", "null"], "description": "BCP 47 tag"}, default_briefing=S,
                                num_segments={"type": "integer", "minimum": 3, "maximum": 20},
                                max_tokens={"type": ["integer", "null"], "minimum": 1}),
    "PodcastGenerate": obj(["episode_profile", "episode_name"],
                           episode_profile={"type": "string", "description": "episode profile name or id"},
                           speaker_profile={"type": "string", "description": "speaker profile name or id; default: "
                                            "the episode profile's"},
                           episode_name=S, content={"type": "string", "description": "the material; default: the "
                                                    "notebook's sources, insights and notes"},
                           notebook_id=S, briefing_suffix=S),
    "PodcastSubmitted": obj(["job_id", "episode_id"], job_id=S, episode_id=S, status=S, message=S, episode_profile=S,
                            episode_name=S),
    "PodcastJob": obj(["job_id", "status"], job_id=S, status={"enum": ["queued", "running", "completed", "failed", "cancelled"]},
                      result=OBJ, error_message=N, created=S, updated=S,
                      progress={"type": ["object", "null"], "properties": {"stage": N, "percent": {"type": ["integer", "null"]}}}),
    "Episode": obj(["id", "name"], id=S, name=S, episode_profile=OBJ, speaker_profile=OBJ, briefing=S, notebook_id=N,
                   audio_file=N, audio_url=N, duration_ms={"type": ["integer", "null"]},
                   transcript={"type": ["object", "null"]}, outline={"type": ["object", "null"]}, command_id=N,
                   job_status=S, error_message=N, created=S, updated=S),
    "EpisodeRetry": obj(["job_id"], job_id=S, episode_id=S, message=S),
    "EpisodeDeleted": obj(["message", "episode_id"], message=S, episode_id=S),

    "ChatSession": obj(["id", "title"], id=S, title=S, notebook_id=S, source_id=S, model_override=N, created=S,
                       updated=S, message_count=I),
    "ChatSessionWithMessages": obj(["id", "title", "messages"], id=S, title=S, notebook_id=S, source_id=S,
                                   model_override=N, created=S, updated=S, message_count=I,
                                   messages=arr({"$ref": "#/components/schemas/ChatMessage"}),
                                   context_indicators={"$ref": "#/components/schemas/ContextIndicators"}),
    "ChatSessionCreate": obj(["notebook_id"], notebook_id=S, title=S, model_override=S),
    "SourceChatSessionCreate": obj(source_id=S, title=S, model_override=S),
    "ChatSessionUpdate": obj(title=S, model_override={"type": ["string", "null"],
                                                       "description": "A model id; null clears the override"}),
    "ChatSessionDeleted": obj(success=B, message=S),
    "Citation": obj(["id", "kind"], id=S, kind={"enum": ["source", "chunk", "note", "insight"]}, source_id=N,
                    chunk_index={"type": ["integer", "null"]}, title=S),
    "ChatMessage": obj(["id", "type", "content"], id=S, type={"enum": ["human", "ai"]}, content=S, timestamp=S,
                       citations=arr({"$ref": "#/components/schemas/Citation"})),
    "ContextConfig": {"type": "object", "description":
                      "sources: {id: \"insights\" | \"full content\" | \"not in\"}, notes: {id: \"full content\" | "
                      "\"not in\"}. A missing member uses the defaults: each source with its insights when it has "
                      "any and its full content otherwise, each note in full.",
                      "properties": {"sources": OBJ, "notes": OBJ}},
    "ChatContextRequest": obj(["notebook_id"], notebook_id=S,
                              context_config={"$ref": "#/components/schemas/ContextConfig"}),
    "ChatContext": obj(context=obj(sources=arr(obj(id=S, title=S, mode={"enum": ["insights", "full content"]},
                                                   insights=arr(obj(id=S, insight_type=S, content=S)),
                                                   chunks=arr(obj(id=S, index=I, content=S)),
                                                   full_text={"type": "string", "description":
                                                              "Only for a source without chunks"})),
                                   notes=arr(obj(id=S, title=S, content=S))),
                       token_count=I, char_count=I),
    "ChatExecute": obj(["message"], session_id=S,
                       notebook_id={"type": "string", "description": "Starts a new session when session_id is absent"},
                       message=S, model_override=S,
                       context={"type": "object", "description": "The context /api/chat/context returned; only its ids "
                                "and modes are used, the texts are read from the database"},
                       context_config={"$ref": "#/components/schemas/ContextConfig"}),
    "ChatExecuteResult": obj(session_id=S, messages=arr({"$ref": "#/components/schemas/ChatMessage"})),
    "SourceChatMessage": obj(["message"], message=S, model_override=S),
    "ContextIndicators": obj(sources=arr(S), chunks=arr(S), insights=arr(S), notes=arr(S)),
    "ChatSaveAsNote": obj(notebook_id=S, title=S),
}

# The events of a streamed chat answer. Each event is "data: <JSON>\n\n"; lines starting with ":"
# are heartbeats (after OPEN_NOTEBOOK_SSE_HEARTBEAT_SECONDS of silence).
CHAT_EVENTS = (
    "Server-Sent Events, each `data: <JSON>`: "
    "{type: user_message, id, session_id, content, timestamp}; "
    "{type: token, content} for each piece of the answer as the model sends it; "
    "{type: ai_message, id, session_id, content, timestamp, citations[], rejected_citations[]} with the stored "
    "answer (reasoning removed, citations checked; clients replace the streamed text with it); "
    "{type: context_indicators, data: {sources[], chunks[], insights[], notes[]}}; {type: complete, session_id}. "
    "A failure after the stream started is one {type: error, message, status, code} event. Comment lines "
    "(\": heartbeat\") keep the connection alive. A closed connection cancels the model call. Errors found before "
    "the stream starts (invalid input, unknown session or model, a context larger than the model's window) are "
    "plain JSON responses."
)

# (method, path, summary, tag, request schema or None, response schema, query parameters)
ROUTES = [
    ("GET", "/", "Check that the API process answers", "system", None, "Message", []),
    ("GET", "/health", "Liveness and readiness: 200 when ready, 503 while starting", "system", None, "Health", []),
    ("GET", "/api/config", "Version, database status and non-secret settings", "system", None, "Config", []),
    ("GET", "/api/auth/status", "Whether a password is required", "system", None, "AuthStatus", []),
    ("GET", "/api/settings", "Runtime settings in effect and the configuration version", "settings", None,
     "RuntimeSettings", []),
    ("PUT", "/api/settings", "Change runtime settings for every process within seconds; null restores the "
     "environment's value", "settings", "RuntimeSettings", "RuntimeSettings", []),
    ("GET", "/openapi.json", "This document", "system", None, None, []),
    ("GET", "/metrics", "Metrics in the Prometheus text format 0.0.4 (needs the password unless "
     "OPEN_NOTEBOOK_METRICS_PUBLIC=true)", "system", None, "text/plain", []),
    ("GET", "/api/notebooks", "List notebooks with source and note counts", "notebooks", None, arr({"$ref": "#/components/schemas/Notebook"}),
     [("archived", B), ("order_by", S)]),
    ("POST", "/api/notebooks", "Create a notebook", "notebooks", "NotebookCreate", "Notebook", []),
    ("GET", "/api/notebooks/{notebook_id}", "Get a notebook and record it as viewed", "notebooks", None, "Notebook", []),
    ("PUT", "/api/notebooks/{notebook_id}", "Rename, describe, archive or unarchive a notebook", "notebooks", "NotebookUpdate", "Notebook", []),
    ("DELETE", "/api/notebooks/{notebook_id}", "Delete a notebook, its notes and optionally its exclusive sources", "notebooks", None,
     "NotebookDeleteResult", [("delete_exclusive_sources", B)]),
    ("GET", "/api/notebooks/{notebook_id}/delete-preview", "What deleting the notebook would remove", "notebooks", None,
     "NotebookDeletePreview", []),
    ("GET", "/api/recently-viewed", "Notebooks and sources opened most recently", "notebooks", None,
     arr({"$ref": "#/components/schemas/RecentItem"}), [("limit", I)]),
    ("GET", "/api/notes", "List notes, optionally of one notebook, most recently updated first; a page of "
     "limit (1-100) notes from offset when limit is given", "notes", None, arr({"$ref": "#/components/schemas/Note"}),
     [("notebook_id", S), ("limit", I), ("offset", I)]),
    ("POST", "/api/notes", "Create a note", "notes", "NoteCreate", "Note", []),
    ("GET", "/api/notes/{note_id}", "Get a note", "notes", None, "Note", []),
    ("PUT", "/api/notes/{note_id}", "Update a note", "notes", "NoteUpdate", "Note", []),
    ("DELETE", "/api/notes/{note_id}", "Delete a note", "notes", None, "Message", []),
    ("GET", "/api/sources", "List sources, optionally of one notebook", "sources", None,
     arr({"$ref": "#/components/schemas/Source"}),
     [("notebook_id", S), ("limit", I), ("offset", I), ("sort_by", S), ("sort_order", S)]),
    ("POST", "/api/sources", "Add a source from a link, an uploaded file or text (multipart/form-data)", "sources",
     "SourceCreateForm", "Source", []),
    ("POST", "/api/sources/json", "Add a source from a link or text (JSON)", "sources", "SourceCreateJson", "Source", []),
    ("GET", "/api/sources/{source_id}", "Get a source with its text and record it as viewed", "sources", None, "Source", []),
    ("PUT", "/api/sources/{source_id}", "Change a source's title or topics", "sources", "SourceUpdate", "Source", []),
    ("DELETE", "/api/sources/{source_id}", "Delete a source, its file, chunks and index entries", "sources", None, "Message", []),
    ("GET", "/api/sources/{source_id}/status", "Processing status of a source", "sources", None, "SourceStatus", []),
    ("POST", "/api/sources/{source_id}/retry", "Process a source again (queues at most one job)", "sources", None, "Source", []),
    ("GET", "/api/sources/{source_id}/download", "Download the uploaded file (application/octet-stream)", "sources", None, None, []),
    ("POST", "/api/notebooks/{notebook_id}/sources/{source_id}", "Add a source to a notebook", "sources", None, "Message", []),
    ("DELETE", "/api/notebooks/{notebook_id}/sources/{source_id}", "Remove a source from a notebook", "sources", None, "Message", []),
    ("POST", "/api/search", "Keyword, vector or hybrid search over sources and notes (hybrid is the default once "
     "vectors of the embedding model exist)", "search", "SearchRequest", "SearchResponse", []),
    ("POST", "/api/search/ask", "Answer a question in steps (search plan, searches, cited answer) as server-sent "
     "events: data lines with JSON objects of type strategy, answer, final_answer, complete or error",
     "search", "AskRequest", "text/event-stream", []),
    ("POST", "/api/search/ask/simple", "Answer a question in steps and return the result at once", "search", "AskRequest",
     "AskResponse", []),
    ("POST", "/api/credentials/{credential_id}/test", "Test the credential's connection to its provider", "credentials",
     None, "ConnectionTest", []),
    ("POST", "/api/credentials/{credential_id}/discover", "List the models the provider offers with this credential",
     "credentials", None, "CredentialDiscovery", []),
    ("GET", "/api/models/discover/{provider}", "List the models a configured provider offers, without saving them",
     "models", None, arr({"$ref": "#/components/schemas/DiscoveredModel"}), []),
    ("POST", "/api/models/sync/{provider}", "Register the provider's models that are not registered yet", "models", None,
     "ModelSync", []),
    ("POST", "/api/models/sync", "Sync every configured provider", "models", None, "ModelSyncAll", []),
    ("POST", "/api/models/{model_id}/test", "Make a real call with the model and report the result", "models", None,
     "ModelTest", []),
    ("POST", "/api/embed", "Queue embedding of a source's chunks, a note or an insight", "embeddings", "EmbedRequest", "EmbedQueued", []),
    ("POST", "/api/embeddings/rebuild", "Queue embedding of every source, note and insight with the current "
     "embedding model",
     "embeddings", "RebuildRequest", "RebuildStarted", []),
    ("GET", "/api/embeddings/rebuild/{command_id}/status", "Progress of a rebuild: vectors of the current model against "
     "everything there is to embed", "embeddings", None, "RebuildStatus", []),
    ("GET", "/api/transformations", "List transformations sorted by name", "transformations", None,
     arr({"$ref": "#/components/schemas/Transformation"}), []),
    ("POST", "/api/transformations", "Create a transformation", "transformations", "TransformationCreate",
     "Transformation", []),
    ("GET", "/api/transformations/default-prompt", "The global instructions put in front of every transformation",
     "transformations", None, "DefaultPrompt", []),
    ("PUT", "/api/transformations/default-prompt", "Change the global instructions (empty turns them off)",
     "transformations", "DefaultPrompt", "DefaultPrompt", []),
    ("POST", "/api/transformations/execute", "Run a transformation on the given text and return the output "
     "(long texts are processed in parts)", "transformations", "TransformationExecute", "TransformationOutput", []),
    ("GET", "/api/transformations/{transformation_id}", "Get a transformation", "transformations", None,
     "Transformation", []),
    ("PUT", "/api/transformations/{transformation_id}", "Change a transformation; model_id null clears its model",
     "transformations", "TransformationUpdate", "Transformation", []),
    ("DELETE", "/api/transformations/{transformation_id}", "Delete a transformation (its insights stay)",
     "transformations", None, "Message", []),
    ("GET", "/api/sources/{source_id}/insights", "Insights of a source, oldest first", "insights", None,
     arr({"$ref": "#/components/schemas/Insight"}), []),
    ("POST", "/api/sources/{source_id}/insights", "Queue a transformation of the source; the insight appears when "
     "the job completes (202)", "insights", "InsightCreate", "InsightQueued", []),
    ("GET", "/api/insights/{insight_id}", "Get an insight", "insights", None, "Insight", []),
    ("DELETE", "/api/insights/{insight_id}", "Delete an insight and its vectors", "insights", None, "Message", []),
    ("POST", "/api/insights/{insight_id}/save-as-note", "Save an insight as an AI note", "insights", "SaveAsNote",
     "Note", []),
    ("POST", "/api/commands/jobs", "Submit a background job", "jobs", "JobSubmit", "JobSubmitted", []),
    ("GET", "/api/commands/jobs", "List jobs, newest first", "jobs", None, arr({"$ref": "#/components/schemas/Job"}),
     [("command_filter", S), ("status_filter", S), ("limit", I)]),
    ("GET", "/api/commands/jobs/{job_id}", "Get a job's status, progress and result", "jobs", None, "Job", []),
    ("DELETE", "/api/commands/jobs/{job_id}", "Cancel a job", "jobs", None, "JobCancelled", []),
    ("GET", "/api/commands/registry/debug", "Commands this server can run", "jobs", None, OBJ, []),
    ("GET", "/api/providers", "AI providers in display order, with whether their environment variables are set",
     "credentials", None, arr({"$ref": "#/components/schemas/Provider"}), []),
    ("GET", "/api/credentials", "List credentials (API keys are never returned)", "credentials", None,
     arr({"$ref": "#/components/schemas/Credential"}), [("provider", S)]),
    ("POST", "/api/credentials", "Create a credential; 201, 400 when an API key is sent without an encryption key",
     "credentials", "CredentialCreate", "Credential", []),
    ("GET", "/api/credentials/status", "Which providers are configured, and from where", "credentials", None,
     "CredentialStatus", []),
    ("GET", "/api/credentials/env-status", "Which providers are configured by environment variables", "credentials",
     None, OBJ, []),
    ("POST", "/api/credentials/migrate-from-env", "Store environment-configured providers as credentials",
     "credentials", None, "MigrateFromEnvResult", []),
    ("GET", "/api/credentials/by-provider/{provider}", "List the credentials of one provider", "credentials", None,
     arr({"$ref": "#/components/schemas/Credential"}), []),
    ("GET", "/api/credentials/{credential_id}", "Get a credential", "credentials", None, "Credential", []),
    ("PUT", "/api/credentials/{credential_id}", "Update a credential; null or \"\" clears a field", "credentials",
     "CredentialUpdate", "Credential", []),
    ("DELETE", "/api/credentials/{credential_id}", "Delete a credential and its models, or move them to migrate_to",
     "credentials", None, "CredentialDeleteResult", [("migrate_to", S)]),
    ("POST", "/api/credentials/{credential_id}/register-models", "Register models linked to a credential",
     "credentials", "RegisterModels", "RegisterModelsResult", []),
    ("GET", "/api/models", "List registered models", "models", None, arr({"$ref": "#/components/schemas/Model"}),
     [("type", S)]),
    ("POST", "/api/models", "Register a model; 400 for a duplicate or an invalid type", "models", "ModelCreate",
     "Model", []),
    ("DELETE", "/api/models/{model_id}", "Delete a model and empty the default slots that named it", "models", None,
     "Message", []),
    ("GET", "/api/models/defaults", "The default model of each role", "models", None, "DefaultModels", []),
    ("PUT", "/api/models/defaults", "Set default models; absent slots stay, null empties an optional slot", "models",
     "DefaultModels", "DefaultModels", []),
    ("GET", "/api/models/providers", "Providers configured by a credential or environment variables", "models", None,
     "ModelProviders", []),
    ("GET", "/api/models/count/{provider}", "Number of models of a provider by type", "models", None, "ModelCounts", []),
    ("GET", "/api/models/by-provider/{provider}", "Models of a provider, by type and name", "models", None,
     arr({"$ref": "#/components/schemas/Model"}), []),
    ("POST", "/api/models/auto-assign", "Fill empty chat and embedding defaults from registered models", "models",
     None, "AutoAssignResult", []),
    ("POST", "/api/podcasts/generate", "Generate a podcast episode from a notebook or given text; voices are checked "
     "before any model call", "podcasts", "PodcastGenerate", "PodcastSubmitted", []),
    ("GET", "/api/podcasts/jobs/{job_id}", "Status, progress and result of a podcast job", "podcasts", None,
     "PodcastJob", []),
    ("GET", "/api/podcasts/episodes", "List episodes, newest first", "podcasts", None,
     arr({"$ref": "#/components/schemas/Episode"}), []),
    ("GET", "/api/podcasts/episodes/{episode_id}", "Get an episode with its outline and transcript", "podcasts", None,
     "Episode", []),
    ("GET", "/api/podcasts/episodes/{episode_id}/audio", "The episode's MP3; a single Range gets 206, a range past "
     "the end 416; 403 for a stored path outside the podcasts folder", "podcasts", None, "audio/mpeg", []),
    ("POST", "/api/podcasts/episodes/{episode_id}/retry", "Generate a failed or cancelled episode again", "podcasts",
     None, "EpisodeRetry", []),
    ("DELETE", "/api/podcasts/episodes/{episode_id}", "Delete an episode and its audio (cancels its job)", "podcasts",
     None, "EpisodeDeleted", []),
    ("GET", "/api/episode-profiles", "List episode profiles by name", "podcasts", None,
     arr({"$ref": "#/components/schemas/EpisodeProfile"}), []),
    ("POST", "/api/episode-profiles", "Create an episode profile", "podcasts", "EpisodeProfileCreate", "EpisodeProfile", []),
    ("GET", "/api/episode-profiles/{profile}", "Get an episode profile by name or id", "podcasts", None,
     "EpisodeProfile", []),
    ("PUT", "/api/episode-profiles/{profile}", "Change an episode profile (by id); absent fields stay, null clears",
     "podcasts", "EpisodeProfileCreate", "EpisodeProfile", []),
    ("DELETE", "/api/episode-profiles/{profile}", "Delete an episode profile (by id); episodes keep their copy",
     "podcasts", None, "Message", []),
    ("POST", "/api/episode-profiles/{profile}/duplicate", "Copy an episode profile as \"<name> - Copy\"", "podcasts",
     None, "EpisodeProfile", []),
    ("GET", "/api/speaker-profiles", "List speaker profiles by name", "podcasts", None,
     arr({"$ref": "#/components/schemas/SpeakerProfile"}), []),
    ("POST", "/api/speaker-profiles", "Create a speaker profile of 1 to 4 speakers", "podcasts", "SpeakerProfileCreate",
     "SpeakerProfile", []),
    ("GET", "/api/speaker-profiles/{profile}", "Get a speaker profile by name or id", "podcasts", None,
     "SpeakerProfile", []),
    ("PUT", "/api/speaker-profiles/{profile}", "Change a speaker profile (by id); absent fields stay", "podcasts",
     "SpeakerProfileUpdate", "SpeakerProfile", []),
    ("DELETE", "/api/speaker-profiles/{profile}", "Delete a speaker profile (by id); episodes keep their copy",
     "podcasts", None, "Message", []),
    ("POST", "/api/speaker-profiles/{profile}/duplicate", "Copy a speaker profile as \"<name> - Copy\"", "podcasts",
     None, "SpeakerProfile", []),
    ("GET", "/api/chat/sessions", "Chat sessions of a notebook, most recently updated first", "chat", None,
     arr({"$ref": "#/components/schemas/ChatSession"}), [("notebook_id", S)]),
    ("POST", "/api/chat/sessions", "Start a chat session in a notebook", "chat", "ChatSessionCreate", "ChatSession", []),
    ("GET", "/api/chat/sessions/{session_id}", "Get a chat session with its messages", "chat", None,
     "ChatSessionWithMessages", []),
    ("PUT", "/api/chat/sessions/{session_id}", "Rename a session or set its model; absent fields stay", "chat",
     "ChatSessionUpdate", "ChatSession", []),
    ("DELETE", "/api/chat/sessions/{session_id}", "Delete a session and its messages", "chat", None,
     "ChatSessionDeleted", []),
    ("POST", "/api/chat/sessions/{session_id}/messages/{message_id}/save-as-note",
     "Save an answer as a note of type ai, in the session's notebook unless notebook_id names another", "chat",
     "ChatSaveAsNote", "Note", []),
    ("POST", "/api/chat/context", "The context a chat would send: sources (insights or chunks with citation ids) "
     "and notes, with token and character counts", "chat", "ChatContextRequest", "ChatContext", []),
    ("POST", "/api/chat/execute", "Ask a question in a session and wait for the answer; 400 before any model call "
     "when the prompt does not fit the model's context window", "chat", "ChatExecute", "ChatExecuteResult", []),
    ("POST", "/api/chat/execute/stream", "Ask a question and stream the answer. " + CHAT_EVENTS, "chat",
     "ChatExecute", "text/event-stream", []),
    ("GET", "/api/sources/{source_id}/chat/sessions", "Chat sessions of a source, newest first", "source chat", None,
     arr({"$ref": "#/components/schemas/ChatSession"}), []),
    ("POST", "/api/sources/{source_id}/chat/sessions", "Start a chat session about a source", "source chat",
     "SourceChatSessionCreate", "ChatSession", []),
    ("GET", "/api/sources/{source_id}/chat/sessions/{session_id}", "Get a source chat session with its messages and "
     "what the latest answer's prompt held", "source chat", None, "ChatSessionWithMessages", []),
    ("PUT", "/api/sources/{source_id}/chat/sessions/{session_id}", "Rename a source chat session or set its model",
     "source chat", "ChatSessionUpdate", "ChatSession", []),
    ("DELETE", "/api/sources/{source_id}/chat/sessions/{session_id}", "Delete a source chat session", "source chat",
     None, "ChatSessionDeleted", []),
    ("POST", "/api/sources/{source_id}/chat/sessions/{session_id}/messages", "Ask about the source and stream the "
     "answer; the prompt holds the source's insights and the passages that match the question best. " + CHAT_EVENTS,
     "source chat", "SourceChatMessage", "text/event-stream", []),
]

# Routes that return 201 Created instead of 200.
CREATED = {("POST", "/api/credentials")}
ACCEPTED = {("POST", "/api/sources/{source_id}/insights")}

ERRORS = {
    "400": "Invalid value (the detail names it)",
    "401": "Password missing or wrong",
    "404": "Record not found",
    "413": "Request body over OPEN_NOTEBOOK_MAX_UPLOAD_SIZE_MB",
    "422": "Malformed body or parameter (the detail names the field)",
    "429": "Too many failed password attempts",
    "503": "Starting: waiting for the database",
}


def schema_ref(schema):
    if schema is None:
        return OBJ
    if isinstance(schema, str):
        return {"$ref": f"#/components/schemas/{schema}"}
    return schema


def main():
    paths = {}
    for method, path, summary, tag, request, response, query in ROUTES:
        status = "200"
        if (method, path) in CREATED:
            status = "201"
        elif (method, path) in ACCEPTED:
            status = "202"
        if response == "text/plain":
            success = {"text/plain; version=0.0.4": {"schema": S}}
        elif response == "text/event-stream":
            success = {"text/event-stream": {"schema": S}}
        elif response == "audio/mpeg":
            success = {"audio/mpeg": {"schema": {"type": "string", "format": "binary"}}}
        else:
            success = {"application/json": {"schema": schema_ref(response)}}
        operation = {"summary": summary, "tags": [tag], "responses": {status: {"description": "Success", "content": success}}}
        for code, text in ERRORS.items():
            operation["responses"][code] = {"description": text, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}}}}
        parameters = [{"name": name, "in": "path", "required": True, "schema": S} for name in re.findall(r"{(\w+)}", path)]
        parameters += [{"name": name, "in": "query", "required": False, "schema": schema} for name, schema in query]
        if parameters:
            operation["parameters"] = parameters
        if request:
            media = "multipart/form-data" if request.endswith("Form") else "application/json"
            operation["requestBody"] = {"required": True, "content": {media: {"schema": schema_ref(request)}}}
        paths.setdefault(path, {})[method.lower()] = operation

    document = {
        "openapi": "3.1.0",
        "info": {"title": "Open Notebook API", "version": "0.1.0",
                 "description": "REST API of Open Notebook in C++. Ids have the form table:key. "
                                "When a password is set, send 'Authorization: Bearer <password>'."},
        "components": {"schemas": SCHEMAS, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": paths,
    }
    target = pathlib.Path(__file__).resolve().parent.parent / "src/api/openapi.json"
    target.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
