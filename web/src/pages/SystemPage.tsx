import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import type { Job, RebuildStatus, ServerConfig } from '../api/types';
import { Button, Card, ErrorText, ProgressBar, Spinner } from '../components/ui';

const FINISHED = new Set(['completed', 'failed', 'cancelled']);

function Rebuild() {
  const { t } = useTranslation();
  const [mode, setMode] = useState<'existing' | 'all'>('existing');
  const [commandId, setCommandId] = useState<string | null>(null);
  const start = useMutation({
    mutationFn: () => api<{ command_id: string }>('/embeddings/rebuild', { method: 'POST', json: { mode } }),
    onSuccess: (result) => setCommandId(result.command_id),
  });
  const status = useQuery({
    queryKey: ['rebuild', commandId],
    queryFn: () => api<RebuildStatus>(`/embeddings/rebuild/${encodeURIComponent(commandId!)}/status`),
    enabled: commandId !== null,
    refetchInterval: (query) => (query.state.data && FINISHED.has(query.state.data.status) ? false : 1000),
  });
  const progress = status.data?.progress;
  return (
    <Card className="space-y-2">
      <h2 className="font-semibold">{t('system.rebuild')}</h2>
      <p className="text-sm text-slate-500">{t('system.rebuildExplain')}</p>
      <div className="flex flex-wrap items-center gap-2 text-sm">
        <label className="flex items-center gap-1">
          <input type="radio" name="mode" checked={mode === 'existing'} onChange={() => setMode('existing')} />
          {t('system.modeExisting')}
        </label>
        <label className="flex items-center gap-1">
          <input type="radio" name="mode" checked={mode === 'all'} onChange={() => setMode('all')} />
          {t('system.modeAll')}
        </label>
        <Button variant="primary" onClick={() => start.mutate()} disabled={start.isPending || (status.data !== undefined && !FINISHED.has(status.data.status))}>
          {t('system.rebuildStart')}
        </Button>
      </div>
      <ErrorText error={start.error ?? status.error} />
      {status.data && (
        <div className="space-y-1 text-sm">
          <p>{t('system.rebuildStatus', { status: t(`jobStatus.${status.data.status}`, { defaultValue: status.data.status }), processed: progress?.processed ?? 0, total: progress?.total ?? 0 })}</p>
          <ProgressBar percent={progress?.percentage ?? 0} />
          {status.data.error_message && <ErrorText error={status.data.error_message} />}
        </div>
      )}
    </Card>
  );
}

export function SystemPage() {
  const { t } = useTranslation();
  const config = useQuery({ queryKey: ['server-config'], queryFn: () => api<ServerConfig>('/config'), refetchInterval: 10_000 });
  const jobs = useQuery({ queryKey: ['jobs'], queryFn: () => api<Job[]>('/commands/jobs?limit=100'), refetchInterval: 3000 });
  const counts = new Map<string, number>();
  for (const job of jobs.data ?? []) counts.set(job.status, (counts.get(job.status) ?? 0) + 1);
  const running = counts.get('running') ?? 0;
  const queued = (counts.get('queued') ?? 0) + (counts.get('new') ?? 0);
  return (
    <div className="max-w-4xl space-y-4">
      <h1 className="text-2xl font-semibold">{t('nav.system')}</h1>
      {config.isPending && <Spinner />}
      <ErrorText error={config.error} />
      {config.data && (
        <div className="grid gap-3 sm:grid-cols-3">
          <Card>
            <p className="text-xs text-slate-500">{t('system.version')}</p>
            <p data-testid="version" className="text-lg font-semibold">{config.data.version}</p>
          </Card>
          <Card>
            <p className="text-xs text-slate-500">{t('system.database')}</p>
            <p className="text-lg font-semibold">{config.data.dbStatus === 'online' ? t('system.online') : t('system.offline')}</p>
            <p className="text-xs text-slate-500">{t('system.schema', { version: config.data.schemaVersion ?? '?' })}</p>
          </Card>
          <Card>
            <p className="text-xs text-slate-500">{t('system.worker')}</p>
            <p className="text-lg font-semibold">{running > 0 ? t('system.workerBusy', { count: running }) : t('system.workerIdle')}</p>
            <p className="text-xs text-slate-500">{t('system.queued', { count: queued })}</p>
          </Card>
        </div>
      )}
      <Rebuild />
      <Card>
        <h2 className="mb-2 font-semibold">{t('system.jobs')}</h2>
        <ErrorText error={jobs.error} />
        <table className="w-full text-left text-sm">
          <thead>
            <tr className="text-xs text-slate-500">
              <th className="py-1">{t('system.jobCommand')}</th>
              <th>{t('system.jobStatus')}</th>
              <th>{t('system.jobUpdated')}</th>
            </tr>
          </thead>
          <tbody>
            {(jobs.data ?? []).slice(0, 20).map((job) => (
              <tr key={job.job_id} className="border-t border-slate-100 dark:border-slate-800">
                <td className="py-1 font-mono text-xs">{job.command ?? job.job_id}</td>
                <td>{t(`jobStatus.${job.status}`, { defaultValue: job.status })}</td>
                <td className="text-xs text-slate-500">{new Date(job.updated).toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
    </div>
  );
}
