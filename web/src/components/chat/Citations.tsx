import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { citedSourceHref, loadPassage } from '../../api/passages';
import type { Citation } from '../../api/types';
import { Link } from '../../router';
import { Dialog, ErrorText, Spinner } from '../ui';

// Replaces each "[<citation id>]" in an answer with the number of its citation button, "[2]", so
// the text and the buttons below it match. Ids not among `citations` stay as they are.
export function numberCitations(text: string, citations: Citation[]): string {
  let numbered = text;
  citations.forEach((citation, index) => {
    numbered = numbered.split(`[${citation.id}]`).join(`[${index + 1}]`);
  });
  return numbered;
}

// The cited passage in a dialog, with a link to the whole source where the passage is
// highlighted. `notebookId` is the notebook the answer came from, null for an unscoped ask.
export function PassageDialog({ citation, notebookId, onClose }: { citation: Citation; notebookId: string | null; onClose: () => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const passage = useQuery({
    queryKey: ['passage', citation.id, notebookId],
    queryFn: () => loadPassage(queryClient, citation, notebookId),
  });
  return (
    <Dialog title={citation.title ?? citation.id} onClose={onClose} wide>
      <p className="mb-2 text-xs text-slate-500">{t(`passage.kinds.${citation.kind}`, { index: (citation.chunk_index ?? 0) + 1 })}</p>
      {passage.isPending && <Spinner />}
      <ErrorText error={passage.error} />
      {passage.data && (
        <>
          <blockquote data-testid="cited-passage" className="max-h-[55vh] overflow-y-auto rounded-md border-l-4 border-amber-400 bg-amber-50 p-3 text-sm whitespace-pre-wrap dark:bg-amber-950">
            {passage.data.text || t('passage.empty')}
          </blockquote>
          {passage.data.sourceId && (
            <Link
              href={citedSourceHref(passage.data.sourceId, passage.data.chunkIndex, notebookId)}
              className="mt-3 inline-block text-sm text-indigo-600 hover:underline dark:text-indigo-400"
            >
              {t('passage.openSource')}
            </Link>
          )}
        </>
      )}
    </Dialog>
  );
}

// Numbered buttons, one per citation; each opens its passage.
export function CitationList({ citations, notebookId }: { citations: Citation[]; notebookId: string | null }) {
  const { t } = useTranslation();
  const [open, setOpen] = useState<Citation | null>(null);
  // A stable callback: the dialog moves focus again whenever onClose changes.
  const close = useCallback(() => setOpen(null), []);
  if (citations.length === 0) return null;
  return (
    <div className="mt-2 flex flex-wrap gap-1" aria-label={t('passage.citations')}>
      {citations.map((citation, index) => (
        <button
          key={`${citation.id}-${index}`}
          type="button"
          data-testid="citation"
          title={t('passage.open')}
          className="rounded bg-slate-100 px-1.5 py-0.5 text-xs hover:bg-slate-200 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 dark:bg-slate-800 dark:hover:bg-slate-700"
          onClick={() => setOpen(citation)}
        >
          [{index + 1}] {citation.title ?? citation.id}
          {citation.kind === 'chunk' && typeof citation.chunk_index === 'number' ? ` · ${t('passage.short', { index: citation.chunk_index + 1 })}` : ''}
        </button>
      ))}
      {open && <PassageDialog citation={open} notebookId={notebookId} onClose={close} />}
    </div>
  );
}
