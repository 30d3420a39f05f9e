import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { fakeApi, renderWithQuery } from '../test/fakeApi';
import { RuntimeSettings } from './RuntimeSettings';

afterEach(() => vi.unstubAllGlobals());

const stored = {
  log_level: 'info',
  worker_max_tasks: 5,
  retry_max_attempts: 3,
  retry_wait_min_s: 1,
  retry_wait_max_s: 30,
  fetch_timeout_s: 60,
  pdf_timeout_s: 300,
  chunk_size: 400,
  chunk_overlap: 60,
  sync_processing_timeout_s: 300,
  default_embedding_option: 'ask',
  config_version: 7,
};

describe('RuntimeSettings', () => {
  it('sends only the changed values with the version read', async () => {
    const calls = fakeApi({
      'GET /api/settings': () => ({ body: stored }),
      'PUT /api/settings': () => ({ body: { ...stored, worker_max_tasks: 8, config_version: 8 } }),
    });
    renderWithQuery(<RuntimeSettings />);
    const field = await screen.findByLabelText('Jobs per worker at the same time');
    await waitFor(() => expect(field).toHaveValue(5));
    await userEvent.clear(field);
    await userEvent.type(field, '8');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByRole('status')).toHaveTextContent('Saved');
    expect(calls.find((call) => call.method === 'PUT')!.body).toEqual({ config_version: 7, worker_max_tasks: 8 });
  });

  it('shows the reason of a rejected value', async () => {
    fakeApi({
      'GET /api/settings': () => ({ body: stored }),
      'PUT /api/settings': () => ({ status: 400, body: { detail: "'chunk_overlap' must be below 'chunk_size'" } }),
    });
    renderWithQuery(<RuntimeSettings />);
    const overlap = await screen.findByLabelText('Chunk overlap (tokens)');
    await waitFor(() => expect(overlap).toHaveValue(60));
    await userEvent.clear(overlap);
    await userEvent.type(overlap, '900');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByRole('alert')).toHaveTextContent("'chunk_overlap' must be below 'chunk_size'");
  });
});
