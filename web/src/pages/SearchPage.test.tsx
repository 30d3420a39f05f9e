import { screen, waitFor } from '@testing-library/react';
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
});
