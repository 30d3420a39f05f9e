// Loads the text a citation points at, for the passage panel and the highlighted source view.
import type { QueryClient } from '@tanstack/react-query';
import { api } from './client';
import type { ChatContext, Citation, Insight, Note, Source } from './types';

export interface Passage {
  title: string;
  text: string;
  // The source the passage belongs to, for "open the source"; null for notes.
  sourceId: string | null;
  chunkIndex: number | null;
}

// The source a citation belongs to: its own id for a source, the owner for a chunk or insight.
export function citedSourceId(citation: Citation): string | null {
  if (citation.source_id) return citation.source_id;
  return citation.kind === 'source' ? citation.id : null;
}

type Chunk = { index: number; content: string };

// Loads the chunks of a source with their text. The API has no route for one chunk, so this
// requests /api/chat/context with that one source in full and no notes.
// NOTE: the response contains every chunk of the source, about the size of its text. It is cached per
// source, so several citations of one source cost one request.
export function loadChunks(queryClient: QueryClient, notebookId: string, sourceId: string): Promise<Chunk[]> {
  return queryClient.fetchQuery({
    queryKey: ['source-chunks', notebookId, sourceId],
    staleTime: 60_000,
    queryFn: async () => {
      const context = await api<ChatContext>('/chat/context', {
        method: 'POST',
        json: { notebook_id: notebookId, context_config: { sources: { [sourceId]: 'full content' }, notes: {} } },
      });
      return context.context.sources.find((item) => item.id === sourceId)?.chunks ?? [];
    },
  });
}

// Loads the passage of `citation`. A chunk needs a notebook that contains its source. Without
// one, or when the chunk is gone, the passage is the source's text, so the reader still gets to
// the cited document.
export async function loadPassage(queryClient: QueryClient, citation: Citation, notebookId: string | null): Promise<Passage> {
  const title = citation.title ?? citation.id;
  if (citation.kind === 'note') {
    const note = await api<Note>(`/notes/${encodeURIComponent(citation.id)}`);
    return { title: note.title ?? title, text: note.content ?? '', sourceId: null, chunkIndex: null };
  }
  if (citation.kind === 'insight') {
    const insight = await api<Insight>(`/insights/${encodeURIComponent(citation.id)}`);
    return { title: `${title} · ${insight.insight_type}`, text: insight.content, sourceId: insight.source_id, chunkIndex: null };
  }
  const sourceId = citedSourceId(citation)!;
  const chunkIndex = citation.chunk_index ?? null;
  if (chunkIndex !== null) {
    let notebook = notebookId;
    if (!notebook) {
      const source = await api<Source>(`/sources/${encodeURIComponent(sourceId)}`);
      notebook = source.notebooks?.[0] ?? null;
    }
    const chunks = notebook ? await loadChunks(queryClient, notebook, sourceId) : [];
    const chunk = chunks.find((item) => item.index === chunkIndex);
    if (chunk) return { title, text: chunk.content, sourceId, chunkIndex };
  }
  const source = await api<Source>(`/sources/${encodeURIComponent(sourceId)}`);
  return { title: source.title ?? title, text: source.full_text ?? '', sourceId, chunkIndex };
}

// The link that opens a cited source with the passage highlighted.
export function citedSourceHref(sourceId: string, chunkIndex: number | null, notebookId: string | null): string {
  const query = new URLSearchParams();
  if (chunkIndex !== null) query.set('chunk', String(chunkIndex));
  if (notebookId) query.set('notebook', notebookId);
  const search = query.toString();
  return `/sources/${encodeURIComponent(sourceId)}${search ? `?${search}` : ''}`;
}
