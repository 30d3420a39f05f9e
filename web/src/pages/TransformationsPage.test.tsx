import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { Transformation } from '../api/types';
import { fakeApi, renderWithQuery } from '../test/fakeApi';
import { TransformationsPage } from './TransformationsPage';

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

const summary: Transformation = { id: 'transformation:1', name: 'summary', title: 'Summary', description: 'Short', prompt: 'Summarise the text.', apply_default: false, model_id: null };

// An in-memory transformation store behind the routes the page uses.
function transformationRoutes(initial: Transformation[]) {
  let list = [...initial];
  let created = 0;
  return {
    'GET /api/transformations': () => ({ body: list }),
    'POST /api/transformations': (call: { body: unknown }) => {
      created += 1;
      const item = { ...(call.body as Transformation), id: `transformation:new${created}` };
      list = [...list, item];
      return { body: item };
    },
    'PUT /api/transformations/transformation:1': (call: { body: unknown }) => {
      list = list.map((item) => (item.id === 'transformation:1' ? { ...item, ...(call.body as Partial<Transformation>) } : item));
      return { body: list[0] };
    },
    'DELETE /api/transformations/transformation:1': () => {
      list = list.filter((item) => item.id !== 'transformation:1');
      return { body: { deleted: true } };
    },
    'GET /api/transformations/default-prompt': () => ({ body: { transformation_instructions: 'Be concise.' } }),
    'PUT /api/transformations/default-prompt': (call: { body: unknown }) => ({ body: call.body }),
    'GET /api/models': () => ({ body: [{ id: 'model:chat', name: 'fake-chat', provider: 'openai_compatible', type: 'language', credential: null }] }),
    'GET /api/sources': () => ({ body: [{ id: 'source:1', title: 'SQL tutorial' }] }),
    'GET /api/sources/source:1': () => ({ body: { id: 'source:1', title: 'SQL tutorial', full_text: 'SELECT reads rows.' } }),
    'POST /api/transformations/execute': () => ({ body: { output: 'A **summary**', transformation_id: 'transformation:1', model_id: 'model:chat', parts: 1 } }),
  };
}

describe('TransformationsPage', () => {
  it('creates a transformation', async () => {
    const calls = fakeApi(transformationRoutes([]));
    renderWithQuery(<TransformationsPage />);
    expect(await screen.findByText('No transformations yet.')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'New transformation' }));
    const dialog = screen.getByRole('dialog');
    await userEvent.type(within(dialog).getByLabelText('Name (used in the API)'), 'key_points');
    await userEvent.type(within(dialog).getByLabelText('Title (shown on insights)'), 'Key points');
    await userEvent.type(within(dialog).getByLabelText('Prompt'), 'List the key points.');
    await userEvent.click(within(dialog).getByLabelText('Suggest for new sources'));
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    expect(await screen.findByRole('heading', { name: 'Key points' })).toBeInTheDocument();
    expect(calls.find((call) => call.method === 'POST' && call.path === '/api/transformations')!.body).toEqual({
      name: 'key_points',
      title: 'Key points',
      description: '',
      prompt: 'List the key points.',
      apply_default: true,
    });
  });

  it('edits, sets as default and deletes a transformation', async () => {
    const calls = fakeApi(transformationRoutes([summary]));
    vi.spyOn(window, 'confirm').mockReturnValue(true);
    renderWithQuery(<TransformationsPage />);
    const card = await screen.findByTestId('transformation-card');

    await userEvent.click(within(card).getByRole('button', { name: 'Edit' }));
    const dialog = screen.getByRole('dialog');
    const title = within(dialog).getByLabelText('Title (shown on insights)');
    await userEvent.clear(title);
    await userEvent.type(title, 'Short summary');
    await userEvent.selectOptions(within(dialog).getByLabelText('Model'), 'model:chat');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    expect(await screen.findByRole('heading', { name: 'Short summary' })).toBeInTheDocument();
    expect(calls.find((call) => call.method === 'PUT')!.body).toMatchObject({ title: 'Short summary', model_id: 'model:chat' });

    await userEvent.click(within(screen.getByTestId('transformation-card')).getByLabelText('Default'));
    await waitFor(() => expect(within(screen.getByTestId('transformation-card')).getByLabelText('Default')).toBeChecked());
    expect(calls.filter((call) => call.method === 'PUT').at(-1)!.body).toEqual({ apply_default: true });

    await userEvent.click(within(screen.getByTestId('transformation-card')).getByRole('button', { name: 'Delete' }));
    expect(await screen.findByText('No transformations yet.')).toBeInTheDocument();
  });

  it('runs a transformation on a source in the playground', async () => {
    const calls = fakeApi(transformationRoutes([summary]));
    renderWithQuery(<TransformationsPage />);
    await screen.findByTestId('transformation-card');
    await screen.findByRole('option', { name: 'SQL tutorial' });
    await userEvent.selectOptions(screen.getByLabelText('Transformation'), 'transformation:1');
    await userEvent.selectOptions(screen.getByLabelText('Source'), 'source:1');
    await waitFor(() => expect(screen.getByLabelText('Input text')).toHaveValue('SELECT reads rows.'));
    await userEvent.click(screen.getByRole('button', { name: 'Run' }));
    expect(await screen.findByTestId('transformation-output')).toHaveTextContent('A summary');
    expect(calls.find((call) => call.path === '/api/transformations/execute')!.body).toEqual({
      transformation_id: 'transformation:1',
      input_text: 'SELECT reads rows.',
    });
  });

  it('saves the instructions for every transformation', async () => {
    const calls = fakeApi(transformationRoutes([]));
    renderWithQuery(<TransformationsPage />);
    const box = await screen.findByLabelText('Instructions for every transformation');
    await waitFor(() => expect(box).toHaveValue('Be concise.'));
    await userEvent.clear(box);
    await userEvent.type(box, 'Answer in English.');
    const card = box.closest('div')!;
    await userEvent.click(within(card).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(calls.some((call) => call.method === 'PUT')).toBe(true));
    expect(calls.find((call) => call.method === 'PUT')!.body).toEqual({ transformation_instructions: 'Answer in English.' });
  });
});
