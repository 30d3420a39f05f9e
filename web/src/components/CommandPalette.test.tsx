import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import i18n from '../i18n';
import { CommandPalette } from './CommandPalette';

function renderPalette() {
  const client = new QueryClient();
  client.setQueryData(['notebooks', { archived: false }], [
    { id: 'notebook:a', name: 'Thesis', description: '', archived: false, created: '', updated: '', source_count: 0, note_count: 0 },
  ]);
  render(
    <QueryClientProvider client={client}>
      <CommandPalette />
    </QueryClientProvider>,
  );
}

afterEach(() => {
  void i18n.changeLanguage('en');
  window.history.replaceState(null, '', '/');
});

describe('CommandPalette', () => {
  it('opens on Ctrl+K and closes on Escape', async () => {
    renderPalette();
    expect(screen.queryByRole('dialog')).toBeNull();
    await userEvent.keyboard('{Control>}k{/Control}');
    expect(screen.getByRole('dialog', { name: 'Command palette' })).toBeInTheDocument();
    await userEvent.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('jumps to a cached notebook with the keyboard', async () => {
    renderPalette();
    await userEvent.keyboard('{Control>}k{/Control}');
    await userEvent.keyboard('thes');
    const options = screen.getAllByRole('option');
    expect(options[0]).toHaveTextContent('Open notebook: Thesis');
    await userEvent.keyboard('{Enter}');
    expect(window.location.pathname).toBe('/notebooks/notebook%3Aa');
  });

  it('offers a search for any typed text', async () => {
    renderPalette();
    await userEvent.keyboard('{Control>}k{/Control}');
    await userEvent.keyboard('quantum dots');
    await userEvent.keyboard('{ArrowDown}{Enter}');
    expect(window.location.pathname + window.location.search).toBe('/search?q=quantum%20dots');
  });

  it('switches the language', async () => {
    renderPalette();
    await userEvent.keyboard('{Control>}k{/Control}');
    await userEvent.keyboard('language{Enter}');
    expect(i18n.language).toBe('zh-CN');
  });
});
