import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError, streamEvents } from '../api/client';
import type { Note, ServerConfig, Source } from '../api/types';
import { navigate } from '../router';
import { Markdown } from './Markdown';
import { Button, ErrorText, inputClass, Spinner } from './ui';

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
  citations?: Citation[];
}

interface ChatSession {
  id: string;
  title: string;
  message_count?: number;
}

type SourceMode = 'insights' | 'full content' | 'not in';
type NoteMode = 'full content' | 'not in';

// A server without the chat routes returns 404 "no route". The column then shows that chat is
// not available instead of an error.
function isMissingRoute(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404 && error.message.startsWith('Not Found: no route');
}

// Opens what a citation points at: the cited source (at the cited passage) or note's notebook.
export function openCitation(citation: Citation, notebookId: string): void {
  const sourceId = citation.source_id ?? (citation.kind === 'source' ? citation.id : null);
  if (sourceId) {
    const chunk = citation.chunk_index ?? null;
    navigate(`/sources/${encodeURIComponent(sourceId)}${chunk !== null ? `?chunk=${chunk}` : ''}`);
  } else {
    navigate(`/notebooks/${encodeURIComponent(notebookId)}?note=${encodeURIComponent(citation.id)}`);
  }
}

function ContextPanel({
  notebookId,
  sourceModes,
  noteModes,
  onSource,
  onNote,
}: {
  notebookId: string;
  sourceModes: Record<string, SourceMode>;
  noteModes: Record<string, NoteMode>;
  onSource: (id: string, mode: SourceMode) => void;
  onNote: (id: string, mode: NoteMode) => void;
}) {
  const { t } = useTranslation();
  // The same cache entries as the sources and notes columns: no extra requests.
  const sources = useInfiniteQuery<Source[]>({
    queryKey: ['sources', notebookId],
    queryFn: () => Promise.resolve([]),
    initialPageParam: 0,
    getNextPageParam: () => undefined,
    enabled: false,
  });
  const notes = useInfiniteQuery<Note[]>({
    queryKey: ['notes', notebookId],
    queryFn: () => Promise.resolve([]),
    initialPageParam: 0,
    getNextPageParam: () => undefined,
    enabled: false,
  });
  return (
    <div className="max-h-56 space-y-1 overflow-y-auto rounded-md border border-slate-200 p-2 text-xs dark:border-slate-700">
      {(sources.data?.pages.flat() ?? []).map((source) => (
        <label key={source.id} className="flex items-center justify-between gap-2">
          <span className="truncate">{source.title ?? source.original_filename ?? source.id}</span>
          <select
            aria-label={t('chat.contextFor', { name: source.title ?? source.id })}
            className="rounded border border-slate-300 bg-transparent dark:border-slate-600"
            value={sourceModes[source.id] ?? 'full content'}
            onChange={(event) => onSource(source.id, event.target.value as SourceMode)}
          >
            <option value="insights">{t('chat.modes.insights')}</option>
            <option value="full content">{t('chat.modes.full')}</option>
            <option value="not in">{t('chat.modes.off')}</option>
          </select>
        </label>
      ))}
      {(notes.data?.pages.flat() ?? []).map((note) => (
        <label key={note.id} className="flex items-center justify-between gap-2">
          <span className="truncate">{note.title || t('notes.untitled')}</span>
          <select
            aria-label={t('chat.contextFor', { name: note.title || note.id })}
            className="rounded border border-slate-300 bg-transparent dark:border-slate-600"
            value={noteModes[note.id] ?? 'full content'}
            onChange={(event) => onNote(note.id, event.target.value as NoteMode)}
          >
            <option value="full content">{t('chat.modes.full')}</option>
            <option value="not in">{t('chat.modes.off')}</option>
          </select>
        </label>
      ))}
    </div>
  );
}

