import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import type { Notebook, Source, Transformation } from '../api/types';
import { Button, Dialog, ErrorText, inputClass } from './ui';

type Kind = 'link' | 'upload' | 'text';

// Adds sources from a link, several files (one request each, so one bad file does not stop the
// others) or pasted text, to one or more notebooks. Processing runs in the background; the cards
// show its progress.
export function AddSourceDialog({ notebookId, onClose }: { notebookId: string; onClose: () => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [kind, setKind] = useState<Kind>('upload');
  const [url, setUrl] = useState('');
  const [title, setTitle] = useState('');
  const [content, setContent] = useState('');
  const [files, setFiles] = useState<File[]>([]);
  const [embed, setEmbed] = useState(true);
  const [notebooks, setNotebooks] = useState<string[]>([notebookId]);
  const [failures, setFailures] = useState<string[]>([]);
  // The server's default_embedding_option: "never" leaves embedding off; "ask" and "always" tick it.
  const runtime = useQuery({ queryKey: ['runtime-settings'], queryFn: () => api<{ default_embedding_option?: string }>('/settings'), retry: false });
  const embedDefault = runtime.data?.default_embedding_option;
  useEffect(() => {
    if (embedDefault) setEmbed(embedDefault !== 'never');
  }, [embedDefault]);
  // Transformations to run on each new source. Those marked apply_default are ticked at first.
  const transformations = useQuery({ queryKey: ['transformations'], queryFn: () => api<Transformation[]>('/transformations') });
  const [chosenTransformations, setChosenTransformations] = useState<string[] | null>(null);
  const selectedTransformations =
    chosenTransformations ?? (transformations.data ?? []).filter((item) => item.apply_default).map((item) => item.id);
  const toggleTransformation = (id: string) =>
    setChosenTransformations(
      selectedTransformations.includes(id) ? selectedTransformations.filter((item) => item !== id) : [...selectedTransformations, id],
    );
  const allNotebooks = useQuery({
    queryKey: ['notebooks', { archived: false }],
    queryFn: () => api<Notebook[]>('/notebooks?archived=false&order_by=updated%20desc'),
  });

  const formFor = (file?: File): FormData => {
    const form = new FormData();
    form.set('type', kind);
    form.set('notebooks', JSON.stringify(notebooks));
    form.set('embed', String(embed));
    if (selectedTransformations.length > 0) form.set('transformations', JSON.stringify(selectedTransformations));
    form.set('async_processing', 'true');
    if (title.trim() && kind !== 'upload') form.set('title', title.trim());
    if (kind === 'link') form.set('url', url.trim());
    if (kind === 'text') form.set('content', content);
    if (file) form.set('file', file, file.name);
    return form;
  };

  const add = useMutation({
    mutationFn: async () => {
      const errors: string[] = [];
      const forms = kind === 'upload' ? files.map((file) => ({ name: file.name, form: formFor(file) })) : [{ name: '', form: formFor() }];
      for (const { name, form } of forms) {
        try {
          await api<Source>('/sources', { method: 'POST', form });
        } catch (error) {
          errors.push(name ? `${name}: ${(error as Error).message}` : (error as Error).message);
        }
      }
      return errors;
    },
    onSuccess: (errors) => {
      void queryClient.invalidateQueries({ queryKey: ['sources'] });
      void queryClient.invalidateQueries({ queryKey: ['notebooks'] });
      if (errors.length === 0) onClose();
      setFailures(errors);
    },
  });

  const ready =
    notebooks.length > 0 &&
    ((kind === 'link' && url.trim()) || (kind === 'upload' && files.length > 0) || (kind === 'text' && content.trim()));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (ready) add.mutate();
  };
  const toggleNotebook = (id: string) =>
    setNotebooks((current) => (current.includes(id) ? current.filter((item) => item !== id) : [...current, id]));

  return (
    <Dialog title={t('sources.add')} onClose={onClose}>
      <form onSubmit={submit} className="space-y-3">
        <div role="radiogroup" aria-label={t('sources.kind')} className="flex gap-1">
          {(['link', 'upload', 'text'] as const).map((option) => (
            <Button key={option} role="radio" aria-checked={kind === option} variant={kind === option ? 'primary' : 'secondary'} onClick={() => setKind(option)}>
              {t(`sources.kinds.${option}`)}
            </Button>
          ))}
        </div>
        {kind === 'link' && (
          <label className="block text-sm">
            {t('sources.url')}
            <input type="url" className={`${inputClass} mt-1`} value={url} placeholder="https://" onChange={(event) => setUrl(event.target.value)} />
          </label>
        )}
        {kind === 'upload' && (
          <label className="block text-sm">
            {t('sources.files')}
            <input
              type="file"
              multiple
              data-testid="source-files"
              className="mt-1 block w-full text-sm"
              onChange={(event) => setFiles(Array.from(event.target.files ?? []))}
            />
            {files.length > 0 && <span className="text-xs text-slate-500">{t('sources.filesChosen', { count: files.length })}</span>}
          </label>
        )}
        {kind === 'text' && (
          <label className="block text-sm">
            {t('sources.content')}
            <textarea rows={6} className={`${inputClass} mt-1`} value={content} onChange={(event) => setContent(event.target.value)} />
          </label>
        )}
        {kind !== 'upload' && (
          <label className="block text-sm">
            {t('sources.titleOptional')}
            <input className={`${inputClass} mt-1`} value={title} onChange={(event) => setTitle(event.target.value)} />
          </label>
        )}
        <fieldset className="text-sm">
          <legend className="mb-1">{t('sources.notebooks')}</legend>
          <div className="max-h-32 space-y-1 overflow-y-auto">
            {(allNotebooks.data ?? []).map((notebook) => (
              <label key={notebook.id} className="flex items-center gap-2">
                <input type="checkbox" checked={notebooks.includes(notebook.id)} onChange={() => toggleNotebook(notebook.id)} />
                {notebook.name}
              </label>
            ))}
          </div>
        </fieldset>
        {(transformations.data ?? []).length > 0 && (
          <fieldset className="text-sm">
            <legend className="mb-1">{t('sources.transformations')}</legend>
            <div className="max-h-32 space-y-1 overflow-y-auto">
              {(transformations.data ?? []).map((item) => (
                <label key={item.id} className="flex items-center gap-2">
                  <input type="checkbox" checked={selectedTransformations.includes(item.id)} onChange={() => toggleTransformation(item.id)} />
                  {item.title || item.name}
                </label>
              ))}
            </div>
          </fieldset>
        )}
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" checked={embed} onChange={(event) => setEmbed(event.target.checked)} />
          {t('sources.embed')}
        </label>
        <ErrorText error={add.error} />
        {failures.map((failure) => (
          <ErrorText key={failure} error={failure} />
        ))}
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button type="submit" variant="primary" disabled={!ready || add.isPending}>
            {add.isPending ? t('sources.adding') : t('sources.addButton')}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
