import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError, streamEvents } from '../../api/client';
import type { ChatContext, ChatMessage, ChatSession, ChatSessionWithMessages, Citation } from '../../api/types';
import { Markdown } from '../Markdown';
import { Button, ErrorText, inputClass, Spinner } from '../ui';
import { ContextPanel, contextConfigFor, loadOverrides, saveOverrides, TokenCount, useChatWindow, useNotebookContentVersion, type ContextOverrides } from './ChatContext';
import { CitationList, numberCitations } from './Citations';

// A server without the chat routes returns 404 "no route". The column then shows that chat is
// not available instead of an error.
function isMissingRoute(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404 && error.message.startsWith('Not Found: no route');
}

// Ids of the two messages shown while an answer streams, replaced by the stored ones after it.
const DRAFT_QUESTION = 'draft-question';
const DRAFT_ANSWER = 'draft-answer';

function MessageView({ message, sessionId, notebookId }: { message: ChatMessage; sessionId: string; notebookId: string }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const save = useMutation({
    mutationFn: () =>
      api(`/chat/sessions/${encodeURIComponent(sessionId)}/messages/${encodeURIComponent(message.id)}/save-as-note`, {
        method: 'POST',
        json: { notebook_id: notebookId },
      }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['notes', notebookId] });
      void queryClient.invalidateQueries({ queryKey: ['notebooks'] });
    },
  });
  if (message.type === 'human') {
    return <div className="ml-8 rounded-md bg-indigo-50 p-2 text-sm whitespace-pre-wrap dark:bg-indigo-950">{message.content}</div>;
  }
  const draft = message.id === DRAFT_ANSWER;
  return (
    <div data-testid="chat-answer" data-streaming={draft ? 'true' : undefined} className="mr-4 rounded-md border border-slate-200 p-2 dark:border-slate-700">
      {draft && message.content === '' ? <Spinner /> : <Markdown text={numberCitations(message.content, message.citations ?? [])} />}
      <CitationList citations={message.citations ?? []} notebookId={notebookId} />
      {!draft && (
        <Button variant="ghost" className="mt-1 text-xs" onClick={() => save.mutate()} disabled={save.isPending || save.isSuccess}>
          {save.isSuccess ? t('chat.saved') : t('chat.saveAsNote')}
        </Button>
      )}
      <ErrorText error={save.error} />
    </div>
  );
}

