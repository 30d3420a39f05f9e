import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import type { Note } from '../api/types';
import { Markdown } from './Markdown';
import { Button, Dialog, ErrorText, inputClass, Spinner } from './ui';

// Writes or edits a note in Markdown, with a preview of the sanitised rendering.
export function NoteEditor({ notebookId, noteId, onClose }: { notebookId: string; noteId: string | null; onClose: () => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [title, setTitle] = useState('');
  const [content, setContent] = useState('');
  const [preview, setPreview] = useState(false);
  // The notebook's note list leaves content out, so an existing note is loaded whole here.
  const existing = useQuery({
    queryKey: ['note', noteId],
    queryFn: () => api<Note>(`/notes/${encodeURIComponent(noteId!)}`),
    enabled: noteId !== null,
  });
  useEffect(() => {
    if (existing.data) {
      setTitle(existing.data.title ?? '');
      setContent(existing.data.content ?? '');
    }
  }, [existing.data]);

  const save = useMutation({
    mutationFn: () =>
      noteId
        ? api<Note>(`/notes/${encodeURIComponent(noteId)}`, { method: 'PUT', json: { title, content } })
        : api<Note>('/notes', { method: 'POST', json: { title, content, note_type: 'human', notebook_id: notebookId } }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['notes', notebookId] });
      void queryClient.invalidateQueries({ queryKey: ['note', noteId] });
      void queryClient.invalidateQueries({ queryKey: ['notebooks'] });
      onClose();
    },
  });

  return (
    <Dialog title={noteId ? t('notes.edit') : t('notes.new')} onClose={onClose} wide>
      {noteId && existing.isPending ? (
        <Spinner />
      ) : (
        <form
          className="space-y-3"
          onSubmit={(event) => {
            event.preventDefault();
            if (content.trim()) save.mutate();
          }}
          onKeyDown={(event) => {
            if ((event.ctrlKey || event.metaKey) && event.key === 'Enter' && content.trim()) save.mutate();
          }}
        >
          <label className="block text-sm">
            {t('notes.title')}
            <input className={`${inputClass} mt-1`} value={title} onChange={(event) => setTitle(event.target.value)} />
          </label>
          <div className="flex gap-1">
            <Button variant={preview ? 'secondary' : 'primary'} onClick={() => setPreview(false)}>{t('notes.write')}</Button>
            <Button variant={preview ? 'primary' : 'secondary'} onClick={() => setPreview(true)}>{t('notes.preview')}</Button>
          </div>
          {preview ? (
            <div className="min-h-48 rounded-md border border-slate-200 p-3 dark:border-slate-700">
              <Markdown text={content} />
            </div>
          ) : (
            <textarea
              aria-label={t('notes.content')}
              rows={12}
              className={`${inputClass} font-mono`}
              value={content}
              placeholder={t('notes.placeholder')}
              onChange={(event) => setContent(event.target.value)}
            />
          )}
          <ErrorText error={save.error ?? existing.error} />
          <div className="flex justify-end gap-2">
            <Button onClick={onClose}>{t('common.cancel')}</Button>
            <Button type="submit" variant="primary" disabled={!content.trim() || save.isPending}>{t('common.save')}</Button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
