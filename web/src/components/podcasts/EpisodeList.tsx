// Episodes grouped by status: those being generated (with the job's live stage and progress),
// completed ones with a player, transcript and outline, and failed ones with their reason and a retry.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { errorMessage } from '../../api/client';
import { audioSource, isGenerating, podcastApi, type Episode } from '../../api/podcasts';
import { Button, Card, ErrorText, ProgressBar, Spinner } from '../ui';
import { DeleteButton } from './DeleteButton';

// How often episodes and jobs are polled while one is being generated.
export const POLL_INTERVAL_MS = 2000;

export function formatDuration(milliseconds: number): string {
  // Whole seconds rounded down, as media players show them.
  const seconds = Math.floor(milliseconds / 1000);
  const minutes = Math.floor(seconds / 60);
  return `${minutes}:${String(seconds % 60).padStart(2, '0')}`;
}

export function useEpisodes() {
  return useQuery({
    queryKey: ['podcast-episodes'],
    queryFn: podcastApi.episodes,
    refetchInterval: (query) => (query.state.data?.some(isGenerating) ? POLL_INTERVAL_MS : false),
  });
}

function EpisodePlayer({ episode }: { episode: Episode }) {
  const { t } = useTranslation();
  const [source, setSource] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const audioUrl = episode.audio_url;
  useEffect(() => {
    let revoke: string | null = null;
    let cancelled = false;
    if (!audioUrl) return;
    audioSource(audioUrl)
      .then((result) => {
        if (result.revoke) revoke = result.src;
        if (cancelled) {
          if (revoke) URL.revokeObjectURL(revoke);
          return;
        }
        setSource(result.src);
      })
      .catch((reason: unknown) => {
        if (!cancelled) setError(errorMessage(reason));
      });
    return () => {
      cancelled = true;
      if (revoke) URL.revokeObjectURL(revoke);
    };
  }, [audioUrl]);
  if (error) return <ErrorText error={t('podcasts.audioFailed', { reason: error })} />;
  if (!source) return <Spinner />;
  return (
    <audio
      controls
      preload="metadata"
      src={source}
      className="w-full"
      aria-label={t('podcasts.player', { name: episode.name })}
      data-testid="episode-audio"
    />
  );
}

function Transcript({ episode }: { episode: Episode }) {
  const { t } = useTranslation();
  const lines = episode.transcript?.transcript ?? [];
  if (lines.length === 0) return null;
  return (
    <details className="text-sm">
      <summary className="cursor-pointer font-medium">{t('podcasts.transcript', { count: lines.length })}</summary>
      <ol className="mt-2 space-y-1">
        {lines.map((line, index) => (
          <li key={index}>
            <span className="font-semibold">{line.speaker}:</span> {line.dialogue}
          </li>
        ))}
      </ol>
    </details>
  );
}

function Outline({ episode }: { episode: Episode }) {
  const { t } = useTranslation();
  const segments = episode.outline?.segments ?? [];
  if (segments.length === 0) return null;
  return (
    <details className="text-sm">
      <summary className="cursor-pointer font-medium">{t('podcasts.outline', { count: segments.length })}</summary>
      <ol className="mt-2 list-decimal space-y-1 pl-5">
        {segments.map((segment, index) => (
          <li key={index}>
            <span className="font-semibold">{segment.name}</span> — {segment.description}
          </li>
        ))}
      </ol>
    </details>
  );
}

// The job's stage and percentage, polled while the episode is being generated.
function JobProgress({ jobId, running }: { jobId: string; running: boolean }) {
  const { t } = useTranslation();
  const job = useQuery({
    queryKey: ['podcast-job', jobId],
    queryFn: () => podcastApi.job(jobId),
    refetchInterval: POLL_INTERVAL_MS,
  });
  const stage = job.data?.progress?.stage;
  const percent = job.data?.progress?.percent ?? 0;
  return (
    <div className="space-y-1">
      <p className="text-xs text-slate-500" aria-live="polite">
        {stage
          ? t('podcasts.stage', { stage: t(`podcasts.stages.${stage}`, { defaultValue: stage }), percent })
          : running
            ? t('podcasts.starting')
            : t('podcasts.waiting')}
      </p>
      <ProgressBar percent={percent} />
    </div>
  );
}

function EpisodeCard({ episode }: { episode: Episode }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['podcast-episodes'] });
  const retry = useMutation({ mutationFn: () => podcastApi.retry(episode.id), onSuccess: refresh });
  const remove = useMutation({ mutationFn: () => podcastApi.deleteEpisode(episode.id), onSuccess: refresh });
  const failed = episode.job_status === 'failed' || episode.job_status === 'cancelled';
  const profile = episode.episode_profile?.name;
  return (
    <Card className="flex flex-col gap-2">
      <article aria-label={episode.name} data-testid="episode-card" data-status={episode.job_status} className="flex flex-col gap-2">
        <div className="flex flex-wrap items-baseline justify-between gap-2">
          <h3 className="font-semibold">{episode.name}</h3>
          <span className="text-xs text-slate-500">
            {t(`jobStatus.${episode.job_status}`, { defaultValue: episode.job_status })}
            {episode.duration_ms !== null && ` · ${formatDuration(episode.duration_ms)}`}
          </span>
        </div>
        {profile && <p className="text-xs text-slate-500">{t('podcasts.madeWith', { profile })}</p>}
        {isGenerating(episode) && episode.command_id && (
          <JobProgress jobId={episode.command_id} running={episode.job_status === 'running'} />
        )}
        {failed && episode.error_message && <ErrorText error={episode.error_message} />}
        {episode.audio_url && <EpisodePlayer episode={episode} />}
        <Outline episode={episode} />
        <Transcript episode={episode} />
        <div className="flex flex-wrap gap-1">
          {failed && (
            <Button variant="ghost" onClick={() => retry.mutate()} disabled={retry.isPending}>
              {t('common.retry')}
            </Button>
          )}
          <DeleteButton onConfirm={() => remove.mutate()} disabled={remove.isPending} />
        </div>
        <ErrorText error={retry.error ?? remove.error} />
      </article>
    </Card>
  );
}

const GROUPS = [
  { id: 'generating', key: 'podcasts.groups.generating', test: (episode: Episode) => isGenerating(episode) },
  { id: 'completed', key: 'podcasts.groups.completed', test: (episode: Episode) => episode.job_status === 'completed' },
  {
    id: 'failed',
    key: 'podcasts.groups.failed',
    test: (episode: Episode) => !isGenerating(episode) && episode.job_status !== 'completed',
  },
] as const;

export function EpisodeList() {
  const { t } = useTranslation();
  const episodes = useEpisodes();
  if (episodes.isPending) return <Spinner />;
  if (episodes.isError) return <ErrorText error={episodes.error} />;
  if (episodes.data.length === 0) return <p className="text-sm text-slate-500">{t('podcasts.noEpisodes')}</p>;
  return (
    <div className="space-y-6">
      {GROUPS.map((group) => {
        const members = episodes.data.filter(group.test);
        if (members.length === 0) return null;
        return (
          <section key={group.id} aria-label={t(group.key)}>
            <h2 className="mb-2 text-lg font-semibold">
              {t(group.key)} ({members.length})
            </h2>
            <div className="grid gap-3 lg:grid-cols-2">
              {members.map((episode) => (
                <EpisodeCard key={episode.id} episode={episode} />
              ))}
            </div>
          </section>
        );
      })}
    </div>
  );
}