function MessageView({ message, sessionId, notebookId }: { message: ChatMessage; sessionId: string; notebookId: string }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const save = useMutation({
    mutationFn: () =>
      api(`/chat/sessions/${encodeURIComponent(sessionId)}/messages/${encodeURIComponent(message.id)}/save-as-note`, {
        method: 'POST',
        json: { notebook_id: notebookId },
      }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['notes', notebookId] }),
  });
  if (message.type === 'human') {
    return <div className="ml-8 rounded-md bg-indigo-50 p-2 text-sm whitespace-pre-wrap dark:bg-indigo-950">{message.content}</div>;
  }
  return (
    <div data-testid="chat-answer" className="mr-4 rounded-md border border-slate-200 p-2 dark:border-slate-700">
      <Markdown text={message.content} />
      {(message.citations ?? []).length > 0 && (
        <div className="mt-2 flex flex-wrap gap-1">
          {message.citations!.map((citation, index) => (
            <button
              key={`${citation.id}-${index}`}
              type="button"
              data-testid="citation"
              className="rounded bg-slate-100 px-1.5 py-0.5 text-xs hover:bg-slate-200 dark:bg-slate-800 dark:hover:bg-slate-700"
              onClick={() => openCitation(citation, notebookId)}
            >
              [{index + 1}] {citation.title ?? citation.id}
            </button>
          ))}
        </div>
      )}
      {!message.id.startsWith('draft') && (
        <Button variant="ghost" className="mt-1 text-xs" onClick={() => save.mutate()} disabled={save.isPending || save.isSuccess}>
          {save.isSuccess ? t('chat.saved') : t('chat.saveAsNote')}
        </Button>
      )}
      <ErrorText error={save.error} />
    </div>
  );
}

