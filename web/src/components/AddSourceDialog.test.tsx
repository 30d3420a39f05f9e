import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { fakeApi, renderWithQuery } from '../test/fakeApi';
import { AddSourceDialog } from './AddSourceDialog';

afterEach(() => vi.unstubAllGlobals());

const transformations = [
  { id: 'transformation:dense', name: 'dense', title: 'Dense Summary', prompt: 'p', apply_default: true },
  { id: 'transformation:toc', name: 'toc', title: 'Table of Contents', prompt: 'p', apply_default: false },
];

describe('AddSourceDialog', () => {
  it('sends the chosen transformations', async () => {
    const calls = fakeApi({
      'GET /api/settings': () => ({ body: { default_embedding_option: 'never' } }),
      'GET /api/notebooks': () => ({ body: [{ id: 'notebook:a', name: 'Thesis' }] }),
      'GET /api/transformations': () => ({ body: transformations }),
      'POST /api/sources': () => ({ body: { id: 'source:1' } }),
    });
    const onClose = vi.fn();
    renderWithQuery(<AddSourceDialog notebookId="notebook:a" onClose={onClose} />);
    // Transformations marked apply_default are ticked at first.
    expect(await screen.findByLabelText('Dense Summary')).toBeChecked();
    expect(screen.getByLabelText('Table of Contents')).not.toBeChecked();

    await userEvent.click(screen.getByLabelText('Dense Summary'));
    await userEvent.click(screen.getByLabelText('Table of Contents'));
    await userEvent.click(screen.getByRole('radio', { name: 'Text' }));
    await userEvent.type(screen.getByLabelText('Text'), 'Some notes to keep');
    await userEvent.click(screen.getByRole('button', { name: 'Add' }));
    await waitFor(() => expect(onClose).toHaveBeenCalled());

    const form = calls.find((call) => call.method === 'POST')!.body as FormData;
    expect(form.get('transformations')).toBe(JSON.stringify(['transformation:toc']));
    expect(form.get('notebooks')).toBe(JSON.stringify(['notebook:a']));
    expect(form.get('content')).toBe('Some notes to keep');
  });

  it('sends no transformations when none is ticked', async () => {
    const calls = fakeApi({
      'GET /api/settings': () => ({ body: {} }),
      'GET /api/notebooks': () => ({ body: [] }),
      'GET /api/transformations': () => ({ body: transformations }),
      'POST /api/sources': () => ({ body: { id: 'source:1' } }),
    });
    renderWithQuery(<AddSourceDialog notebookId="notebook:a" onClose={() => {}} />);
    await userEvent.click(await screen.findByLabelText('Dense Summary'));
    await userEvent.click(screen.getByRole('radio', { name: 'Text' }));
    await userEvent.type(screen.getByLabelText('Text'), 'x');
    await userEvent.click(screen.getByRole('button', { name: 'Add' }));
    await waitFor(() => expect(calls.some((call) => call.method === 'POST')).toBe(true));
    expect((calls.find((call) => call.method === 'POST')!.body as FormData).has('transformations')).toBe(false);
  });
});
