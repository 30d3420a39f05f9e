import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import type { Note, Notebook, Source } from '../api/types';
import { AddSourceDialog } from '../components/AddSourceDialog';
import { ChatColumn } from '../components/chat/ChatColumn';
import { DeleteNotebookDialog } from '../components/DeleteNotebookDialog';
import { NoteEditor } from '../components/NoteEditor';
import { isProcessing, SourceProgress, SourceStatusBadge } from '../components/SourceStatus';
import { Button, ErrorText, inputClass, Spinner } from '../components/ui';
import { Link, navigate, useLocation } from '../router';

// One page of the source list. A notebook with 500 sources costs ten of these, loaded only when
// the reader asks for more, never one request per source.
export const SOURCE_PAGE_SIZE = 50;
// One page of the notes column, for the same reason.
export const NOTE_PAGE_SIZE = 50;
// While any loaded source is being processed, the loaded pages are fetched again this often.
const PROCESSING_POLL_MS = 2000;

function sourceTitle(source: Source, fallback: string): string {
  return source.title ?? source.original_filename ?? source.asset?.url ?? fallback;
}

export function SourcesColumn({ notebookId }: { notebookId: string }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [adding, setAdding] = useState(false);
  const sources = useInfiniteQuery({
    queryKey: ['sources', notebookId],
    queryFn: ({ pageParam }) =>
      api<Source[]>(
        `/sources?notebook_id=${encodeURIComponent(notebookId)}&limit=${SOURCE_PAGE_SIZE}&offset=${pageParam}&sort_by=created&sort_order=desc`,
      ),
    initialPageParam: 0,
    getNextPageParam: (last, pages) => (last.length < SOURCE_PAGE_SIZE ? undefined : pages.length * SOURCE_PAGE_SIZE),
    refetchInterval: (query) =>
      query.state.data?.pages.some((page) => page.some(isProcessing)) ? PROCESSING_POLL_MS : false,
  });
  const retry = useMutation({
    mutationFn: (id: string) => api<Source>(`/sources/${encodeURIComponent(id)}/retry`, { method: 'POST' }),
    onSettled: () => void queryClient.invalidateQueries({ queryKey: ['sources', notebookId] }),
  });
  const all = sources.data?.pages.flat() ?? [];
  return (
    <section aria-label={t('notebook.sources')} className="flex min-w-0 flex-col gap-2">
      <div className="flex items-center justify-between">
        <h2 className="font-semibold">{t('notebook.sources')}</h2>
        <Button variant="primary" onClick={() => setAdding(true)}>{t('sources.add')}</Button>
      </div>
      {sources.isPending && <Spinner />}
      <ErrorText error={sources.error} />
      {sources.data && all.length === 0 && <p className="text-sm text-slate-500">{t('sources.none')}</p>}
      <ul className="space-y-2">
        {all.map((source) => (
          <li key={source.id} data-testid="source-card" className="rounded-md border border-slate-200 p-2 dark:border-slate-700">
            <div className="flex items-start justify-between gap-2">
              <Link href={`/sources/${encodeURIComponent(source.id)}`} className="min-w-0 text-sm font-medium break-words hover:underline">
                {sourceTitle(source, t('sources.untitled'))}
              </Link>
              <SourceStatusBadge source={source} />
            </div>
            <SourceProgress source={source} />
            {source.status === 'failed' && (
              <Button className="mt-1" onClick={() => retry.mutate(source.id)} disabled={retry.isPending}>
                {t('common.retry')}
              </Button>
            )}
          </li>
        ))}
      </ul>
      <ErrorText error={retry.error} />
      {sources.hasNextPage && (
        <Button onClick={() => void sources.fetchNextPage()} disabled={sources.isFetchingNextPage}>
          {t('common.loadMore')}
        </Button>
      )}
      {adding && <AddSourceDialog notebookId={notebookId} onClose={() => setAdding(false)} />}
    </section>
  );
}

export function NotesColumn({ notebookId }: { notebookId: string }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const { query } = useLocation();
  // A citation of a note opens it here (?note=<id>).
  const [editing, setEditing] = useState<string | null | undefined>(query.get('note') ?? undefined);
  const notes = useInfiniteQuery({
    queryKey: ['notes', notebookId],
    queryFn: ({ pageParam }) =>
      api<Note[]>(`/notes?notebook_id=${encodeURIComponent(notebookId)}&limit=${NOTE_PAGE_SIZE}&offset=${pageParam}`),
    initialPageParam: 0,
    getNextPageParam: (last, pages) => (last.length < NOTE_PAGE_SIZE ? undefined : pages.length * NOTE_PAGE_SIZE),
  });
  const loaded = notes.data?.pages.flat() ?? [];
  const remove = useMutation({
    mutationFn: (id: string) => api(`/notes/${encodeURIComponent(id)}`, { method: 'DELETE' }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['notes', notebookId] });
      void queryClient.invalidateQueries({ queryKey: ['notebooks'] });
    },
  });
  return (
    <section aria-label={t('notebook.notes')} className="flex min-w-0 flex-col gap-2">
      <div className="flex items-center justify-between">
        <h2 className="font-semibold">{t('notebook.notes')}</h2>
        <Button variant="primary" onClick={() => setEditing(null)}>{t('notes.new')}</Button>
      </div>
      {notes.isPending && <Spinner />}
      <ErrorText error={notes.error ?? remove.error} />
      {notes.data && loaded.length === 0 && <p className="text-sm text-slate-500">{t('notes.none')}</p>}
      <ul className="space-y-2">
        {loaded.map((note) => (
          <li key={note.id} data-testid="note-card" className="rounded-md border border-slate-200 p-2 dark:border-slate-700">
            <div className="flex items-center justify-between gap-2">
              <button type="button" className="min-w-0 text-left text-sm font-medium break-words hover:underline" onClick={() => setEditing(note.id)}>
                {note.title || t('notes.untitled')}
              </button>
              <span className="text-xs text-slate-500">{note.note_type === 'ai' ? t('notes.ai') : t('notes.human')}</span>
            </div>
            <Button variant="ghost" className="mt-1 text-red-600" onClick={() => remove.mutate(note.id)}>
              {t('common.delete')}
            </Button>
          </li>
        ))}
      </ul>
      {notes.hasNextPage && (
        <Button onClick={() => void notes.fetchNextPage()} disabled={notes.isFetchingNextPage}>
          {t('common.loadMore')}
        </Button>
      )}
      {editing !== undefined && <NoteEditor notebookId={notebookId} noteId={editing} onClose={() => setEditing(undefined)} />}
    </section>
  );
}