// Choose, start, rename and delete the notebook's chat sessions.
function SessionBar({
  notebookId,
  sessions,
  sessionId,
  onSelect,
}: {
  notebookId: string;
  sessions: ChatSession[];
  sessionId: string | null;
  onSelect: (id: string | null) => void;
}) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [renaming, setRenaming] = useState(false);
  const [title, setTitle] = useState('');
  const current = sessions.find((item) => item.id === sessionId) ?? null;
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['chat-sessions', notebookId] });
  const create = useMutation({
    mutationFn: () => api<ChatSession>('/chat/sessions', { method: 'POST', json: { notebook_id: notebookId } }),
    onSuccess: (created) => {
      refresh();
      onSelect(created.id);
    },
  });
  const rename = useMutation({
    mutationFn: (newTitle: string) => api<ChatSession>(`/chat/sessions/${encodeURIComponent(sessionId!)}`, { method: 'PUT', json: { title: newTitle } }),
    onSuccess: () => {
      refresh();
      setRenaming(false);
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => api(`/chat/sessions/${encodeURIComponent(id)}`, { method: 'DELETE' }),
    onSuccess: (_, id) => {
      queryClient.removeQueries({ queryKey: ['chat-session', id] });
      refresh();
      onSelect(sessions.find((item) => item.id !== id)?.id ?? null);
    },
  });

  if (renaming && current) {
    return (
      <form
        className="flex gap-1"
        onSubmit={(event) => {
          event.preventDefault();
          if (title.trim()) rename.mutate(title.trim());
        }}
      >
        <input
          autoFocus
          aria-label={t('chat.sessionTitle')}
          className={inputClass}
          value={title}
          onChange={(event) => setTitle(event.target.value)}
          onKeyDown={(event) => event.key === 'Escape' && setRenaming(false)}
        />
        <Button type="submit" variant="primary" disabled={!title.trim() || rename.isPending}>{t('common.save')}</Button>
        <Button onClick={() => setRenaming(false)}>{t('common.cancel')}</Button>
        <ErrorText error={rename.error} />
      </form>
    );
  }
  return (
    <div className="space-y-1">
      <div className="flex gap-1">
        <select aria-label={t('chat.session')} className={inputClass} value={sessionId ?? ''} onChange={(event) => onSelect(event.target.value || null)}>
          {sessions.length === 0 && <option value="">{t('chat.noSessions')}</option>}
          {sessions.map((item) => (
            <option key={item.id} value={item.id}>{item.title}</option>
          ))}
        </select>
        <Button onClick={() => create.mutate()} disabled={create.isPending}>{t('chat.newSession')}</Button>
      </div>
      {current && (
        <div className="flex gap-1">
          <Button variant="ghost" className="text-xs" onClick={() => { setTitle(current.title); setRenaming(true); }}>
            {t('chat.renameSession')}
          </Button>
          <Button
            variant="ghost"
            className="text-xs text-red-600"
            disabled={remove.isPending}
            onClick={() => window.confirm(t('chat.confirmDeleteSession', { title: current.title })) && remove.mutate(current.id)}
          >
            {t('chat.deleteSession')}
          </Button>
        </div>
      )}
      <ErrorText error={create.error ?? remove.error} />
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
  const [overrides, setOverrides] = useState<ContextOverrides>(() => loadOverrides(notebookId));
  const abort = useRef<AbortController | null>(null);
  const messageList = useRef<HTMLDivElement>(null);
  useEffect(() => () => abort.current?.abort(), []);
  useEffect(() => saveOverrides(notebookId, overrides), [notebookId, overrides]);

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
    queryFn: () => api<ChatSessionWithMessages>(`/chat/sessions/${encodeURIComponent(sessionId!)}`),
    enabled: sessionId !== null,
  });
  // The notebook's default context lists every source and note; the one with the reader's
  // choices gives the token count that will be sent.
  const contentVersion = useNotebookContentVersion(notebookId);
  const baseline = useQuery({
    queryKey: ['chat-context', notebookId, null, contentVersion],
    queryFn: () => api<ChatContext>('/chat/context', { method: 'POST', json: { notebook_id: notebookId } }),
    enabled: sessions.isSuccess,
    placeholderData: (previous) => previous,
  });
  const contextConfig = contextConfigFor(baseline.data, overrides);
  const chosen = useQuery({
    queryKey: ['chat-context', notebookId, contextConfig, contentVersion],
    queryFn: () => api<ChatContext>('/chat/context', { method: 'POST', json: { notebook_id: notebookId, context_config: contextConfig } }),
    enabled: contextConfig !== undefined,
    placeholderData: (previous) => previous,
  });
  const tokens = (contextConfig ? chosen.data : baseline.data)?.token_count ?? null;
  const current = sessions.data?.find((item) => item.id === sessionId);
  const windowTokens = useChatWindow(current?.model_override);
  // The server would reject the prompt, so Send stays disabled until the context fits.
  const overWindow = tokens !== null && windowTokens !== null && tokens > windowTokens;
  const messageCount = (session.data?.messages.length ?? 0) + draft.length;
  const lastDraftLength = draft.at(-1)?.content.length ?? 0;
  // New and growing messages keep the list scrolled to its end; the page itself does not move.
  useEffect(() => {
    const list = messageList.current;
    if (list) list.scrollTop = list.scrollHeight;
  }, [messageCount, lastDraftLength]);

  if (sessions.isPending) return <Spinner />;
  if (sessions.isError && isMissingRoute(sessions.error)) {
    return <p className="rounded-md border border-dashed border-slate-300 p-4 text-sm text-slate-500 dark:border-slate-700">{t('chat.unavailable')}</p>;
  }

  const updateDraftAnswer = (update: (answer: ChatMessage) => ChatMessage) =>
    setDraft((items) => items.map((item) => (item.id === DRAFT_ANSWER ? update(item) : item)));

  const send = async () => {
    const message = text.trim();
    if (!message || streaming || overWindow) return;
    setText('');
    setStreamError(null);
    setStreaming(true);
    setDraft([
      { id: DRAFT_QUESTION, type: 'human', content: message },
      { id: DRAFT_ANSWER, type: 'ai', content: '' },
    ]);

    let activeSession = sessionId;
    const onEvent = (event: Record<string, unknown>) => {
      if (event.type === 'token') {
        updateDraftAnswer((answer) => ({ ...answer, content: answer.content + String(event.content ?? '') }));
      } else if (event.type === 'ai_message') {
        // The stored answer replaces the streamed text: reasoning removed, citations checked.
        updateDraftAnswer((answer) => ({ ...answer, content: String(event.content ?? ''), citations: (event.citations as Citation[] | undefined) ?? [] }));
      } else if (event.type === 'user_message' && typeof event.session_id === 'string') {
        activeSession = event.session_id;
      } else if (event.type === 'error') {
        setStreamError(String(event.message ?? t('chat.failed')));
      }
    };

    abort.current = new AbortController();
    const body = {
      ...(sessionId ? { session_id: sessionId } : { notebook_id: notebookId }),
      message,
      ...(contextConfig ? { context_config: contextConfig } : {}),
    };
    try {
      await streamEvents('/chat/execute/stream', body, onEvent, abort.current.signal);
    } catch (error) {
      if (!(error instanceof DOMException && error.name === 'AbortError')) setStreamError(error);
    }

    if (activeSession) {
      if (activeSession !== sessionId) setSessionId(activeSession);
      await queryClient.invalidateQueries({ queryKey: ['chat-session', activeSession] });
    }
    void queryClient.invalidateQueries({ queryKey: ['chat-sessions', notebookId] });
    setDraft([]);
    setStreaming(false);
  };

  const messages = [...(session.data?.messages ?? []), ...draft];
  return (
    <div className="flex flex-col gap-2">
      <SessionBar
        notebookId={notebookId}
        sessions={sessions.data ?? []}
        sessionId={sessionId}
        onSelect={(id) => {
          setSessionId(id);
          setDraft([]);
        }}
      />
      <div className="text-xs text-slate-500">
        <button
          type="button"
          aria-expanded={showContext}
          className="text-left hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
          onClick={() => setShowContext((shown) => !shown)}
        >
          {showContext ? t('chat.hideContext') : t('chat.chooseContext')}
        </button>{' '}
        <TokenCount tokens={tokens} window={windowTokens} />
      </div>
      <ErrorText error={baseline.error ?? chosen.error} />
      {showContext && baseline.data && <ContextPanel baseline={baseline.data} overrides={overrides} onChange={setOverrides} />}
      <div ref={messageList} className="flex max-h-[60vh] flex-col gap-2 overflow-y-auto" aria-live="polite">
        {messages.map((message) => (
          <MessageView key={message.id} message={message} sessionId={sessionId ?? ''} notebookId={notebookId} />
        ))}
        {messages.length === 0 && <p className="text-sm text-slate-500">{t('chat.empty')}</p>}
      </div>
      <ErrorText error={streamError ?? (sessions.isError ? sessions.error : null) ?? session.error} />
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
        <Button variant="primary" disabled={!text.trim() || streaming || overWindow} onClick={() => void send()}>
          {t('chat.send')}
        </Button>
      </div>
    </div>
  );
}
