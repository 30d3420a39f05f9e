import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import type { Model, Source, Transformation } from '../api/types';
import { Markdown } from '../components/Markdown';
import { Button, Card, Dialog, ErrorText, inputClass, Spinner } from '../components/ui';

// How many recent sources the playground offers to pick from.
const PLAYGROUND_SOURCE_LIMIT = 100;

type Draft = Pick<Transformation, 'name' | 'title' | 'description' | 'prompt' | 'apply_default'> & { model_id: string };

const EMPTY: Draft = { name: '', title: '', description: '', prompt: '', apply_default: false, model_id: '' };

function useLanguageModels() {
  const models = useQuery({ queryKey: ['models'], queryFn: () => api<Model[]>('/models') });
  return (models.data ?? []).filter((model) => model.type === 'language');
}

// Creates a transformation (`existing` null) or edits one.
function TransformationEditor({ existing, onClose }: { existing: Transformation | null; onClose: () => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const models = useLanguageModels();
  const [draft, setDraft] = useState<Draft>(() =>
    existing
      ? {
          name: existing.name,
          title: existing.title,
          description: existing.description ?? '',
          prompt: existing.prompt,
          apply_default: existing.apply_default ?? false,
          model_id: existing.model_id ?? '',
        }
      : EMPTY,
  );
  const save = useMutation({
    mutationFn: () => {
      // An empty model choice means the default transformation model. On an edit, null clears a
      // model chosen before.
      const body = { ...draft, model_id: draft.model_id || (existing ? null : undefined) };
      return existing
        ? api<Transformation>(`/transformations/${encodeURIComponent(existing.id)}`, { method: 'PUT', json: body })
        : api<Transformation>('/transformations', { method: 'POST', json: body });
    },
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['transformations'] });
      onClose();
    },
  });
  const set = (field: keyof Draft) => (event: { target: { value: string } }) => setDraft((current) => ({ ...current, [field]: event.target.value }));
  const valid = draft.name.trim() && draft.title.trim() && draft.prompt.trim();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (valid) save.mutate();
  };
  return (
    <Dialog title={existing ? t('transformations.edit') : t('transformations.create')} onClose={onClose} wide>
      <form className="space-y-3" onSubmit={submit}>
        <div className="grid gap-3 sm:grid-cols-2">
          <label className="block text-sm">
            {t('transformations.name')}
            <input className={inputClass} value={draft.name} onChange={set('name')} required />
          </label>
          <label className="block text-sm">
            {t('transformations.titleField')}
            <input className={inputClass} value={draft.title} onChange={set('title')} required />
          </label>
        </div>
        <label className="block text-sm">
          {t('transformations.description')}
          <input className={inputClass} value={draft.description} onChange={set('description')} />
        </label>
        <label className="block text-sm">
          {t('transformations.prompt')}
          <textarea className={`${inputClass} font-mono`} rows={8} value={draft.prompt} onChange={set('prompt')} required />
        </label>
        <label className="block text-sm">
          {t('transformations.model')}
          <select className={inputClass} value={draft.model_id} onChange={set('model_id')}>
            <option value="">{t('transformations.defaultModel')}</option>
            {models.map((model) => (
              <option key={model.id} value={model.id}>{model.name} ({model.provider})</option>
            ))}
          </select>
        </label>
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" checked={draft.apply_default} onChange={(event) => setDraft((current) => ({ ...current, apply_default: event.target.checked }))} />
          {t('transformations.applyDefault')}
        </label>
        <ErrorText error={save.error} />
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button type="submit" variant="primary" disabled={!valid || save.isPending}>{t('common.save')}</Button>
        </div>
      </form>
    </Dialog>
  );
}

// The instructions the server puts in front of every transformation's prompt.
function DefaultPrompt() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const current = useQuery({
    queryKey: ['transformation-default-prompt'],
    queryFn: () => api<{ transformation_instructions: string }>('/transformations/default-prompt'),
  });
  const [text, setText] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (value: string) => api('/transformations/default-prompt', { method: 'PUT', json: { transformation_instructions: value } }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['transformation-default-prompt'] });
      setText(null);
    },
  });
  const value = text ?? current.data?.transformation_instructions ?? '';
  return (
    <Card className="space-y-2">
      <h2 className="font-semibold">{t('transformations.defaultPrompt')}</h2>
      <p className="text-xs text-slate-500">{t('transformations.defaultPromptExplain')}</p>
      <textarea aria-label={t('transformations.defaultPrompt')} className={`${inputClass} font-mono`} rows={4} value={value} onChange={(event) => setText(event.target.value)} />
      <ErrorText error={current.error ?? save.error} />
      <div className="flex items-center justify-end gap-2">
        {save.isSuccess && text === null && <span role="status" className="text-xs text-slate-500">{t('transformations.saved')}</span>}
        <Button variant="primary" disabled={text === null || save.isPending} onClick={() => save.mutate(value)}>{t('common.save')}</Button>
      </div>
    </Card>
  );
}

