import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { fakeApi, renderWithQuery } from '../test/fakeApi';
import { SearchPage } from './SearchPage';

afterEach(() => vi.unstubAllGlobals());

const notebooks = [{ id: 'notebook:a', name: 'Thesis', description: '', archived: false, created: '', updated: '', source_count: 1, note_count: 0 }];

describe('SearchPage', () => {
  it('searches one notebook and shows sanitised snippets', async () => {
    const calls = fakeApi({
      'GET /api/notebooks': () => ({ body: notebooks }),
      'GET /api/models/defaults': () => ({ body: { default_embedding_model: null } }),
      'POST /api/search': () => ({
        body: {
          total_count: 1,
          search_type: 'text',
          results: [
            { id: 'source:1', parent_id: null, title: 'Query planning', type: 'source', relevance: 0.9, snippet: 'the <mark>planner</mark><img src=x onerror=alert(1)>' },
          ],
        },
      }),
    });
    renderWithQuery(<SearchPage />);
    expect(await screen.findByText(/Vector and hybrid search need an embedding model/)).toBeInTheDocument();
    await screen.findByRole('option', { name: 'Thesis' });
    await userEvent.type(screen.getByLabelText('Search text'), 'planner');
    await userEvent.selectOptions(screen.getByLabelText('Notebook'), 'notebook:a');
    await userEvent.click(screen.getByRole('button', { name: 'Search' }));
    const result = await screen.findByTestId('search-result');
    expect(result.querySelector('mark')?.textContent).toBe('planner');
    expect(result.querySelector('img')).toBeNull();
    expect(screen.getByRole('link', { name: 'Query planning' })).toHaveAttribute('href', '/sources/source%3A1');
    const request = calls.find((call) => call.method === 'POST')!;
    expect(request.body).toMatchObject({ query: 'planner', type: 'text', notebook_id: 'notebook:a' });
  });

  it('defaults to hybrid search once an embedding model is set', async () => {
    const calls = fakeApi({
      'GET /api/notebooks': () => ({ body: [] }),
      'GET /api/models/defaults': () => ({ body: { default_embedding_model: 'model:embed' } }),
      'POST /api/search': () => ({ body: { total_count: 0, search_type: 'hybrid', results: [] } }),
    });
    renderWithQuery(<SearchPage />);
    await waitFor(() => expect(screen.getByLabelText('Search type')).toHaveValue('hybrid'));
    await userEvent.type(screen.getByLabelText('Search text'), 'x');
    await userEvent.click(screen.getByRole('button', { name: 'Search' }));
    expect(await screen.findByText('0 results')).toBeInTheDocument();
    expect(calls.find((call) => call.method === 'POST')!.body).toMatchObject({ type: 'hybrid' });
    expect(screen.queryByText(/Vector and hybrid search need an embedding model/)).toBeNull();
  });

  it('asks, opens a citation and saves the answer', async () => {
    const citation = { id: 'chunk:1_0', kind: 'chunk', source_id: 'source:1', chunk_index: 0, title: 'SQL tutorial' };
    const calls = fakeApi({
      'GET /api/notebooks': () => ({ body: notebooks }),
      'GET /api/models/defaults': () => ({ body: {} }),
      'POST /api/search/ask': () => ({
        events: [
          { type: 'strategy', reasoning: 'Look for SELECT.', searches: [{ term: 'select rows', instructions: 'Find passages about SELECT' }] },
          { type: 'answer', content: 'SELECT reads rows.', term: 'select rows', passage_count: 1, citations: [citation] },
          { type: 'final_answer', content: 'SELECT reads rows [chunk:1_0].' },
          {
            type: 'complete',
            question: 'What does SELECT do?',
            notebook_id: 'notebook:a',
            final_answer: 'SELECT reads rows [chunk:1_0].',
            citations: [citation],
            rejected_citations: [],
            evidence: [citation],
            found_nothing: false,
            search_type: 'text',
          },
        ],
      }),
      'POST /api/chat/context': () => ({
        body: { context: { sources: [{ id: 'source:1', title: 'SQL tutorial', mode: 'full content', chunks: [{ id: 'chunk:1_0', index: 0, content: 'SELECT reads rows from a table.' }] }], notes: [] }, token_count: 9, char_count: 30 },
      }),
      'POST /api/notes': () => ({ body: { id: 'note:1' } }),
    });
    renderWithQuery(<SearchPage />);
    await userEvent.click(screen.getByRole('tab', { name: 'Ask' }));
    await screen.findByRole('option', { name: 'Thesis' });
    await userEvent.selectOptions(screen.getByLabelText('Notebook'), 'notebook:a');
    await userEvent.type(screen.getByLabelText('Question'), 'What does SELECT do?');
    await userEvent.click(screen.getByRole('button', { name: 'Ask' }));

    const answer = await screen.findByTestId('ask-answer');
    expect(answer).toHaveTextContent('SELECT reads rows [1].');
    expect(screen.getByText('select rows')).toBeInTheDocument();
    expect(screen.getByText('1 of 1 searches answered')).toBeInTheDocument();
    expect(calls.find((call) => call.path === '/api/search/ask')!.body).toEqual({ question: 'What does SELECT do?', notebook_id: 'notebook:a' });

    await userEvent.click(await within(answer).findByTestId('citation'));
    expect(await within(screen.getByRole('dialog')).findByTestId('cited-passage')).toHaveTextContent('SELECT reads rows from a table.');
    await userEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Close' }));

    expect(within(answer).getByLabelText('Notebook to save the answer in')).toHaveValue('notebook:a');
    await userEvent.click(within(answer).getByRole('button', { name: 'Save answer as note' }));
    expect(await within(answer).findByRole('button', { name: 'Saved as a note' })).toBeDisabled();
    expect(calls.find((call) => call.path === '/api/notes')!.body).toEqual({
      title: 'What does SELECT do?',
      content: 'SELECT reads rows [chunk:1_0].',
      note_type: 'ai',
      notebook_id: 'notebook:a',
    });
  });

  it('shows an error the ask stream reports', async () => {
    fakeApi({
      'GET /api/notebooks': () => ({ body: [] }),
      'GET /api/models/defaults': () => ({ body: {} }),
      'POST /api/search/ask': () => ({ events: [{ type: 'error', message: 'no default chat model is set' }] }),
    });
    window.history.replaceState(null, '', '/search?mode=ask');
    renderWithQuery(<SearchPage />);
    await userEvent.type(screen.getByLabelText('Question'), 'Why?');
    await userEvent.click(screen.getByRole('button', { name: 'Ask' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('no default chat model is set');
    window.history.replaceState(null, '', '/');
  });
});
