import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { Source } from '../api/types';
import { fakeApi, renderWithQuery } from '../test/fakeApi';
import { SourcePage } from './SourcePage';

const TEXT = 'Chapter one introduces tables.\n\nSELECT reads rows from a table.\n\nChapter three covers joins.';

function source(overrides: Partial<Source> = {}): Source {
  return {
    id: 'source:1',
    title: 'SQL tutorial',
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
    full_text: TEXT,
    notebooks: ['notebook:a'],
    ...overrides,
  };
}

const baseRoutes = {
  'GET /api/sources/source:1': () => ({ body: source() }),
  'GET /api/notebooks': () => ({ body: [] }),
  'GET /api/transformations': () => ({ body: [{ id: 'transformation:1', name: 'summary', title: 'Summary', prompt: 'Summarise' }] }),
};

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  window.history.replaceState(null, '', '/');
});

describe('SourcePage', () => {
  it('highlights the cited passage in the text', async () => {
    window.history.replaceState(null, '', '/sources/source%3A1?chunk=1&notebook=notebook%3Aa');
    const calls = fakeApi({
      ...baseRoutes,
      'GET /api/sources/source:1/insights': () => ({ body: [] }),
      'POST /api/chat/context': () => ({
        body: {
          context: {
            sources: [{ id: 'source:1', title: 'SQL tutorial', mode: 'full content', chunks: [
              { id: 'chunk:1_0', index: 0, content: 'Chapter one introduces tables.' },
              { id: 'chunk:1_1', index: 1, content: 'SELECT reads rows from a table.' },
            ] }],
            notes: [],
          },
          token_count: 20,
          char_count: 80,
        },
      }),
    });
    renderWithQuery(<SourcePage id="source:1" />);
    const mark = await screen.findByTestId('cited-passage');
    expect(mark.tagName).toBe('MARK');
    expect(mark).toHaveTextContent(/^SELECT reads rows from a table\.$/);
    expect(screen.getByTestId('source-content')).toHaveTextContent('Chapter three covers joins.');
    expect(screen.getByText('Opened from a citation: passage 2 of this source.')).toBeInTheDocument();
    const request = calls.find((call) => call.path === '/api/chat/context')!;
    expect(request.body).toEqual({ notebook_id: 'notebook:a', context_config: { sources: { 'source:1': 'full content' }, notes: {} } });
  });

  it('says so when the cited passage no longer exists', async () => {
    window.history.replaceState(null, '', '/sources/source%3A1?chunk=7');
    fakeApi({
      ...baseRoutes,
      'GET /api/sources/source:1/insights': () => ({ body: [] }),
      'POST /api/chat/context': () => ({ body: { context: { sources: [{ id: 'source:1', title: 'SQL', mode: 'full content', chunks: [] }], notes: [] }, token_count: 0, char_count: 0 } }),
    });
    renderWithQuery(<SourcePage id="source:1" />);
    expect(await screen.findByText(/This passage no longer exists/)).toBeInTheDocument();
    expect(screen.queryByTestId('cited-passage')).not.toBeInTheDocument();
  });

  it('creates an insight with a transformation and lists it when the job completes', async () => {
    let insights: unknown[] = [];
    let jobPolls = 0;
    const calls = fakeApi({
      ...baseRoutes,
      'GET /api/sources/source:1/insights': () => ({ body: insights }),
      'POST /api/sources/source:1/insights': () => ({ status: 202, body: { status: 'queued', command_id: 'command:1' } }),
      'GET /api/commands/jobs/command:1': () => {
        jobPolls += 1;
        insights = [{ id: 'source_insight:1', source_id: 'source:1', insight_type: 'Summary', content: 'A **short** summary', transformation_id: 'transformation:1' }];
        return { body: { job_id: 'command:1', status: 'completed', error_message: null, created: '', updated: '' } };
      },
      'DELETE /api/insights/source_insight:1': () => {
        insights = [];
        return { body: { deleted: true } };
      },
      'POST /api/insights/source_insight:1/save-as-note': () => ({ body: { id: 'note:1' } }),
    });
    vi.spyOn(window, 'confirm').mockReturnValue(true);
    renderWithQuery(<SourcePage id="source:1" />);
    expect(await screen.findByText('No insights yet. Run a transformation to create one.')).toBeInTheDocument();
    await screen.findByRole('option', { name: 'Summary' });
    await userEvent.selectOptions(screen.getByLabelText('Transformation'), 'transformation:1');
    await userEvent.click(screen.getByRole('button', { name: 'Create insight' }));
    expect(await screen.findByTestId('insight-type')).toHaveTextContent('Summary');
    expect(jobPolls).toBeGreaterThan(0);
    expect(calls.find((call) => call.method === 'POST' && call.path.endsWith('/insights'))!.body).toEqual({ transformation_id: 'transformation:1' });

    const card = screen.getByTestId('insight-type').closest('li')!;
    await userEvent.click(within(card).getByRole('button', { name: 'Save as note' }));
    expect(await screen.findByText('Saved as a note.')).toBeInTheDocument();
    expect(calls.find((call) => call.path.endsWith('/save-as-note'))!.body).toEqual({ notebook_id: 'notebook:a' });

    await userEvent.click(within(card).getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(screen.queryByTestId('insight-type')).not.toBeInTheDocument());
  });

  it('shows why an insight job failed', async () => {
    fakeApi({
      ...baseRoutes,
      'GET /api/sources/source:1/insights': () => ({ body: [] }),
      'POST /api/sources/source:1/insights': () => ({ status: 202, body: { command_id: 'command:2' } }),
      'GET /api/commands/jobs/command:2': () => ({ body: { job_id: 'command:2', status: 'failed', error_message: 'no default transformation model', created: '', updated: '' } }),
    });
    renderWithQuery(<SourcePage id="source:1" />);
    await screen.findByRole('option', { name: 'Summary' });
    await userEvent.selectOptions(screen.getByLabelText('Transformation'), 'transformation:1');
    await userEvent.click(screen.getByRole('button', { name: 'Create insight' }));
    expect(await screen.findByText('The insight could not be created: no default transformation model')).toBeInTheDocument();
  });
});
