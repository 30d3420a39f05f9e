import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { Note, Source } from '../api/types';
import { type Call, fakeApi, renderWithQuery } from '../test/fakeApi';
import { NOTE_PAGE_SIZE, NotebookPage, NotesColumn, SOURCE_PAGE_SIZE, SourcesColumn } from './NotebookPage';

function source(index: number, overrides: Partial<Source> = {}): Source {
  return {
    id: `source:${index}`,
    title: `Source ${index}`,
    asset: null,
    embedded: false,
    embedded_chunks: 0,
    insights_count: 0,
    created: '',
    updated: '',
    file_available: false,
    command_id: null,
    status: 'completed',
    processing_info: null,
    ...overrides,
  };
}

function note(index: number): Note {
  return { id: `note:${index}`, title: `Note ${index}`, content: null, note_type: 'human', created: '', updated: '' };
}

// Serves `GET path` as a paged list of `items`, honouring limit and offset as the API does, or
// the whole list when the request gives no limit.
function paged<T>(items: T[]) {
  return (call: Call) => {
    const limit = call.query.get('limit');
    const offset = Number(call.query.get('offset') ?? 0);
    return { body: limit === null ? items : items.slice(offset, offset + Number(limit)) };
  };
}

afterEach(() => vi.unstubAllGlobals());

describe('NotebookPage', () => {
  // Opens the page of a notebook with `count` sources and `count` notes and returns the requests
  // made once every query has settled.
  async function openNotebook(count: number): Promise<Call[]> {
    const calls = fakeApi({
      'GET /api/notebooks/notebook:big': () => ({
        body: { id: 'notebook:big', name: 'Big', description: '', archived: false, created: '', updated: '', source_count: count, note_count: count },
      }),
      'GET /api/sources': paged(Array.from({ length: count }, (_, index) => source(index))),
      'GET /api/notes': paged(Array.from({ length: count }, (_, index) => note(index))),
      'GET /api/chat/sessions': () => ({ body: [] }),
      'POST /api/chat/context': () => ({ body: { token_count: 0, char_count: 0 } }),
      'GET /api/config': () => ({ body: { settings: {} } }),
      'GET /api/models/defaults': () => ({ body: {} }),
      'GET /api/models': () => ({ body: [] }),
      'GET /api/credentials': () => ({ body: [] }),
    });
    const { client, unmount } = renderWithQuery(<NotebookPage id="notebook:big" />);
    await waitFor(() => expect(screen.getAllByTestId('source-card')).toHaveLength(Math.min(count, SOURCE_PAGE_SIZE)));
    await waitFor(() => expect(screen.getAllByTestId('note-card')).toHaveLength(Math.min(count, NOTE_PAGE_SIZE)));
    await waitFor(() => expect(client.isFetching()).toBe(0));
    unmount();
    return calls;
  }

  it('costs the same requests for 500 sources and notes as for 5', async () => {
    const small = await openNotebook(5);
    vi.unstubAllGlobals();
    const large = await openNotebook(500);
    const summary = (calls: Call[]) => calls.map((call) => `${call.method} ${call.path}`).sort();
    expect(summary(large)).toEqual(summary(small));
    // The notebook, one page of sources and of notes, the chat sessions and context, and the
    // config, default models, models and credentials that give the chat model's window.
    expect(large.length).toBeLessThanOrEqual(9);
    // Lists are asked for one page each, and nothing is fetched per source or per note.
    for (const call of large) {
      expect(call.path).not.toMatch(/^\/api\/(sources|notes)\/./);
      if (call.path === '/api/sources' || call.path === '/api/notes') expect(call.query.get('limit')).not.toBeNull();
    }
  });
});

