import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import type { DeletePreview, Notebook } from '../api/types';
import { Button, Dialog, ErrorText, Spinner } from './ui';

// Shows what deleting a notebook removes before it does: its notes always, its sources only
// when they belong to no other notebook and the user asks for it.
export function DeleteNotebookDialog({ notebook, onClose, onDeleted }: { notebook: Notebook; onClose: () => void; onDeleted?: () => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [withSources, setWithSources] = useState(false);
  const path = `/notebooks/${encodeURIComponent(notebook.id)}`;
  const preview = useQuery({ queryKey: ['delete-preview', notebook.id], queryFn: () => api<DeletePreview>(`${path}/delete-preview`) });
  const remove = useMutation({
    mutationFn: () => api(`${path}?delete_exclusive_sources=${withSources}`, { method: 'DELETE' }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['notebooks'] });
      onClose();
      onDeleted?.();
    },
  });
  return (
    <Dialog title={t('notebooks.deleteTitle', { name: notebook.name })} onClose={onClose}>
      {preview.isPending && <Spinner />}
      <ErrorText error={preview.error} />
      {preview.data && (
        <div className="space-y-3 text-sm">
          <p>{t('notebooks.deleteNotes', { count: preview.data.note_count })}</p>
          <p>{t('notebooks.deleteShared', { count: preview.data.shared_source_count })}</p>
          <label className="flex items-center gap-2">
            <input type="checkbox" checked={withSources} onChange={(event) => setWithSources(event.target.checked)} />
            {t('notebooks.deleteExclusive', { count: preview.data.exclusive_source_count })}
          </label>
        </div>
      )}
      <ErrorText error={remove.error} />
      <div className="mt-4 flex justify-end gap-2">
        <Button onClick={onClose}>{t('common.cancel')}</Button>
        <Button variant="danger" disabled={!preview.data || remove.isPending} onClick={() => remove.mutate()}>
          {t('common.delete')}
        </Button>
      </div>
    </Dialog>
  );
}
