import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import { Button, ErrorText, inputClass, Spinner } from './ui';

type RuntimeValues = Record<string, string | number | null> & { config_version?: number };

const FIELDS: { key: string; kind: 'number' | 'choice'; choices?: string[] }[] = [
  { key: 'log_level', kind: 'choice', choices: ['trace', 'debug', 'info', 'warn', 'error'] },
  { key: 'worker_max_tasks', kind: 'number' },
  { key: 'retry_max_attempts', kind: 'number' },
  { key: 'retry_wait_min_s', kind: 'number' },
  { key: 'retry_wait_max_s', kind: 'number' },
  { key: 'fetch_timeout_s', kind: 'number' },
  { key: 'pdf_timeout_s', kind: 'number' },
  { key: 'chunk_size', kind: 'number' },
  { key: 'chunk_overlap', kind: 'number' },
  { key: 'sync_processing_timeout_s', kind: 'number' },
  { key: 'default_embedding_option', kind: 'choice', choices: ['ask', 'always', 'never'] },
];

// Settings that every API and worker process applies within a second of a change (PUT
// /api/settings). The configuration version read with them is sent back, so a change made
// meanwhile elsewhere is reported (409) instead of being overwritten.
export function RuntimeSettings() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const current = useQuery({ queryKey: ['runtime-settings'], queryFn: () => api<RuntimeValues>('/settings') });
  const [draft, setDraft] = useState<Record<string, string>>({});
  useEffect(() => {
    if (!current.data) return;
    const values: Record<string, string> = {};
    for (const field of FIELDS) values[field.key] = String(current.data[field.key] ?? '');
    setDraft(values);
  }, [current.data]);
  const save = useMutation({
    mutationFn: () => {
      const body: Record<string, unknown> = { config_version: current.data?.config_version };
      for (const field of FIELDS) {
        const value = draft[field.key] ?? '';
        if (value === String(current.data?.[field.key] ?? '')) continue;
        body[field.key] = field.kind === 'number' ? Number(value) : value;
      }
      return api<RuntimeValues>('/settings', { method: 'PUT', json: body });
    },
    onSuccess: (updated) => {
      queryClient.setQueryData(['runtime-settings'], updated);
      void queryClient.invalidateQueries({ queryKey: ['server-config'] });
    },
  });
  if (current.isPending) return <Spinner />;
  if (current.isError) return <ErrorText error={current.error} />;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  return (
    <form onSubmit={submit} className="space-y-3">
      <div className="grid gap-3 sm:grid-cols-2">
        {FIELDS.map((field) => (
          <label key={field.key} className="text-sm">
            {t(`settings.runtime.${field.key}`)}
            {field.kind === 'choice' ? (
              <select className={`${inputClass} mt-1`} value={draft[field.key] ?? ''} onChange={(event) => setDraft({ ...draft, [field.key]: event.target.value })}>
                {field.choices!.map((choice) => (
                  <option key={choice} value={choice}>{choice}</option>
                ))}
              </select>
            ) : (
              <input type="number" className={`${inputClass} mt-1`} value={draft[field.key] ?? ''} onChange={(event) => setDraft({ ...draft, [field.key]: event.target.value })} />
            )}
          </label>
        ))}
      </div>
      <ErrorText error={save.error} />
      {save.isSuccess && <p role="status" className="text-sm text-green-700 dark:text-green-400">{t('settings.runtimeSaved')}</p>}
      <Button type="submit" variant="primary" disabled={save.isPending}>{t('common.save')}</Button>
    </form>
  );
}
