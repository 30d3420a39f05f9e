import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, download } from '../api/client';
import type { Notebook, Source } from '../api/types';
import { SourceInsights } from '../components/SourceInsights';
import { isProcessing, SourceProgress, SourceStatusBadge } from '../components/SourceStatus';
import { SourceText } from '../components/SourceText';
import { Button, Card, ErrorText, Spinner } from '../components/ui';
import { navigate, useLocation } from '../router';

export function SourcePage({ id }: { id: string }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [downloadError, setDownloadError] = useState<unknown>(null);
  const { query } = useLocation();
  const chunkParameter = query.get('chunk');
  const citedChunk = chunkParameter !== null && /^\d+$/.test(chunkParameter) ? Number(chunkParameter) : null;
  const path = `/sources/${encodeURIComponent(id)}`;
  const source = useQuery({
    queryKey: ['source', id],
    queryFn: () => api<Source>(path),
    refetchInterval: (query) => (query.state.data && isProcessing(query.state.data) ? 2000 : false),
  });
  const notebooks = useQuery({ queryKey: ['notebooks', { archived: false }], queryFn: () => api<Notebook[]>('/notebooks?archived=false&order_by=updated%20desc') });
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ['source', id] });
    void queryClient.invalidateQueries({ queryKey: ['sources'] });
    void queryClient.invalidateQueries({ queryKey: ['notebooks'] });
  };
  const link = useMutation({
    mutationFn: ({ notebook, linked }: { notebook: string; linked: boolean }) =>
      api(`/notebooks/${encodeURIComponent(notebook)}/sources/${encodeURIComponent(id)}`, { method: linked ? 'POST' : 'DELETE' }),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: () => api(path, { method: 'DELETE' }),
    onSuccess: () => {
      refresh();
      window.history.length > 1 ? window.history.back() : navigate('/notebooks');
    },
  });
  const retry = useMutation({ mutationFn: () => api(`${path}/retry`, { method: 'POST' }), onSuccess: refresh });
  const embed = useMutation({ mutationFn: () => api('/embed', { method: 'POST', json: { item_id: id, item_type: 'source' } }), onSuccess: refresh });

  if (source.isPending) return <Spinner />;
  if (source.isError) return <ErrorText error={source.error} />;
  const data = source.data;
  const member = new Set(data.notebooks ?? []);
  // A citation names the notebook it came from; otherwise any notebook of the source will do.
  const notebookId = query.get('notebook') ?? data.notebooks?.[0] ?? null;
  return (
    <div className="grid gap-4 lg:grid-cols-[1fr_18rem]">
      <div className="min-w-0">
        <div className="mb-2 flex flex-wrap items-center gap-2">
          <h1 className="text-xl font-semibold break-words">{data.title ?? data.original_filename ?? t('sources.untitled')}</h1>
          <SourceStatusBadge source={data} />
        </div>
        <SourceProgress source={data} />
        {data.asset?.url && (
          <p className="mb-2 text-sm break-all text-slate-500">{data.asset.url}</p>
        )}
        <h2 className="mt-4 mb-2 font-semibold">{t('sources.contentHeading')}</h2>
        {data.full_text ? (
          <SourceText sourceId={id} text={data.full_text} citedChunk={citedChunk} notebookId={notebookId} />
        ) : (
          <p className="text-sm text-slate-500">{t('sources.noContent')}</p>
        )}
        <SourceInsights sourceId={id} notebookId={notebookId} />
      </div>
      <aside className="space-y-3">
        <Card className="space-y-2">
          <p className="text-xs text-slate-500">{t('sources.chunks', { count: data.embedded_chunks })}</p>
          <div className="flex flex-wrap gap-1">
            {data.file_available && (
              <Button
                onClick={() => {
                  setDownloadError(null);
                  download(`${path}/download`, data.original_filename ?? 'source').catch(setDownloadError);
                }}
              >
                {t('sources.download')}
              </Button>
            )}
            {data.status === 'failed' && <Button onClick={() => retry.mutate()}>{t('common.retry')}</Button>}
            <Button onClick={() => embed.mutate()} disabled={embed.isPending}>{t('sources.embedNow')}</Button>
            <Button variant="danger" onClick={() => window.confirm(t('sources.confirmDelete')) && remove.mutate()}>
              {t('common.delete')}
            </Button>
          </div>
          <ErrorText error={downloadError ?? retry.error ?? embed.error ?? remove.error} />
        </Card>
        <Card>
          <h2 className="mb-2 text-sm font-semibold">{t('sources.notebooks')}</h2>
          <ul className="space-y-1 text-sm">
            {(notebooks.data ?? []).map((notebook) => (
              <li key={notebook.id}>
                <label className="flex items-center gap-2">
                  <input
                    type="checkbox"
                    checked={member.has(notebook.id)}
                    disabled={link.isPending}
                    onChange={(event) => link.mutate({ notebook: notebook.id, linked: event.target.checked })}
                  />
                  {notebook.name}
                </label>
              </li>
            ))}
          </ul>
          <ErrorText error={link.error} />
        </Card>
      </aside>
    </div>
  );
}
