import { useQuery, useQueryClient, type InfiniteData, type QueryKey } from '@tanstack/react-query';
import { useCallback, useMemo, useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client';
import type { ChatContext, ContextConfig, Credential, DefaultModels, Model, Note, NoteContextMode, ServerConfig, Source, SourceContextMode } from '../../api/types';
import { ErrorText } from '../ui';

export interface ContextOverrides {
  sources: Record<string, SourceContextMode>;
  notes: Record<string, NoteContextMode>;
}

// The reader's context choices of a notebook, kept for the browser tab so that they survive leaving
// the notebook page (to open a cited source, say) and coming back.
const OVERRIDES_KEY_PREFIX = 'open-notebook.chat-context.';

export function loadOverrides(notebookId: string): ContextOverrides {
  try {
    const stored = sessionStorage.getItem(OVERRIDES_KEY_PREFIX + notebookId);
    if (stored) {
      const parsed = JSON.parse(stored) as Partial<ContextOverrides>;
      return { sources: parsed.sources ?? {}, notes: parsed.notes ?? {} };
    }
  } catch {
    // Storage disabled or an entry from another version: start with the defaults.
  }
  return { sources: {}, notes: {} };
}

export function saveOverrides(notebookId: string, overrides: ContextOverrides): void {
  try {
    sessionStorage.setItem(OVERRIDES_KEY_PREFIX + notebookId, JSON.stringify(overrides));
  } catch {
    // Not kept; the choices still apply while the page stays open.
  }
}

// Builds the context_config for the API. Without overrides it is absent, so the server's defaults
// apply: a source with insights is sent as its insights, other sources and every note in full.
// With overrides, the config lists every source and note of `baseline`, because the API leaves
// out whatever a given list does not name.
export function contextConfigFor(baseline: ChatContext | undefined, overrides: ContextOverrides): ContextConfig | undefined {
  const changed = Object.keys(overrides.sources).length > 0 || Object.keys(overrides.notes).length > 0;
  if (!changed || !baseline) return undefined;
  const sources: Record<string, SourceContextMode> = {};
  for (const source of baseline.context.sources) sources[source.id] = overrides.sources[source.id] ?? source.mode;
  const notes: Record<string, NoteContextMode> = {};
  for (const note of baseline.context.notes) notes[note.id] = overrides.notes[note.id] ?? 'full content';
  return { sources, notes };
}

// Reads the pages another component's infinite query has cached under `queryKey`, and re-renders
// when they change. It adds no observer: an observer with its own queryFn would replace the list's
// queryFn, and an invalidation would then refetch nothing.
function useCachedPages<T>(queryKey: QueryKey): T[] {
  const queryClient = useQueryClient();
  const subscribe = useCallback((onChange: () => void) => queryClient.getQueryCache().subscribe(onChange), [queryClient]);
  const data = useSyncExternalStore(subscribe, () => queryClient.getQueryData<InfiniteData<T[]>>(queryKey));
  return useMemo(() => data?.pages.flat() ?? [], [data]);
}

// Returns a string that changes whenever the notebook's loaded sources or notes change: one is
// added or removed, a note is edited, or a source finishes processing or gets insights. It reads the cached lists of the
// sources and notes columns and fetches nothing, so the chat context is requested again only
// when its input may have changed.
export function useNotebookContentVersion(notebookId: string): string {
  const sources = useCachedPages<Source>(['sources', notebookId]);
  const notes = useCachedPages<Note>(['notes', notebookId]);
  // Not `updated`: it may change with each progress report while a source is processed, and the
  // context only changes when processing ends (the status) or insights are added.
  const sourceVersion = sources.map((source) => `${source.id}:${source.status}:${source.insights_count}`);
  const noteVersion = notes.map((note) => `${note.id}:${note.updated}`);
  return [...sourceVersion, ...noteVersion].join(',');
}

// Returns the context window of the model a chat uses, in tokens: the num_ctx of its credential,
// else the server's OPEN_NOTEBOOK_CONTEXT_WINDOW_TOKENS, as the server decides before it calls
// the model. Null while unknown or when no chat model is set.
export function useChatWindow(sessionModel: string | null | undefined): number | null {
  const defaults = useQuery({ queryKey: ['model-defaults'], queryFn: () => api<DefaultModels>('/models/defaults') });
  const models = useQuery({ queryKey: ['models'], queryFn: () => api<Model[]>('/models') });
  const credentials = useQuery({ queryKey: ['credentials'], queryFn: () => api<Credential[]>('/credentials') });
  const config = useQuery({ queryKey: ['server-config'], queryFn: () => api<ServerConfig>('/config') });
  const modelId = sessionModel ?? defaults.data?.default_chat_model ?? null;
  const fallback = Number(config.data?.settings?.OPEN_NOTEBOOK_CONTEXT_WINDOW_TOKENS ?? 0);
  if (!modelId || !models.data) return null;
  const model = models.data.find((item) => item.id === modelId);
  const credential = credentials.data?.find((item) => item.id === model?.credential);
  const numCtx = credential?.num_ctx;
  if (typeof numCtx === 'number' && numCtx > 0) return numCtx;
  return fallback > 0 ? fallback : null;
}

// Per-source and per-note choice of what the chat sends, listed from the notebook's default
// context so that sources left out stay listed.
export function ContextPanel({
  baseline,
  overrides,
  onChange,
}: {
  baseline: ChatContext;
  overrides: ContextOverrides;
  onChange: (next: ContextOverrides) => void;
}) {
  const { t } = useTranslation();
  const { sources, notes } = baseline.context;
  const selectClass = 'rounded border border-slate-300 bg-transparent text-xs dark:border-slate-600';
  return (
    <div data-testid="context-panel" className="max-h-56 space-y-1 overflow-y-auto rounded-md border border-slate-200 p-2 text-xs dark:border-slate-700">
      {sources.length === 0 && notes.length === 0 && <p className="text-slate-500">{t('chat.contextEmpty')}</p>}
      {sources.map((source) => (
        <label key={source.id} className="flex items-center justify-between gap-2">
          <span className="truncate" title={source.title}>{source.title}</span>
          <select
            aria-label={t('chat.contextFor', { name: source.title })}
            className={selectClass}
            value={overrides.sources[source.id] ?? source.mode}
            onChange={(event) => onChange({ ...overrides, sources: { ...overrides.sources, [source.id]: event.target.value as SourceContextMode } })}
          >
            <option value="insights">{t('chat.modes.insights')}</option>
            <option value="full content">{t('chat.modes.full')}</option>
            <option value="not in">{t('chat.modes.off')}</option>
          </select>
        </label>
      ))}
      {notes.map((note) => (
        <label key={note.id} className="flex items-center justify-between gap-2">
          <span className="truncate" title={note.title}>{note.title || t('notes.untitled')}</span>
          <select
            aria-label={t('chat.contextFor', { name: note.title || note.id })}
            className={selectClass}
            value={overrides.notes[note.id] ?? 'full content'}
            onChange={(event) => onChange({ ...overrides, notes: { ...overrides.notes, [note.id]: event.target.value as NoteContextMode } })}
          >
            <option value="full content">{t('chat.modes.full')}</option>
            <option value="not in">{t('chat.modes.off')}</option>
          </select>
        </label>
      ))}
    </div>
  );
}

// "Context: N of M tokens", with a warning when the context does not fit the window.
export function TokenCount({ tokens, window }: { tokens: number | null; window: number | null }) {
  const { t } = useTranslation();
  if (tokens === null) return <span>{t('chat.context')}</span>;
  const over = window !== null && tokens > window;
  return (
    <>
      <span data-testid="token-count" className={over ? 'font-medium text-red-600 dark:text-red-400' : ''}>
        {window !== null
          ? t('chat.tokens', { tokens: tokens.toLocaleString('en-US'), limit: window.toLocaleString('en-US') })
          : t('chat.tokensNoLimit', { tokens: tokens.toLocaleString('en-US') })}
      </span>
      {over && <ErrorText error={t('chat.overLimit')} />}
    </>
  );
}