function ChatSection({ notebookId }: { notebookId: string }) {
  const { t } = useTranslation();
  return (
    <section aria-label={t('notebook.chat')} className="flex min-w-0 flex-col gap-2">
      <h2 className="font-semibold">{t('notebook.chat')}</h2>
      <ChatColumn notebookId={notebookId} />
    </section>
  );
}

type Tab = 'sources' | 'notes' | 'chat';

export function NotebookPage({ id }: { id: string }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [tab, setTab] = useState<Tab>('sources');
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState('');
  const [deleting, setDeleting] = useState(false);
  const notebook = useQuery({ queryKey: ['notebook', id], queryFn: () => api<Notebook>(`/notebooks/${encodeURIComponent(id)}`) });
  const rename = useMutation({
    mutationFn: (body: Partial<Notebook>) => api<Notebook>(`/notebooks/${encodeURIComponent(id)}`, { method: 'PUT', json: body }),
    onSuccess: (updated) => {
      queryClient.setQueryData(['notebook', id], updated);
      void queryClient.invalidateQueries({ queryKey: ['notebooks'] });
      setEditing(false);
    },
  });
  if (notebook.isPending) return <Spinner />;
  if (notebook.isError) return <ErrorText error={notebook.error} />;

  const columns: { key: Tab; label: string; node: React.ReactNode }[] = [
    { key: 'sources', label: t('notebook.sources'), node: <SourcesColumn notebookId={id} /> },
    { key: 'notes', label: t('notebook.notes'), node: <NotesColumn notebookId={id} /> },
    { key: 'chat', label: t('notebook.chat'), node: <ChatSection notebookId={id} /> },
  ];
  return (
    <div>
      <div className="mb-4 flex flex-wrap items-center gap-2">
        {editing ? (
          <form
            className="flex gap-2"
            onSubmit={(event) => {
              event.preventDefault();
              if (name.trim()) rename.mutate({ name: name.trim() });
            }}
          >
            <input autoFocus aria-label={t('notebooks.name')} className={inputClass} value={name} onChange={(event) => setName(event.target.value)} onKeyDown={(event) => event.key === 'Escape' && setEditing(false)} />
            <Button type="submit" variant="primary">{t('common.save')}</Button>
          </form>
        ) : (
          <h1 className="text-2xl font-semibold">{notebook.data.name}</h1>
        )}
        {notebook.data.archived && <span className="rounded bg-slate-200 px-2 text-xs dark:bg-slate-800">{t('notebooks.archivedBadge')}</span>}
        <div className="ml-auto flex gap-1">
          <Button variant="ghost" onClick={() => { setName(notebook.data.name); setEditing(true); }}>{t('common.rename')}</Button>
          <Button variant="ghost" onClick={() => rename.mutate({ archived: !notebook.data.archived })}>
            {notebook.data.archived ? t('notebooks.unarchive') : t('notebooks.archive')}
          </Button>
          <Button variant="ghost" className="text-red-600" onClick={() => setDeleting(true)}>{t('common.delete')}</Button>
        </div>
      </div>
      {notebook.data.description && <p className="mb-4 text-sm text-slate-500">{notebook.data.description}</p>}
      <ErrorText error={rename.error} />
      <div role="tablist" aria-label={t('notebook.columns')} className="mb-3 flex gap-1 lg:hidden">
        {columns.map((column) => (
          <Button key={column.key} role="tab" aria-selected={tab === column.key} variant={tab === column.key ? 'primary' : 'secondary'} onClick={() => setTab(column.key)}>
            {column.label}
          </Button>
        ))}
      </div>
      <div className="grid gap-4 lg:grid-cols-3">
        {columns.map((column) => (
          <div key={column.key} className={tab === column.key ? '' : 'hidden lg:block'}>
            {column.node}
          </div>
        ))}
      </div>
      {deleting && <DeleteNotebookDialog notebook={notebook.data} onClose={() => setDeleting(false)} onDeleted={() => navigate('/notebooks')} />}
    </div>
  );
}
