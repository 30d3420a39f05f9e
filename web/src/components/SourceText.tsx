import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { loadChunks } from '../api/passages';
import { ErrorText, Spinner } from './ui';

// Finds `passage` in `text`. Chunks are slices of the extracted text, so an exact match is
// expected. Returns null when the text has changed since, because the source was processed again.
export function findPassage(text: string, passage: string): { start: number; end: number } | null {
  const trimmed = passage.trim();
  if (!trimmed) return null;
  const start = text.indexOf(trimmed);
  return start < 0 ? null : { start, end: start + trimmed.length };
}

// The extracted text of a source. With `citedChunk`, the cited passage is highlighted and
// scrolled to. `notebookId` is a notebook that contains the source, needed to load the chunk.
export function SourceText({
  sourceId,
  text,
  citedChunk,
  notebookId,
}: {
  sourceId: string;
  text: string;
  citedChunk: number | null;
  notebookId: string | null;
}) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const mark = useRef<HTMLElement>(null);
  const chunks = useQuery({
    queryKey: ['source-chunk-list', notebookId, sourceId],
    queryFn: () => loadChunks(queryClient, notebookId!, sourceId),
    enabled: citedChunk !== null && notebookId !== null,
  });
  const passage = citedChunk === null ? undefined : chunks.data?.find((chunk) => chunk.index === citedChunk)?.content;
  const range = passage ? findPassage(text, passage) : null;
  useEffect(() => {
    mark.current?.scrollIntoView?.({ block: 'center' });
  }, [range?.start]);

  const preClass = 'max-h-[70vh] overflow-auto rounded-md bg-slate-50 p-3 text-sm whitespace-pre-wrap dark:bg-slate-900';
  return (
    <>
      {citedChunk !== null && (
        <div className="mb-2 rounded bg-amber-50 px-2 py-1 text-sm dark:bg-amber-950">
          <p>{t('sources.citedPassage', { index: citedChunk + 1 })}</p>
          {chunks.isFetching && <Spinner />}
          <ErrorText error={chunks.error} />
          {chunks.isSuccess && passage === undefined && <p className="text-xs text-slate-500">{t('sources.passageGone')}</p>}
          {passage !== undefined && range === null && (
            // The text no longer contains the passage word for word, so it is shown on its own.
            <blockquote data-testid="cited-passage" className="mt-1 border-l-4 border-amber-400 pl-2 whitespace-pre-wrap">{passage}</blockquote>
          )}
        </div>
      )}
      {range ? (
        <pre data-testid="source-content" className={preClass}>
          {text.slice(0, range.start)}
          <mark ref={mark} data-testid="cited-passage" className="rounded bg-amber-200 dark:bg-amber-700 dark:text-white">
            {text.slice(range.start, range.end)}
          </mark>
          {text.slice(range.end)}
        </pre>
      ) : (
        <pre data-testid="source-content" className={preClass}>{text}</pre>
      )}
    </>
  );
}
