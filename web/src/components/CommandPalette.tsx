import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Notebook } from '../api/types';
import { changeLanguage } from '../i18n';
import { navigate } from '../router';
import { toggleTheme } from '../theme';

interface Command {
  id: string;
  label: string;
  run: () => void;
}

// Ctrl+K (⌘K on macOS): jump to a page or notebook, search for the typed text, switch theme or
// language. Arrow keys move, Enter runs, Escape closes.
export function CommandPalette() {
  const { t, i18n } = useTranslation();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [text, setText] = useState('');
  const [active, setActive] = useState(0);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'k') {
        event.preventDefault();
        setOpen((was) => !was);
        setText('');
        setActive(0);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  useEffect(() => {
    if (open) input.current?.focus();
  }, [open]);

  const commands = useMemo<Command[]>(() => {
    const pages: Command[] = [
      { id: 'go-notebooks', label: t('nav.notebooks'), run: () => navigate('/notebooks') },
      { id: 'go-search', label: t('nav.search'), run: () => navigate('/search') },
      { id: 'go-ask', label: t('ask.command'), run: () => navigate('/search?mode=ask') },
      { id: 'go-transformations', label: t('transformations.title'), run: () => navigate('/transformations') },
      { id: 'go-models', label: t('nav.models'), run: () => navigate('/models') },
      { id: 'go-settings', label: t('nav.settings'), run: () => navigate('/settings') },
      { id: 'go-system', label: t('nav.system'), run: () => navigate('/system') },
      { id: 'new-notebook', label: t('palette.newNotebook'), run: () => navigate('/notebooks?create=1') },
      { id: 'theme', label: t('palette.toggleTheme'), run: () => toggleTheme() },
      {
        id: 'language',
        label: t('palette.switchLanguage'),
        run: () => changeLanguage(i18n.language === 'zh-CN' ? 'en' : 'zh-CN'),
      },
    ];
    const cached = queryClient.getQueriesData<Notebook[]>({ queryKey: ['notebooks'] });
    const seen = new Set<string>();
    const notebooks: Command[] = [];
    for (const [, list] of cached) {
      for (const notebook of list ?? []) {
        if (seen.has(notebook.id)) continue;
        seen.add(notebook.id);
        notebooks.push({
          id: notebook.id,
          label: t('palette.openNotebook', { name: notebook.name }),
          run: () => navigate(`/notebooks/${encodeURIComponent(notebook.id)}`),
        });
      }
    }
    const needle = text.trim().toLowerCase();
    const matching = [...pages, ...notebooks].filter((command) => command.label.toLowerCase().includes(needle));
    if (needle) {
      matching.push({
        id: 'search-text',
        label: t('palette.searchFor', { text: text.trim() }),
        run: () => navigate(`/search?q=${encodeURIComponent(text.trim())}`),
      });
    }
    return matching;
    // `open` re-reads the cached notebooks each time the palette opens.
  }, [t, i18n.language, queryClient, text, open]);

  if (!open) return null;
  const run = (command: Command | undefined) => {
    if (!command) return;
    setOpen(false);
    command.run();
  };
  return (
    <div className="fixed inset-0 z-50 flex items-start justify-center bg-black/40 p-4 pt-24" onMouseDown={() => setOpen(false)}>
      <div
        role="dialog"
        aria-modal="true"
        aria-label={t('palette.title')}
        className="w-full max-w-xl overflow-hidden rounded-lg bg-white shadow-2xl dark:bg-slate-900"
        onMouseDown={(event) => event.stopPropagation()}
      >
        <input
          ref={input}
          value={text}
          aria-label={t('palette.title')}
          placeholder={t('palette.placeholder')}
          className="w-full border-b border-slate-200 bg-transparent px-4 py-3 text-base outline-none dark:border-slate-700"
          onChange={(event) => {
            setText(event.target.value);
            setActive(0);
          }}
          onKeyDown={(event) => {
            if (event.key === 'ArrowDown') {
              event.preventDefault();
              setActive((index) => Math.min(index + 1, commands.length - 1));
            } else if (event.key === 'ArrowUp') {
              event.preventDefault();
              setActive((index) => Math.max(index - 1, 0));
            } else if (event.key === 'Enter') {
              event.preventDefault();
              run(commands[active]);
            } else if (event.key === 'Escape') {
              setOpen(false);
            }
          }}
        />
        <ul role="listbox" className="max-h-80 overflow-y-auto py-1">
          {commands.map((command, index) => (
            <li
              key={command.id}
              role="option"
              aria-selected={index === active}
              className={`cursor-pointer px-4 py-2 text-sm ${index === active ? 'bg-indigo-50 dark:bg-indigo-950' : ''}`}
              onMouseEnter={() => setActive(index)}
              onClick={() => run(command)}
            >
              {command.label}
            </li>
          ))}
          {commands.length === 0 && <li className="px-4 py-2 text-sm text-slate-500">{t('palette.nothing')}</li>}
        </ul>
      </div>
    </div>
  );
}