// Chat with the notebook: sessions, streamed answers with clickable citations, the context sent
// with each question (per source and note) and its token count against the model's window.
export function ChatColumn({ notebookId }: { notebookId: string }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [sessionId, setSessionId] = useState<string | null>(null);
  const [text, setText] = useState('');
  const [draft, setDraft] = useState<ChatMessage[]>([]);
  const [streamError, setStreamError] = useState<unknown>(null);
  const [streaming, setStreaming] = useState(false);
  const [showContext, setShowContext] = useState(false);
  const [sourceModes, setSourceModes] = useState<Record<string, SourceMode>>({});
  const [noteModes, setNoteModes] = useState<Record<string, NoteMode>>({});
  const abort = useRef<AbortController | null>(null);
  useEffect(() => () => abort.current?.abort(), []);

  const sessions = useQuery({
    queryKey: ['chat-sessions', notebookId],
    queryFn: () => api<ChatSession[]>(`/chat/sessions?notebook_id=${encodeURIComponent(notebookId)}`),
    retry: false,
  });
  useEffect(() => {
    if (!sessionId && sessions.data && sessions.data.length > 0) setSessionId(sessions.data[0]!.id);
  }, [sessions.data, sessionId]);
  const session = useQuery({
    queryKey: ['chat-session', sessionId],
    queryFn: () => api<{ messages: ChatMessage[] }>(`/chat/sessions/${encodeURIComponent(sessionId!)}`),
    enabled: sessionId !== null,
  });
  const contextConfig = useMemo(() => ({ sources: sourceModes, notes: noteModes }), [sourceModes, noteModes]);
  const context = useQuery({
    queryKey: ['chat-context', notebookId, contextConfig],
    queryFn: () =>
      api<{ token_count: number; char_count: number }>('/chat/context', {
        method: 'POST',
        json: { notebook_id: notebookId, context_config: contextConfig },
      }),
    enabled: sessions.isSuccess,
  });
  const config = useQuery({ queryKey: ['server-config'], queryFn: () => api<ServerConfig>('/config') });
  const windowTokens = Number(config.data?.settings?.OPEN_NOTEBOOK_CHAT_CONTEXT_WINDOW ?? 0);
  const create = useMutation({
    mutationFn: () => api<ChatSession>('/chat/sessions', { method: 'POST', json: { notebook_id: notebookId } }),
    onSuccess: (created) => {
      void queryClient.invalidateQueries({ queryKey: ['chat-sessions', notebookId] });
      setSessionId(created.id);
      setDraft([]);
    },
  });

  if (sessions.isPending) return <Spinner />;
  if (sessions.isError && isMissingRoute(sessions.error)) {
    return <p className="rounded-md border border-dashed border-slate-300 p-4 text-sm text-slate-500 dark:border-slate-700">{t('chat.unavailable')}</p>;
  }

  const send = async () => {
    const message = text.trim();
    if (!message || streaming) return;
    setText('');
    setStreamError(null);
    setStreaming(true);
    setDraft([{ id: 'draft-question', type: 'human', content: message }, { id: 'draft-answer', type: 'ai', content: '' }]);
    abort.current = new AbortController();
    let activeSession = sessionId;
    try {
      await streamEvents(
        '/chat/execute/stream',
        { ...(sessionId ? { session_id: sessionId } : { notebook_id: notebookId }), message, context_config: contextConfig },
        (event) => {
          if (event.type === 'token') {
            setDraft((current) => current.map((item) => (item.id === 'draft-answer' ? { ...item, content: item.content + String(event.content ?? '') } : item)));
          } else if (event.type === 'ai_message') {
            setDraft((current) =>
              current.map((item) =>
                item.id === 'draft-answer'
                  ? { id: 'draft-answer', type: 'ai', content: String(event.content ?? ''), citations: (event.citations as Citation[]) ?? [] }
                  : item,
              ),
            );
          } else if (event.type === 'user_message' && typeof event.session_id === 'string') {
            activeSession = event.session_id;
          } else if (event.type === 'error') {
            setStreamError(String(event.message ?? 'error'));
          }
        },
        abort.current.signal,
      );
      if (activeSession && activeSession !== sessionId) setSessionId(activeSession);
      await queryClient.invalidateQueries({ queryKey: ['chat-session', activeSession] });
      void queryClient.invalidateQueries({ queryKey: ['chat-sessions', notebookId] });
      setDraft([]);
    } catch (error) {
      if (!(error instanceof DOMException && error.name === 'AbortError')) setStreamError(error);
    } finally {
      setStreaming(false);
    }
  };

  const messages = [...(session.data?.messages ?? []), ...draft];
  return (
    <div className="flex flex-col gap-2">
      <div className="flex gap-1">
        <select
          aria-label={t('chat.session')}
          className={inputClass}
          value={sessionId ?? ''}
          onChange={(event) => {
            setSessionId(event.target.value || null);
            setDraft([]);
          }}
        >
          {(sessions.data ?? []).length === 0 && <option value="">{t('chat.noSessions')}</option>}
          {(sessions.data ?? []).map((item) => (
            <option key={item.id} value={item.id}>{item.title}</option>
          ))}
        </select>
        <Button onClick={() => create.mutate()} disabled={create.isPending}>{t('chat.newSession')}</Button>
      </div>
      <button type="button" className="text-left text-xs text-slate-500 hover:underline" onClick={() => setShowContext((shown) => !shown)}>
        {context.data
          ? t('chat.tokens', { tokens: context.data.token_count.toLocaleString(), limit: windowTokens > 0 ? windowTokens.toLocaleString() : '?' })
          : t('chat.context')}
      </button>
      {windowTokens > 0 && context.data && context.data.token_count > windowTokens && <ErrorText error={t('chat.overLimit')} />}
      {showContext && (
        <ContextPanel
          notebookId={notebookId}
          sourceModes={sourceModes}
          noteModes={noteModes}
          onSource={(id, mode) => setSourceModes((current) => ({ ...current, [id]: mode }))}
          onNote={(id, mode) => setNoteModes((current) => ({ ...current, [id]: mode }))}
        />
      )}
      <div className="flex max-h-[60vh] flex-col gap-2 overflow-y-auto">
        {messages.map((message) => (
          <MessageView key={message.id} message={message} sessionId={sessionId ?? ''} notebookId={notebookId} />
        ))}
        {messages.length === 0 && <p className="text-sm text-slate-500">{t('chat.empty')}</p>}
      </div>
      <ErrorText error={streamError ?? sessions.error ?? create.error} />
      <textarea
        aria-label={t('chat.message')}
        placeholder={t('chat.placeholder')}
        rows={3}
        className={inputClass}
        value={text}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={(event) => {
          if ((event.ctrlKey || event.metaKey) && event.key === 'Enter') {
            event.preventDefault();
            void send();
          }
        }}
      />
      <div className="flex justify-end gap-2">
        {streaming && <Button onClick={() => abort.current?.abort()}>{t('chat.stop')}</Button>}
        <Button variant="primary" disabled={!text.trim() || streaming} onClick={() => void send()}>
          {t('chat.send')}
        </Button>
      </div>
    </div>
  );
}
