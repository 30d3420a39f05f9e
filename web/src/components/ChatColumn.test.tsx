import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { fakeApi, renderWithQuery } from '../test/fakeApi';
import { ChatColumn } from './ChatColumn';

afterEach(() => {
  vi.unstubAllGlobals();
  window.history.replaceState(null, '', '/');
});

const citation = { id: 'source:1#0', kind: 'chunk', source_id: 'source:1', chunk_index: 0, title: 'SQL tutorial' };

describe('ChatColumn', () => {
  it('says so when the server has no chat routes', async () => {
    fakeApi({ 'GET /api/chat/sessions': () => ({ status: 404, body: { detail: 'Not Found: no route for /api/chat/sessions' } }) });
    renderWithQuery(<ChatColumn notebookId="notebook:a" />);
    expect(await screen.findByText(/does not offer chat yet/)).toBeInTheDocument();
  });

  it('streams an answer and opens its citation', async () => {
    let stored: unknown[] = [];
    const calls = fakeApi({
      'GET /api/chat/sessions': () => ({ body: [] }),
      'GET /api/config': () => ({ body: { version: '0.1.0', dbStatus: 'online', schemaVersion: 1, settings: { OPEN_NOTEBOOK_CHAT_CONTEXT_WINDOW: 128000 } } }),
      'POST /api/chat/context': () => ({ body: { context: {}, token_count: 1234, char_count: 5000 } }),
      'POST /api/chat/execute/stream': () => {
        stored = [
          { id: 'msg:1', type: 'human', content: 'What is SELECT?' },
          { id: 'msg:2', type: 'ai', content: 'It reads rows [1].', citations: [citation] },
        ];
        return {
          events: [
            { type: 'user_message', id: 'msg:1', session_id: 'chat_session:1', content: 'What is SELECT?' },
            { type: 'token', content: 'It reads ' },
            { type: 'token', content: 'rows.' },
            { type: 'ai_message', id: 'msg:2', session_id: 'chat_session:1', content: 'It reads rows [1].', citations: [citation] },
            { type: 'complete', session_id: 'chat_session:1' },
          ],
        };
      },
      'GET /api/chat/sessions/chat_session:1': () => ({ body: { id: 'chat_session:1', title: 'Chat', messages: stored } }),
    });
    renderWithQuery(<ChatColumn notebookId="notebook:a" />);
    expect(await screen.findByText('Context: 1,234 of 128,000 tokens')).toBeInTheDocument();
    await userEvent.type(screen.getByLabelText('Question'), 'What is SELECT?');
    await userEvent.keyboard('{Control>}{Enter}{/Control}');
    expect(await screen.findByText('It reads rows [1].')).toBeInTheDocument();
    const request = calls.find((call) => call.path === '/api/chat/execute/stream')!;
    expect(request.body).toMatchObject({ notebook_id: 'notebook:a', message: 'What is SELECT?' });
    await waitFor(() => expect(calls.some((call) => call.path === '/api/chat/sessions/chat_session:1')).toBe(true));
    await userEvent.click(await screen.findByTestId('citation'));
    expect(window.location.pathname + window.location.search).toBe('/sources/source%3A1?chunk=0');
  });
});
