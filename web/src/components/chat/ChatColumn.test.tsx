import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ChatContext, Citation, ContextConfig } from '../../api/types';
import { type Call, fakeApi, renderWithQuery } from '../../test/fakeApi';
import { ChatColumn } from './ChatColumn';
import { numberCitations } from './Citations';

afterEach(() => {
  sessionStorage.clear();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  window.history.replaceState(null, '', '/');
});

const citation = { id: 'chunk:1_0', kind: 'chunk', source_id: 'source:1', chunk_index: 0, title: 'SQL tutorial' };
const PASSAGE = 'SELECT reads rows from a table and returns them.';

// The notebook's context as the API builds it for `config`: two sources of 1000 and 3000 tokens
// and one note of 500, each counted only when included.
function contextFor(config: ContextConfig | undefined): ChatContext {
  const all = [
    { id: 'source:1', title: 'SQL tutorial', mode: 'full content' as const, tokens: 1000, chunks: [{ id: 'chunk:1_0', index: 0, content: PASSAGE }] },
    { id: 'source:2', title: 'LaTeX guide', mode: 'full content' as const, tokens: 3000, chunks: [] },
  ];
  const sources = all.filter((source) => !config?.sources || (config.sources[source.id] ?? 'not in') !== 'not in');
  const notes = [{ id: 'note:1', title: 'Plan', content: 'Read SQL first', tokens: 500 }].filter(
    (note) => !config?.notes || (config.notes[note.id] ?? 'not in') !== 'not in',
  );
  const tokens = [...sources, ...notes].reduce((sum, item) => sum + item.tokens, 0);
  return {
    context: {
      sources: sources.map(({ id, title, mode, chunks }) => ({ id, title, mode, chunks })),
      notes: notes.map(({ id, title, content }) => ({ id, title, content })),
    },
    token_count: tokens,
    char_count: tokens * 4,
  };
}

// Routes of a notebook chat with one model whose credential sets a window of `numCtx` tokens.
function chatRoutes(numCtx: number | null, sessions: unknown[] = []) {
  return {
    'GET /api/chat/sessions': () => ({ body: sessions }),
    'GET /api/config': () => ({ body: { version: '0.1.0', dbStatus: 'online', schemaVersion: 1, settings: { OPEN_NOTEBOOK_CONTEXT_WINDOW_TOKENS: 16384 } } }),
    'GET /api/models/defaults': () => ({ body: { default_chat_model: 'model:chat' } }),
    'GET /api/models': () => ({ body: [{ id: 'model:chat', name: 'fake-chat', provider: 'openai_compatible', type: 'language', credential: 'credential:1' }] }),
    'GET /api/credentials': () => ({ body: [{ id: 'credential:1', name: 'Local', provider: 'openai_compatible', num_ctx: numCtx }] }),
    'POST /api/chat/context': (call: Call) => ({ body: contextFor((call.body as { context_config?: ContextConfig }).context_config) }),
  };
}

