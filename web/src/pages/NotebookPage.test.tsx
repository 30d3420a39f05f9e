import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { Source } from '../api/types';
import { fakeApi, renderWithQuery } from '../test/fakeApi';
import { SOURCE_PAGE_SIZE, SourcesColumn } from './NotebookPage';

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

afterEach(() => vi.unstubAllGlobals());

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
