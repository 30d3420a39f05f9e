import { useTranslation } from 'react-i18next';
import type { Source } from '../api/types';
import { ProgressBar } from './ui';

const STYLES: Record<string, string> = {
  completed: 'bg-green-100 text-green-800 dark:bg-green-950 dark:text-green-300',
  failed: 'bg-red-100 text-red-800 dark:bg-red-950 dark:text-red-300',
  running: 'bg-blue-100 text-blue-800 dark:bg-blue-950 dark:text-blue-300',
  queued: 'bg-amber-100 text-amber-800 dark:bg-amber-950 dark:text-amber-300',
  new: 'bg-amber-100 text-amber-800 dark:bg-amber-950 dark:text-amber-300',
  cancelled: 'bg-slate-200 text-slate-700 dark:bg-slate-800 dark:text-slate-300',
};

export function isProcessing(source: Source): boolean {
  return source.status === 'new' || source.status === 'queued' || source.status === 'running';
}

export function SourceStatusBadge({ source }: { source: Source }) {
  const { t } = useTranslation();
  const status = source.status ?? 'completed';
  return (
    <span data-testid="source-status" data-status={status} className={`rounded px-1.5 py-0.5 text-xs font-medium ${STYLES[status] ?? STYLES.cancelled}`}>
      {t(`status.${status}`)}
    </span>
  );
}

// Stage and progress while a source is processed; the API's reason when it failed.
export function SourceProgress({ source }: { source: Source }) {
  const { t } = useTranslation();
  const info = source.processing_info;
  if (isProcessing(source)) {
    return (
      <div className="mt-1 space-y-1">
        {info?.stage && <p className="text-xs text-slate-500">{t('sources.stage', { stage: info.stage })}</p>}
        {typeof info?.percent === 'number' && <ProgressBar percent={info.percent} />}
      </div>
    );
  }
  if (source.status === 'failed' && info?.error) {
    return <p className="mt-1 text-xs break-words text-red-700 dark:text-red-300">{info.error}</p>;
  }
  return null;
}
