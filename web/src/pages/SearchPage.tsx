import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import type { DefaultModels, Notebook, SearchResponse, SearchType } from '../api/types';
import { AskPanel } from '../components/AskPanel';
import { sanitizeSnippet } from '../components/Markdown';
import { Button, ErrorText, inputClass } from '../components/ui';
import { Link, useLocation } from '../router';

export function SearchPage() {
  const { t } = useTranslation();
  const { query } = useLocation();
  const [text, setText] = useState(query.get('q') ?? '');
  const [type, setType] = useState<SearchType>('text');
  const [typeChosen, setTypeChosen] = useState(false);
  const [scope, setScope] = useState('');
  const [mode, setMode] = useState<'search' | 'ask'>(query.get('mode') === 'ask' ? 'ask' : 'search');
  // The command palette opens Ask with ?mode=ask, also while this page is already open.
  const requestedMode = query.get('mode');
  useEffect(() => {
    if (requestedMode === 'ask') setMode('ask');
  }, [requestedMode]);
  // Hybrid search is the better default once an embedding model exists. Without one only keyword
  // search works, and the hint below tells the reader how to enable the rest.
  const defaults = useQuery({ queryKey: ['model-defaults'], queryFn: () => api<DefaultModels>('/models/defaults') });
  const hasEmbeddingModel = Boolean(defaults.data?.default_embedding_model);
  useEffect(() => {
    if (hasEmbeddingModel && !typeChosen) setType('hybrid');
  }, [hasEmbeddingModel, typeChosen]);
  const notebooks = useQuery({ queryKey: ['notebooks', { archived: false }], queryFn: () => api<Notebook[]>('/notebooks?archived=false&order_by=updated%20desc') });
  const search = useMutation({
    mutationFn: () =>
      api<SearchResponse>('/search', {
        method: 'POST',
        json: { query: text.trim(), type, limit: 50, minimum_score: type === 'text' ? 0 : 0.2, ...(scope ? { notebook_id: scope } : {}) },
      }),
  });
  const initial = query.get('q');
  useEffect(() => {
    if (initial) search.mutate();
    // Runs once for a search opened from the command palette.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [initial]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (text.trim()) search.mutate();
  };
  return (
    <div className="max-w-4xl">
      <h1 className="mb-4 text-2xl font-semibold">{t('nav.search')}</h1>
      <div role="tablist" aria-label={t('ask.modes')} className="mb-3 flex gap-1">
        {(['search', 'ask'] as const).map((item) => (
          <Button key={item} role="tab" aria-selected={mode === item} variant={mode === item ? 'primary' : 'secondary'} onClick={() => setMode(item)}>
            {t(item === 'search' ? 'ask.modeSearch' : 'ask.modeAsk')}
          </Button>
        ))}
      </div>
      <label className="mb-3 flex items-center gap-2 text-sm">
        {t('search.scope')}
        <select aria-label={t('search.scope')} className={`${inputClass.replace('w-full ', '')} w-auto`} value={scope} onChange={(event) => setScope(event.target.value)}>
          <option value="">{t('search.allNotebooks')}</option>
          {(notebooks.data ?? []).map((notebook) => (
            <option key={notebook.id} value={notebook.id}>{notebook.name}</option>
          ))}
        </select>
      </label>
      {mode === 'ask' ? (
        <AskPanel scope={scope} notebooks={notebooks.data ?? []} />
      ) : (
        <>
          <form onSubmit={submit} className="mb-4 flex flex-wrap gap-2">
            <input aria-label={t('search.query')} placeholder={t('search.placeholder')} className={`${inputClass.replace('w-full ', '')} min-w-60 flex-1`} value={text} onChange={(event) => setText(event.target.value)} />
            <select aria-label={t('search.type')} className={`${inputClass.replace('w-full ', '')} w-auto`} value={type} onChange={(event) => {
                setType(event.target.value as SearchType);
                setTypeChosen(true);
              }}>
              <option value="text">{t('search.types.text')}</option>
              <option value="vector">{t('search.types.vector')}</option>
              <option value="hybrid">{t('search.types.hybrid')}</option>
            </select>
            <Button type="submit" variant="primary" disabled={!text.trim() || search.isPending}>{t('search.submit')}</Button>
          </form>
          {!hasEmbeddingModel && defaults.isSuccess && <p className="mb-3 text-xs text-slate-500">{t('search.vectorHint')}</p>}
          <ErrorText error={search.error} />
          {search.data && (
            <>
              <p className="mb-2 text-sm text-slate-500" data-testid="search-count">{t('search.count', { count: search.data.total_count })}</p>
              <ol className="space-y-2">
                {search.data.results.map((result) => {
                  const href = result.type === 'source' ? `/sources/${encodeURIComponent(result.id)}` : result.parent_id?.startsWith('notebook:') ? `/notebooks/${encodeURIComponent(result.parent_id)}` : null;
                  return (
                    <li key={result.id} data-testid="search-result" className="rounded-md border border-slate-200 p-3 dark:border-slate-700">
                      <div className="flex items-center justify-between gap-2">
                        {href ? (
                          <Link href={href} className="font-medium hover:underline">{result.title ?? result.id}</Link>
                        ) : (
                          <span className="font-medium">{result.title ?? result.id}</span>
                        )}
                        <span className="text-xs text-slate-500">{t(result.type === 'source' ? 'search.source' : 'search.note')} · {result.relevance.toFixed(2)}</span>
                      </div>
                      {result.snippet && <p className="snippet mt-1 text-sm text-slate-600 dark:text-slate-300" dangerouslySetInnerHTML={{ __html: sanitizeSnippet(result.snippet) }} />}
                    </li>
                  );
                })}
              </ol>
            </>
          )}
        </>
      )}
    </div>
  );
}
