import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api, streamEvents } from '../api/client';
import type { AskResult, Note, Notebook } from '../api/types';
import { CitationList, numberCitations } from './chat/Citations';
import { Markdown } from './Markdown';
import { Button, ErrorText, inputClass } from './ui';

interface AskProgress {
  searches: { term: string; instructions: string }[];
  answered: number;
  finalAnswer: string | null;
  result: AskResult | null;
}

const START: AskProgress = { searches: [], answered: 0, finalAnswer: null, result: null };

// Saves an ask answer as an AI note of a chosen notebook, titled with the question.
function SaveAnswer({ result, notebooks }: { result: AskResult; notebooks: Notebook[] }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [chosenId, setNotebookId] = useState('');
  // The notebook list may arrive after the answer, so the default is computed on each render.
  const notebookId = chosenId || result.notebook_id || notebooks[0]?.id || '';
  const save = useMutation({
    mutationFn: () =>
      api<Note>('/notes', {
        method: 'POST',
        json: { title: result.question, content: result.final_answer, note_type: 'ai', notebook_id: notebookId },
      }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['notes', notebookId] });
      void queryClient.invalidateQueries({ queryKey: ['notebooks'] });
    },
  });
  return (
    <div className="mt-3 flex flex-wrap items-center gap-2">
      <select
        aria-label={t('ask.saveTo')}
        className={`${inputClass.replace('w-full ', '')} w-auto`}
        value={notebookId}
        onChange={(event) => {
          setNotebookId(event.target.value);
          save.reset();
        }}
      >
        {notebooks.length === 0 && <option value="">{t('ask.noNotebooks')}</option>}
        {notebooks.map((notebook) => (
          <option key={notebook.id} value={notebook.id}>{notebook.name}</option>
        ))}
      </select>
      <Button onClick={() => save.mutate()} disabled={!notebookId || save.isPending || save.isSuccess}>
        {save.isSuccess ? t('ask.saved') : t('ask.save')}
      </Button>
      <ErrorText error={save.error} />
    </div>
  );
}

// Ask: a question answered in steps (a search plan, one answer per search, a final answer with
// citations), streamed as the server works through them.
export function AskPanel({ scope, notebooks }: { scope: string; notebooks: Notebook[] }) {
  const { t } = useTranslation();
  const [question, setQuestion] = useState('');
  const [progress, setProgress] = useState<AskProgress | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [running, setRunning] = useState(false);
  const abort = useRef<AbortController | null>(null);
  useEffect(() => () => abort.current?.abort(), []);

  const ask = async (event: FormEvent) => {
    event.preventDefault();
    const text = question.trim();
    if (!text || running) return;
    setError(null);
    setProgress(START);
    setRunning(true);
    abort.current = new AbortController();
    try {
      await streamEvents(
        '/search/ask',
        { question: text, ...(scope ? { notebook_id: scope } : {}) },
        (item) => {
          if (item.type === 'strategy') {
            const searches = (item.searches as AskProgress['searches'] | undefined) ?? [];
            setProgress((current) => ({ ...(current ?? START), searches }));
          } else if (item.type === 'answer') {
            setProgress((current) => ({ ...(current ?? START), answered: (current?.answered ?? 0) + 1 }));
          } else if (item.type === 'final_answer') {
            setProgress((current) => ({ ...(current ?? START), finalAnswer: String(item.content ?? '') }));
          } else if (item.type === 'complete') {
            const result = item as unknown as AskResult;
            setProgress((current) => ({ ...(current ?? START), finalAnswer: result.final_answer, result }));
          } else if (item.type === 'error') {
            setError(String(item.message ?? t('ask.failed')));
          }
        },
        abort.current.signal,
      );
    } catch (caught) {
      if (!(caught instanceof DOMException && caught.name === 'AbortError')) setError(caught);
    } finally {
      setRunning(false);
    }
  };

  const result = progress?.result ?? null;
  return (
    <div>
      <form onSubmit={(event) => void ask(event)} className="mb-4 flex flex-wrap gap-2">
        <input
          aria-label={t('ask.question')}
          placeholder={t('ask.placeholder')}
          className={`${inputClass.replace('w-full ', '')} min-w-60 flex-1`}
          value={question}
          onChange={(event) => setQuestion(event.target.value)}
        />
        <Button type="submit" variant="primary" disabled={!question.trim() || running}>{t('ask.submit')}</Button>
        {running && <Button onClick={() => abort.current?.abort()}>{t('chat.stop')}</Button>}
      </form>
      <ErrorText error={error} />
      {progress && (
        <div className="space-y-3" aria-live="polite">
          {progress.searches.length > 0 && (
            <div className="text-sm">
              <h2 className="mb-1 font-semibold">{t('ask.plan')}</h2>
              <ol className="list-decimal space-y-0.5 pl-5 text-slate-600 dark:text-slate-300">
                {progress.searches.map((search, index) => (
                  <li key={index}>
                    <span className="font-medium">{search.term}</span> — {search.instructions}
                  </li>
                ))}
              </ol>
              <p className="mt-1 text-xs text-slate-500">{t('ask.searched', { done: progress.answered, total: progress.searches.length })}</p>
            </div>
          )}
          {running && progress.finalAnswer === null && <p role="status" className="text-sm text-slate-500">{t('ask.working')}</p>}
          {progress.finalAnswer !== null && (
            <div data-testid="ask-answer" className="rounded-md border border-slate-200 p-3 dark:border-slate-700">
              <h2 className="mb-1 font-semibold">{t('ask.answer')}</h2>
              <Markdown text={numberCitations(progress.finalAnswer, result?.citations ?? [])} />
              {result && <CitationList citations={result.citations} notebookId={result.notebook_id} />}
              {result?.found_nothing && <p className="mt-1 text-xs text-slate-500">{t('ask.foundNothing')}</p>}
              {result && <SaveAnswer result={result} notebooks={notebooks} />}
            </div>
          )}
        </div>
      )}
    </div>
  );
}
