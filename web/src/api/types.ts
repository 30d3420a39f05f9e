// Shapes of the API's JSON (src/api/openapi.json is the reference).

export interface Notebook {
  id: string;
  name: string;
  description: string;
  archived: boolean;
  created: string;
  updated: string;
  source_count: number;
  note_count: number;
}

export interface DeletePreview {
  notebook_id: string;
  notebook_name: string;
  note_count: number;
  exclusive_source_count: number;
  shared_source_count: number;
}

export type SourceStatus = 'new' | 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | null;

export interface Source {
  id: string;
  title: string | null;
  asset: { file_path?: string | null; url?: string | null } | null;
  original_filename?: string | null;
  embedded: boolean;
  embedded_chunks: number;
  insights_count: number;
  created: string;
  updated: string;
  file_available: boolean;
  command_id: string | null;
  status: SourceStatus;
  processing_info: {
    started_at?: string | null;
    completed_at?: string | null;
    error?: string | null;
    stage?: string | null;
    percent?: number | null;
  } | null;
  full_text?: string | null;
  notebooks?: string[];
}

export interface Note {
  id: string;
  title: string | null;
  content: string | null;
  note_type: 'human' | 'ai';
  created: string;
  updated: string;
}

export type SearchType = 'text' | 'vector' | 'hybrid';

export interface SearchResult {
  id: string;
  parent_id: string | null;
  title: string | null;
  type: string;
  relevance: number;
  snippet?: string | null;
}

export interface SearchResponse {
  results: SearchResult[];
  total_count: number;
  search_type: SearchType;
}

export interface ServerConfig {
  version: string;
  dbStatus: 'online' | 'offline';
  schemaVersion: number | null;
  settings?: Record<string, string | number | boolean>;
}

export interface Job {
  job_id: string;
  command?: string;
  status: string;
  error_message: string | null;
  created: string;
  updated: string;
  progress?: { processed?: number; total?: number; percentage?: number } | null;
}

export interface RebuildStatus {
  command_id: string;
  status: string;
  progress: { processed: number; total: number; percentage: number } | null;
  error_message: string | null;
}

export interface Provider {
  name: string;
  display_name: string;
  modalities: string[];
  env_configured: boolean;
}

export interface Credential {
  id: string;
  name: string;
  provider: string;
  modalities: string[];
  base_url: string | null;
  has_api_key: boolean;
  model_count: number;
  decryption_error: string | null;
  num_ctx?: number | null;
}

export type ModelType = 'language' | 'embedding' | 'text_to_speech' | 'speech_to_text';

export interface Model {
  id: string;
  name: string;
  provider: string;
  type: ModelType;
  credential: string | null;
}

export interface DiscoveredModel {
  name: string;
  provider: string;
  model_type?: ModelType | null;
  description?: string | null;
}

export type DefaultModels = Record<string, string | null>;

// A cited passage as chat and ask return it. Ids: "source:<key>", "chunk:<key>_<index>",
// "note:<key>", "source_insight:<key>".
export interface Citation {
  id: string;
  kind: 'source' | 'chunk' | 'note' | 'insight';
  source_id?: string | null;
  chunk_index?: number | null;
  title?: string;
}

export interface ChatMessage {
  id: string;
  type: 'human' | 'ai';
  content: string;
  timestamp?: string;
  citations?: Citation[];
}

export interface ChatSession {
  id: string;
  title: string;
  notebook_id?: string;
  model_override?: string | null;
  created?: string;
  updated?: string;
  message_count?: number;
}

export interface ChatSessionWithMessages extends ChatSession {
  messages: ChatMessage[];
}

export type SourceContextMode = 'insights' | 'full content' | 'not in';
export type NoteContextMode = 'full content' | 'not in';

export interface ContextConfig {
  sources?: Record<string, SourceContextMode>;
  notes?: Record<string, NoteContextMode>;
}

export interface ChatContext {
  context: {
    sources: {
      id: string;
      title: string;
      mode: 'insights' | 'full content';
      insights?: { id: string; insight_type: string; content: string }[];
      chunks?: { id: string; index: number; content: string }[];
      full_text?: string;
    }[];
    notes: { id: string; title: string; content: string }[];
  };
  token_count: number;
  char_count: number;
}

export interface AskResult {
  question: string;
  notebook_id: string | null;
  final_answer: string;
  citations: Citation[];
  rejected_citations: string[];
  evidence: Citation[];
  found_nothing: boolean;
  search_type: 'text' | 'hybrid';
}

export interface Transformation {
  id: string;
  name: string;
  title: string;
  description?: string;
  prompt: string;
  apply_default?: boolean;
  model_id?: string | null;
  created?: string;
  updated?: string;
}

export interface Insight {
  id: string;
  source_id: string;
  insight_type: string;
  content: string;
  transformation_id?: string | null;
  model_id?: string | null;
  command_id?: string | null;
  created?: string;
  updated?: string;
}
