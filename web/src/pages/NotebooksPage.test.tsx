import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { Notebook } from '../api/types';
import { fakeApi, renderWithQuery } from '../test/fakeApi';
import { NotebooksPage } from './NotebooksPage';

function notebook(id: string, name: string, archived = false): Notebook {
  return { id, name, description: '', archived, created: '', updated: '', source_count: 3, note_count: 1 };
}

afterEach(() => vi.unstubAllGlobals());

describe('NotebooksPage', () => {
  it('lists active and archived notebooks with their counts', async () => {
    fakeApi({
      'GET /api/notebooks': (call) => ({
        body: call.query.get('archived') === 'true' ? [notebook('notebook:old', 'Old project', true)] : [notebook('notebook:a', 'Thesis')],
      }),
    });
    renderWithQuery(<NotebooksPage />);
    const active = await screen.findByRole('region', { name: 'Active notebooks' });
    expect(await within(active).findByText('Thesis')).toBeInTheDocument();
    expect(within(active).getByText('Sources: 3 · Notes: 1')).toBeInTheDocument();
    const archived = screen.getByRole('region', { name: 'Archived notebooks' });
    expect(await within(archived).findByText('Old project')).toBeInTheDocument();
    expect(within(archived).getByRole('button', { name: 'Unarchive' })).toBeInTheDocument();
  });

  it('creates a notebook and opens it', async () => {
    const calls = fakeApi({
      'GET /api/notebooks': () => ({ body: [] }),
      'POST /api/notebooks': (call) => ({ body: notebook('notebook:new', (call.body as { name: string }).name) }),
    });
    renderWithQuery(<NotebooksPage />);
    await userEvent.click(screen.getByRole('button', { name: 'New notebook' }));
    const dialog = screen.getByRole('dialog');
    await userEvent.type(within(dialog).getByLabelText('Name'), 'Field notes');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
    await waitFor(() => expect(window.location.pathname).toBe('/notebooks/notebook%3Anew'));
    expect(calls.find((call) => call.method === 'POST')?.body).toEqual({ name: 'Field notes', description: '' });
  });

  it('shows what a delete removes and deletes exclusive sources only when asked', async () => {
    const calls = fakeApi({
      'GET /api/notebooks': (call) => ({ body: call.query.get('archived') === 'true' ? [] : [notebook('notebook:a', 'Thesis')] }),
      'GET /api/notebooks/notebook:a/delete-preview': () => ({
        body: { notebook_id: 'notebook:a', notebook_name: 'Thesis', note_count: 4, exclusive_source_count: 2, shared_source_count: 1 },
      }),
      'DELETE /api/notebooks/notebook:a': () => ({ body: { message: 'deleted' } }),
    });
    renderWithQuery(<NotebooksPage />);
    await userEvent.click(await screen.findByRole('button', { name: 'Delete' }));
    const dialog = await screen.findByRole('dialog');
    expect(await within(dialog).findByText('Its 4 notes will be deleted.')).toBeInTheDocument();
    expect(within(dialog).getByText('1 source also belongs to other notebooks and stays there.')).toBeInTheDocument();
    await userEvent.click(within(dialog).getByLabelText('Also delete the 2 sources that belong only to this notebook'));
    await userEvent.click(within(dialog).getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(calls.some((call) => call.method === 'DELETE')).toBe(true));
    const removal = calls.find((call) => call.method === 'DELETE')!;
    expect(removal.query.get('delete_exclusive_sources')).toBe('true');
  });
});