describe('ChatColumn', () => {
  it('says so when the server has no chat routes', async () => {
    fakeApi({ 'GET /api/chat/sessions': () => ({ status: 404, body: { detail: 'Not Found: no route for /api/chat/sessions' } }) });
    renderWithQuery(<ChatColumn notebookId="notebook:a" />);
    expect(await screen.findByText(/does not offer chat yet/)).toBeInTheDocument();
  });

  it('streams an answer and opens the cited passage', async () => {
    let stored: unknown[] = [];
    const calls = fakeApi({
      ...chatRoutes(128000),
      'POST /api/chat/execute/stream': () => {
        stored = [
          { id: 'chat_message:1', type: 'human', content: 'What is SELECT?' },
          { id: 'chat_message:2', type: 'ai', content: 'It reads rows [chunk:1_0].', citations: [citation] },
        ];
        return {
          events: [
            { type: 'user_message', id: 'chat_message:1', session_id: 'chat_session:1', content: 'What is SELECT?' },
            { type: 'token', content: 'It reads ' },
            { type: 'token', content: 'rows.' },
            { type: 'ai_message', id: 'chat_message:2', session_id: 'chat_session:1', content: 'It reads rows [chunk:1_0].', citations: [citation] },
            { type: 'complete', session_id: 'chat_session:1' },
          ],
        };
      },
      'GET /api/chat/sessions/chat_session:1': () => ({ body: { id: 'chat_session:1', title: 'Chat', messages: stored } }),
    });
    renderWithQuery(<ChatColumn notebookId="notebook:a" />);
    expect(await screen.findByText('Context: 4,500 of 128,000 tokens')).toBeInTheDocument();

    await userEvent.type(screen.getByLabelText('Question'), 'What is SELECT?');
    await userEvent.keyboard('{Control>}{Enter}{/Control}');
    // The stored answer replaces the streamed text, its citation ids numbered as the buttons are.
    expect(await screen.findByText('It reads rows [1].')).toBeInTheDocument();
    const request = calls.find((call) => call.path === '/api/chat/execute/stream')!;
    expect(request.body).toEqual({ notebook_id: 'notebook:a', message: 'What is SELECT?' });
    await waitFor(() => expect(calls.some((call) => call.path === '/api/chat/sessions/chat_session:1')).toBe(true));

    await userEvent.click(await screen.findByTestId('citation'));
    const dialog = await screen.findByRole('dialog', { name: 'SQL tutorial' });
    expect(await within(dialog).findByTestId('cited-passage')).toHaveTextContent(PASSAGE);
    const passageRequest = calls.filter((call) => call.path === '/api/chat/context').at(-1)!;
    expect(passageRequest.body).toEqual({ notebook_id: 'notebook:a', context_config: { sources: { 'source:1': 'full content' }, notes: {} } });
    expect(within(dialog).getByRole('link', { name: 'Open the source at this passage' })).toHaveAttribute(
      'href',
      '/sources/source%3A1?chunk=0&notebook=notebook%3Aa',
    );
    // Keyboard: focus is inside the dialog, and Escape closes it.
    expect(dialog.contains(document.activeElement)).toBe(true);
    await userEvent.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });

  it('sends and counts the chosen context', async () => {
    const calls = fakeApi({ ...chatRoutes(null), 'POST /api/chat/execute/stream': () => ({ events: [{ type: 'complete' }] }) });
    renderWithQuery(<ChatColumn notebookId="notebook:a" />);
    // Without num_ctx on the credential, the window is the server's OPEN_NOTEBOOK_CONTEXT_WINDOW_TOKENS.
    expect(await screen.findByText('Context: 4,500 of 16,384 tokens')).toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();

    await userEvent.click(screen.getByRole('button', { name: 'Choose context' }));
    const panel = screen.getByTestId('context-panel');
    await userEvent.selectOptions(within(panel).getByLabelText('Context for LaTeX guide'), 'not in');
    await userEvent.selectOptions(within(panel).getByLabelText('Context for Plan'), 'not in');
    expect(await screen.findByText('Context: 1,000 of 16,384 tokens')).toBeInTheDocument();
    // A source left out stays listed, so it can be put back.
    expect(within(panel).getByLabelText('Context for LaTeX guide')).toHaveValue('not in');

    await userEvent.type(screen.getByLabelText('Question'), 'What is SELECT?');
    await userEvent.click(screen.getByRole('button', { name: 'Send' }));
    await waitFor(() => expect(calls.some((call) => call.path === '/api/chat/execute/stream')).toBe(true));
    const request = calls.find((call) => call.path === '/api/chat/execute/stream')!;
    expect((request.body as { context_config: ContextConfig }).context_config).toEqual({
      sources: { 'source:1': 'full content', 'source:2': 'not in' },
      notes: { 'note:1': 'not in' },
    });
  });

  it('keeps context choices after a remount', async () => {
    fakeApi(chatRoutes(null));
    const first = renderWithQuery(<ChatColumn notebookId="notebook:a" />);
    await userEvent.click(await screen.findByRole('button', { name: 'Choose context' }));
    await userEvent.selectOptions(await screen.findByLabelText('Context for LaTeX guide'), 'not in');
    expect(await screen.findByText('Context: 1,500 of 16,384 tokens')).toBeInTheDocument();
    first.unmount();

    renderWithQuery(<ChatColumn notebookId="notebook:a" />);
    expect(await screen.findByText('Context: 1,500 of 16,384 tokens')).toBeInTheDocument();
  });

  it('counts the context again when a source changes', async () => {
    let tokens = 100;
    const calls = fakeApi({
      ...chatRoutes(null),
      'POST /api/chat/context': () => ({ body: { context: { sources: [], notes: [] }, token_count: tokens, char_count: 0 } }),
    });
    const { client } = renderWithQuery(<ChatColumn notebookId="notebook:a" />);
    expect(await screen.findByText('Context: 100 of 16,384 tokens')).toBeInTheDocument();

    // The sources column's cached list changes: a source finished processing.
    tokens = 2100;
    act(() => {
      client.setQueryData(['sources', 'notebook:a'], { pages: [[{ id: 'source:1', status: 'completed', insights_count: 0, updated: 't1' }]], pageParams: [0] });
    });
    expect(await screen.findByText('Context: 2,100 of 16,384 tokens')).toBeInTheDocument();
    expect(calls.filter((call) => call.path === '/api/chat/context')).toHaveLength(2);
  });

  it('blocks sending while the context exceeds the window', async () => {
    const calls = fakeApi({ ...chatRoutes(4000), 'POST /api/chat/execute/stream': () => ({ events: [{ type: 'complete' }] }) });
    renderWithQuery(<ChatColumn notebookId="notebook:a" />);
    expect(await screen.findByText('Context: 4,500 of 4,000 tokens')).toBeInTheDocument();
    expect(screen.getByRole('alert')).toHaveTextContent("larger than the model's context window");
    await userEvent.type(screen.getByLabelText('Question'), 'What is SELECT?{Control>}{Enter}{/Control}');
    expect(screen.getByRole('button', { name: 'Send' })).toBeDisabled();

    await userEvent.click(screen.getByRole('button', { name: 'Choose context' }));
    await userEvent.selectOptions(within(screen.getByTestId('context-panel')).getByLabelText('Context for LaTeX guide'), 'not in');
    expect(await screen.findByText('Context: 1,500 of 4,000 tokens')).toBeInTheDocument();
    expect(calls.some((call) => call.path === '/api/chat/execute/stream')).toBe(false);
    await userEvent.click(screen.getByRole('button', { name: 'Send' }));
    await waitFor(() => expect(calls.some((call) => call.path === '/api/chat/execute/stream')).toBe(true));
  });

  it('renames and deletes a session', async () => {
    let sessions = [
      { id: 'chat_session:1', title: 'First', message_count: 0 },
      { id: 'chat_session:2', title: 'Second', message_count: 0 },
    ];
    const calls = fakeApi({
      ...chatRoutes(null, []),
      'GET /api/chat/sessions': () => ({ body: sessions }),
      'GET /api/chat/sessions/chat_session:1': () => ({ body: { ...sessions[0], messages: [] } }),
      'GET /api/chat/sessions/chat_session:2': () => ({ body: { ...sessions[1], messages: [] } }),
      'PUT /api/chat/sessions/chat_session:1': (call) => {
        sessions = sessions.map((item) => (item.id === 'chat_session:1' ? { ...item, title: (call.body as { title: string }).title } : item));
        return { body: sessions[0] };
      },
      'DELETE /api/chat/sessions/chat_session:1': () => {
        sessions = sessions.filter((item) => item.id !== 'chat_session:1');
        return { body: { deleted: true } };
      },
    });
    vi.spyOn(window, 'confirm').mockReturnValue(true);
    renderWithQuery(<ChatColumn notebookId="notebook:a" />);
    const picker = await screen.findByLabelText('Chat session');
    await waitFor(() => expect(picker).toHaveValue('chat_session:1'));

    await userEvent.click(screen.getByRole('button', { name: 'Rename session' }));
    const title = screen.getByLabelText('Session title');
    await userEvent.clear(title);
    await userEvent.type(title, 'SQL questions{Enter}');
    expect(await screen.findByRole('option', { name: 'SQL questions' })).toBeInTheDocument();
    expect(calls.find((call) => call.method === 'PUT')!.body).toEqual({ title: 'SQL questions' });

    await userEvent.click(screen.getByRole('button', { name: 'Delete session' }));
    await waitFor(() => expect(screen.queryByRole('option', { name: 'SQL questions' })).not.toBeInTheDocument());
    expect(screen.getByLabelText('Chat session')).toHaveValue('chat_session:2');
  });

  it('saves an answer as a note of the notebook', async () => {
    const calls = fakeApi({
      ...chatRoutes(null, [{ id: 'chat_session:1', title: 'Chat' }]),
      'GET /api/chat/sessions/chat_session:1': () => ({
        body: { id: 'chat_session:1', title: 'Chat', messages: [{ id: 'chat_message:2', type: 'ai', content: 'An answer', citations: [] }] },
      }),
      'POST /api/chat/sessions/chat_session:1/messages/chat_message:2/save-as-note': () => ({ body: { id: 'note:9' } }),
    });
    renderWithQuery(<ChatColumn notebookId="notebook:a" />);
    await userEvent.click(await screen.findByRole('button', { name: 'Save as note' }));
    expect(await screen.findByRole('button', { name: 'Saved as a note' })).toBeDisabled();
    expect(calls.find((call) => call.path.endsWith('/save-as-note'))!.body).toEqual({ notebook_id: 'notebook:a' });
  });
});

describe('numberCitations', () => {
  it('numbers cited ids as the buttons are', () => {
    const second = { id: 'note:7', kind: 'note' as const };
    expect(numberCitations('A [chunk:1_0] and [note:7], again [chunk:1_0]; [note:8] stays.', [citation as Citation, second])).toBe(
      'A [1] and [2], again [1]; [note:8] stays.',
    );
  });
});
