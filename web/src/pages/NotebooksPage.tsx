import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import type { Notebook } from '../api/types';
import { DeleteNotebookDialog } from '../components/DeleteNotebookDialog';
import { Button, Card, Dialog, ErrorText, inputClass, Spinner } from '../components/ui';
import { Link, navigate, useLocation } from '../router';

function useNotebooks(archived: boolean) {
  return useQuery({
    queryKey: ['notebooks', { archived }],
    queryFn: () => api<Notebook[]>(`/notebooks?archived=${archived}&order_by=updated%20desc`),
  });
}

function NotebookCard({ notebook }: { notebook: Notebook }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState(notebook.name);
  const [deleting, setDeleting] = useState(false);
  const update = useMutation({
    mutationFn: (body: Partial<Pick<Notebook, 'name' | 'archived'>>) =>
      api<Notebook>(`/notebooks/${encodeURIComponent(notebook.id)}`, { method: 'PUT', json: body }),
    onSuccess: () => {
      setRenaming(false);
      void queryClient.invalidateQueries({ queryKey: ['notebooks'] });
    },
  });
  return (
    <Card className="flex flex-col gap-2" >
      {renaming ? (
        <form
          className="flex gap-2"
          onSubmit={(event) => {
            event.preventDefault();
            if (name.trim()) update.mutate({ name: name.trim() });
          }}
        >
          <input
            autoFocus
            aria-label={t('notebooks.name')}
            className={inputClass}
            value={name}
            onChange={(event) => setName(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === 'Escape') setRenaming(false);
            }}
          />
          <Button type="submit" variant="primary">{t('common.save')}</Button>
        </form>
      ) : (
        <Link href={`/notebooks/${encodeURIComponent(notebook.id)}`} className="text-base font-semibold hover:underline">
          {notebook.name}
        </Link>
      )}
      {notebook.description && <p className="line-clamp-2 text-sm text-slate-500">{notebook.description}</p>}
      <p className="text-xs text-slate-500">
        {t('notebooks.counts', { sources: notebook.source_count, notes: notebook.note_count })}
      </p>
      <div className="flex flex-wrap gap-1">
        <Button variant="ghost" onClick={() => setRenaming(true)}>{t('common.rename')}</Button>
        <Button variant="ghost" onClick={() => update.mutate({ archived: !notebook.archived })}>
          {notebook.archived ? t('notebooks.unarchive') : t('notebooks.archive')}
        </Button>
        <Button variant="ghost" className="text-red-600" onClick={() => setDeleting(true)}>{t('common.delete')}</Button>
      </div>
      <ErrorText error={update.error} />
      {deleting && <DeleteNotebookDialog notebook={notebook} onClose={() => setDeleting(false)} />}
    </Card>
  );
}

function CreateNotebookDialog({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const create = useMutation({
    mutationFn: () => api<Notebook>('/notebooks', { method: 'POST', json: { name: name.trim(), description } }),
    onSuccess: (notebook) => {
      void queryClient.invalidateQueries({ queryKey: ['notebooks'] });
      onClose();
      navigate(`/notebooks/${encodeURIComponent(notebook.id)}`);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (name.trim()) create.mutate();
  };
  return (
    <Dialog title={t('notebooks.create')} onClose={onClose}>
      <form onSubmit={submit} className="space-y-3">
        <label className="block text-sm">
          {t('notebooks.name')}
          <input className={`${inputClass} mt-1`} value={name} onChange={(event) => setName(event.target.value)} />
        </label>
        <label className="block text-sm">
          {t('notebooks.description')}
          <textarea className={`${inputClass} mt-1`} rows={3} value={description} onChange={(event) => setDescription(event.target.value)} />
        </label>
        <ErrorText error={create.error} />
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button type="submit" variant="primary" disabled={!name.trim() || create.isPending}>{t('common.create')}</Button>
        </div>
      </form>
    </Dialog>
  );
}

function Section({ title, archived }: { title: string; archived: boolean }) {
  const { t } = useTranslation();
  const notebooks = useNotebooks(archived);
  return (
    <section className="mb-8" aria-label={title}>
      <h2 className="mb-3 text-lg font-semibold">{title}</h2>
      {notebooks.isPending && <Spinner />}
      <ErrorText error={notebooks.error} />
      {notebooks.data?.length === 0 && (
        <p className="text-sm text-slate-500">{archived ? t('notebooks.noneArchived') : t('notebooks.none')}</p>
      )}
      <div className="grid gap-3 sm:grid-cols-2 xl:grid-cols-3">
        {notebooks.data?.map((notebook) => <NotebookCard key={notebook.id} notebook={notebook} />)}
      </div>
    </section>
  );
}

export function NotebooksPage() {
  const { t } = useTranslation();
  const { query } = useLocation();
  const [creating, setCreating] = useState(query.get('create') === '1');
  useEffect(() => {
    if (query.get('create') === '1') setCreating(true);
  }, [query]);
  return (
    <div>
      <div className="mb-6 flex items-center justify-between">
        <h1 className="text-2xl font-semibold">{t('nav.notebooks')}</h1>
        <Button variant="primary" onClick={() => setCreating(true)}>{t('notebooks.create')}</Button>
      </div>
      <Section title={t('notebooks.active')} archived={false} />
      <Section title={t('notebooks.archived')} archived={true} />
      {creating && (
        <CreateNotebookDialog
          onClose={() => {
            setCreating(false);
            if (query.get('create')) navigate('/notebooks', true);
          }}
        />
      )}
    </div>
  );
}
