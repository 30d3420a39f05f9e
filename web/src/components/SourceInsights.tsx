import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import type { Insight, Job, Transformation } from '../api/types';
import { Markdown } from './Markdown';
import { Button, Card, ErrorText, inputClass, Spinner } from './ui';

// While an insight job runs, its status is asked for this often.
const JOB_POLL_MS = 1500;

// Lists, deletes and saves as notes the insights of a source, and runs a transformation to create
// one. Creating is a background job, and the list refreshes when the job completes.
export function SourceInsights({ sourceId, notebookId }: { sourceId: string; notebookId: string | null }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [transformationId, setTransformationId] = useState('');
  const [jobId, setJobId] = useState<string | null>(null);
  const path = `/sources/${encodeURIComponent(sourceId)}/insights`;
  const insights = useQuery({ queryKey: ['insights', sourceId], queryFn: () => api<Insight[]>(path) });
  const transformations = useQuery({ queryKey: ['transformations'], queryFn: () => api<Transformation[]>('/transformations') });
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ['insights', sourceId] });
    void queryClient.invalidateQueries({ queryKey: ['source', sourceId] });
  };
  const job = useQuery({
    queryKey: ['job', jobId],
    queryFn: () => api<Job>(`/commands/jobs/${encodeURIComponent(jobId!)}`),
    enabled: jobId !== null,
    refetchInterval: (query) => {
      const status = query.state.data?.status;
      return status === 'completed' || status === 'failed' || status === 'cancelled' ? false : JOB_POLL_MS;
    },
  });
  const jobStatus = job.data?.status;
  useEffect(() => {
    if (jobStatus === 'completed') {
      void queryClient.invalidateQueries({ queryKey: ['insights', sourceId] });
      void queryClient.invalidateQueries({ queryKey: ['source', sourceId] });
    }
  }, [jobStatus, queryClient, sourceId]);
  const create = useMutation({
    mutationFn: () => api<{ command_id: string }>(path, { method: 'POST', json: { transformation_id: transformationId } }),
    onSuccess: (queued) => setJobId(queued.command_id),
  });
  const remove = useMutation({
    mutationFn: (id: string) => api(`/insights/${encodeURIComponent(id)}`, { method: 'DELETE' }),
    onSuccess: refresh,
  });
  const save = useMutation({
    mutationFn: (id: string) => api(`/insights/${encodeURIComponent(id)}/save-as-note`, { method: 'POST', json: notebookId ? { notebook_id: notebookId } : {} }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['notes'] }),
  });
  const running = jobId !== null && jobStatus !== 'completed' && jobStatus !== 'failed' && jobStatus !== 'cancelled';
  const titleOf = (id: string | null | undefined) => transformations.data?.find((item) => item.id === id)?.title;

  return (
    <section aria-labelledby="insights-heading" className="mt-6">
      <h2 id="insights-heading" className="mb-2 font-semibold">{t('insights.title')}</h2>
      <form
        className="mb-3 flex flex-wrap gap-2"
        onSubmit={(event) => {
          event.preventDefault();
          if (transformationId) create.mutate();
        }}
      >
        <select
          aria-label={t('insights.transformation')}
          className={`${inputClass.replace('w-full ', '')} w-auto`}
          value={transformationId}
          onChange={(event) => setTransformationId(event.target.value)}
        >
          <option value="">{t('insights.choose')}</option>
          {(transformations.data ?? []).map((item) => (
            <option key={item.id} value={item.id}>{item.title || item.name}</option>
          ))}
        </select>
        <Button type="submit" variant="primary" disabled={!transformationId || create.isPending || running}>
          {t('insights.run')}
        </Button>
        {running && <span role="status" className="self-center text-sm text-slate-500">{t('insights.running')}</span>}
      </form>
      {transformations.data?.length === 0 && <p className="mb-2 text-xs text-slate-500">{t('insights.noTransformations')}</p>}
      {jobStatus === 'failed' && <ErrorText error={t('insights.failed', { reason: job.data?.error_message ?? '' })} />}
      <ErrorText error={create.error ?? transformations.error ?? remove.error ?? save.error} />
      {insights.isPending && <Spinner />}
      <ErrorText error={insights.error} />
      {insights.data?.length === 0 && <p className="text-sm text-slate-500">{t('insights.none')}</p>}
      <ul className="space-y-2">
        {(insights.data ?? []).map((insight) => (
          <li key={insight.id}>
            <Card>
              <div className="mb-1 flex items-center justify-between gap-2">
                <h3 data-testid="insight-type" className="text-sm font-medium">{insight.insight_type}</h3>
                {titleOf(insight.transformation_id) && <span className="text-xs text-slate-500">{titleOf(insight.transformation_id)}</span>}
              </div>
              <Markdown text={insight.content} />
              <div className="mt-1 flex gap-1">
                <Button variant="ghost" className="text-xs" onClick={() => save.mutate(insight.id)} disabled={save.isPending}>
                  {t('insights.saveAsNote')}
                </Button>
                <Button
                  variant="ghost"
                  className="text-xs text-red-600"
                  onClick={() => window.confirm(t('insights.confirmDelete')) && remove.mutate(insight.id)}
                >
                  {t('common.delete')}
                </Button>
              </div>
            </Card>
          </li>
        ))}
      </ul>
      {save.isSuccess && <p role="status" className="mt-1 text-xs text-slate-500">{t('insights.saved')}</p>}
    </section>
  );
}