describe('NotebookPage with chat', () => {
  it('refetches notes after an invalidation', async () => {
    let notes = [note(1)];
    const calls = fakeApi({
      'GET /api/notebooks/notebook:a': () => ({
        body: { id: 'notebook:a', name: 'A', description: '', archived: false, created: '', updated: '', source_count: 0, note_count: 1 },
      }),
      'GET /api/sources': () => ({ body: [] }),
      'GET /api/notes': () => ({ body: notes }),
      'GET /api/chat/sessions': () => ({ body: [] }),
      'POST /api/chat/context': () => ({ body: { context: { sources: [], notes: [] }, token_count: 0, char_count: 0 } }),
      'GET /api/config': () => ({ body: { settings: {} } }),
      'GET /api/models/defaults': () => ({ body: {} }),
      'GET /api/models': () => ({ body: [] }),
      'GET /api/credentials': () => ({ body: [] }),
    });
    const { client } = renderWithQuery(<NotebookPage id="notebook:a" />);
    await waitFor(() => expect(screen.getAllByTestId('note-card')).toHaveLength(1));
    await waitFor(() => expect(client.isFetching()).toBe(0));

    // The chat column watches the notes list; a saved note must still reach the list.
    notes = [note(1), note(2)];
    await act(() => client.invalidateQueries({ queryKey: ['notes', 'notebook:a'] }));
    await waitFor(() => expect(screen.getAllByTestId('note-card')).toHaveLength(2));
    expect(calls.filter((call) => call.path === '/api/notes')).toHaveLength(2);
  });
});

describe('NotesColumn', () => {
  it('loads a notebook of 500 notes one page at a time', async () => {
    const calls = fakeApi({ 'GET /api/notes': paged(Array.from({ length: 500 }, (_, index) => note(index))) });
    renderWithQuery(<NotesColumn notebookId="notebook:big" />);
    await waitFor(() => expect(screen.getAllByTestId('note-card')).toHaveLength(NOTE_PAGE_SIZE));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.query.get('limit')).toBe(String(NOTE_PAGE_SIZE));

    await userEvent.click(screen.getByRole('button', { name: 'Load more' }));
    await waitFor(() => expect(screen.getAllByTestId('note-card')).toHaveLength(2 * NOTE_PAGE_SIZE));
    expect(calls).toHaveLength(2);
    expect(calls[1]!.query.get('offset')).toBe(String(NOTE_PAGE_SIZE));
    expect(screen.getByText('Note 99')).toBeInTheDocument();
  });
});

describe('SourcesColumn', () => {
  it('loads a notebook of 500 sources one page at a time', async () => {
    const all = Array.from({ length: 500 }, (_, index) => source(index));
    const calls = fakeApi({
      'GET /api/sources': (call) => {
        const offset = Number(call.query.get('offset'));
        const limit = Number(call.query.get('limit'));
        return { body: all.slice(offset, offset + limit) };
      },
    });
    renderWithQuery(<SourcesColumn notebookId="notebook:big" />);
    await waitFor(() => expect(screen.getAllByTestId('source-card')).toHaveLength(SOURCE_PAGE_SIZE));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.query.get('notebook_id')).toBe('notebook:big');

    await userEvent.click(screen.getByRole('button', { name: 'Load more' }));
    await waitFor(() => expect(screen.getAllByTestId('source-card')).toHaveLength(2 * SOURCE_PAGE_SIZE));
    expect(calls).toHaveLength(2);
    expect(calls[1]!.query.get('offset')).toBe(String(SOURCE_PAGE_SIZE));
  });

  it('shows stage and progress, and the reason and Retry for a failed source', async () => {
    const calls = fakeApi({
      'GET /api/sources': () => ({
        body: [
          source(1, { status: 'running', processing_info: { stage: 'extracting', percent: 40 } }),
          source(2, { status: 'failed', processing_info: { error: 'pdftotext stopped: the PDF is encrypted' } }),
        ],
      }),
      'POST /api/sources/source:2/retry': () => ({ body: source(2, { status: 'queued' }) }),
    });
    renderWithQuery(<SourcesColumn notebookId="notebook:a" />);
    const cards = await screen.findAllByTestId('source-card');
    expect(within(cards[0]!).getByText('Stage: extracting')).toBeInTheDocument();
    expect(within(cards[0]!).getByRole('progressbar')).toHaveAttribute('aria-valuenow', '40');
    expect(within(cards[0]!).getByText('Processing')).toBeInTheDocument();
    expect(within(cards[1]!).getByText('pdftotext stopped: the PDF is encrypted')).toBeInTheDocument();
    await userEvent.click(within(cards[1]!).getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(calls.some((call) => call.method === 'POST')).toBe(true));
  });
});