// Runs a transformation on a source's text or on pasted text and shows the output, without
// storing anything.
function Playground({ transformations }: { transformations: Transformation[] }) {
  const { t } = useTranslation();
  const models = useLanguageModels();
  const [transformationId, setTransformationId] = useState('');
  const [sourceId, setSourceId] = useState('');
  const [input, setInput] = useState('');
  const [modelId, setModelId] = useState('');

  const sources = useQuery({
    queryKey: ['playground-sources'],
    queryFn: () => api<Source[]>(`/sources?limit=${PLAYGROUND_SOURCE_LIMIT}&sort_by=updated&sort_order=desc`),
  });
  const source = useQuery({
    queryKey: ['source', sourceId],
    queryFn: () => api<Source>(`/sources/${encodeURIComponent(sourceId)}`),
    enabled: sourceId !== '',
  });
  useEffect(() => {
    if (source.data) setInput(source.data.full_text ?? '');
  }, [source.data]);

  const run = useMutation({
    mutationFn: () =>
      api<{ output: string; parts?: number }>('/transformations/execute', {
        method: 'POST',
        json: { transformation_id: transformationId, input_text: input, ...(modelId ? { model_id: modelId } : {}) },
      }),
  });
  const ready = transformationId !== '' && input.trim() !== '';
  const selectClass = `${inputClass.replace('w-full ', '')} w-auto max-w-full`;

  return (
    <Card className="space-y-2">
      <h2 className="font-semibold">{t('transformations.playground')}</h2>
      <p className="text-xs text-slate-500">{t('transformations.playgroundExplain')}</p>
      <div className="flex flex-wrap gap-2">
        <select aria-label={t('transformations.transformation')} className={selectClass} value={transformationId} onChange={(event) => setTransformationId(event.target.value)}>
          <option value="">{t('transformations.choose')}</option>
          {transformations.map((item) => (
            <option key={item.id} value={item.id}>{item.title || item.name}</option>
          ))}
        </select>
        <select aria-label={t('transformations.source')} className={selectClass} value={sourceId} onChange={(event) => setSourceId(event.target.value)}>
          <option value="">{t('transformations.pasteText')}</option>
          {(sources.data ?? []).map((item) => (
            <option key={item.id} value={item.id}>{item.title ?? item.original_filename ?? item.id}</option>
          ))}
        </select>
        <select aria-label={t('transformations.model')} className={selectClass} value={modelId} onChange={(event) => setModelId(event.target.value)}>
          <option value="">{t('transformations.defaultModel')}</option>
          {models.map((model) => (
            <option key={model.id} value={model.id}>{model.name}</option>
          ))}
        </select>
      </div>
      {source.isFetching && <Spinner />}
      <textarea aria-label={t('transformations.input')} className={inputClass} rows={6} value={input} onChange={(event) => setInput(event.target.value)} />
      <ErrorText error={sources.error ?? source.error ?? run.error} />
      <div className="flex justify-end">
        <Button variant="primary" disabled={!ready || run.isPending} onClick={() => run.mutate()}>
          {run.isPending ? t('transformations.running') : t('transformations.run')}
        </Button>
      </div>
      {run.data && (
        <div data-testid="transformation-output" className="rounded-md border border-slate-200 p-3 dark:border-slate-700">
          <Markdown text={run.data.output} />
          {(run.data.parts ?? 1) > 1 && <p className="mt-1 text-xs text-slate-500">{t('transformations.parts', { count: run.data.parts })}</p>}
        </div>
      )}
    </Card>
  );
}

export function TransformationsPage() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<Transformation | null | undefined>(undefined);
  const close = useCallback(() => setEditing(undefined), []);
  const transformations = useQuery({ queryKey: ['transformations'], queryFn: () => api<Transformation[]>('/transformations') });
  const update = useMutation({
    mutationFn: ({ id, body }: { id: string; body: Partial<Transformation> }) =>
      api<Transformation>(`/transformations/${encodeURIComponent(id)}`, { method: 'PUT', json: body }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['transformations'] }),
  });
  const remove = useMutation({
    mutationFn: (id: string) => api(`/transformations/${encodeURIComponent(id)}`, { method: 'DELETE' }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['transformations'] }),
  });
  const list = transformations.data ?? [];
  return (
    <div className="max-w-4xl space-y-4">
      <div className="flex items-center justify-between">
        <h1 className="text-2xl font-semibold">{t('transformations.title')}</h1>
        <Button variant="primary" onClick={() => setEditing(null)}>{t('transformations.create')}</Button>
      </div>
      <p className="text-sm text-slate-500">{t('transformations.explain')}</p>
      {transformations.isPending && <Spinner />}
      <ErrorText error={transformations.error ?? update.error ?? remove.error} />
      {transformations.isSuccess && list.length === 0 && <p className="text-sm text-slate-500">{t('transformations.none')}</p>}
      <ul className="space-y-2">
        {list.map((item) => (
          <li key={item.id} data-testid="transformation-card">
            <Card>
              <div className="flex flex-wrap items-start justify-between gap-2 sm:flex-nowrap">
                <div className="min-w-0">
                  <h2 className="font-medium">{item.title}</h2>
                  <p className="text-xs text-slate-500">
                    {item.name}
                    {item.description ? ` · ${item.description}` : ''}
                  </p>
                </div>
                <div className="flex shrink-0 flex-wrap items-center gap-1">
                  <label className="flex items-center gap-1 text-xs">
                    <input
                      type="checkbox"
                      checked={item.apply_default ?? false}
                      disabled={update.isPending}
                      onChange={(event) => update.mutate({ id: item.id, body: { apply_default: event.target.checked } })}
                    />
                    {t('transformations.default')}
                  </label>
                  <Button variant="ghost" onClick={() => setEditing(item)}>{t('transformations.editButton')}</Button>
                  <Button
                    variant="ghost"
                    className="text-red-600"
                    onClick={() => window.confirm(t('transformations.confirmDelete', { title: item.title })) && remove.mutate(item.id)}
                  >
                    {t('common.delete')}
                  </Button>
                </div>
              </div>
            </Card>
          </li>
        ))}
      </ul>
      <Playground transformations={list} />
      <DefaultPrompt />
      {editing !== undefined && <TransformationEditor existing={editing} onClose={close} />}
    </div>
  );
}
