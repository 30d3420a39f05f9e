import type { ReactNode } from 'react';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { changeLanguage, LANGUAGES } from '../i18n';
import { Link, useLocation } from '../router';
import { currentTheme, toggleTheme } from '../theme';
import { CommandPalette } from './CommandPalette';

const NAV = [
  { href: '/notebooks', key: 'nav.notebooks' },
  { href: '/search', key: 'nav.search' },
  { href: '/transformations', key: 'transformations.title' },
  { href: '/podcasts', key: 'nav.podcasts' },
  { href: '/models', key: 'nav.models' },
  { href: '/settings', key: 'nav.settings' },
  { href: '/system', key: 'nav.system' },
] as const;

export function Layout({ children, onLogout }: { children: ReactNode; onLogout?: (() => void) | undefined }) {
  const { t, i18n } = useTranslation();
  const { path } = useLocation();
  const [theme, setTheme] = useState(currentTheme());
  const isMac = typeof navigator !== 'undefined' && /Mac/.test(navigator.platform);
  return (
    <div className="flex min-h-screen flex-col md:flex-row">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:p-2">
        {t('nav.skip')}
      </a>
      <nav aria-label={t('nav.label')} className="border-b border-slate-200 p-3 md:w-52 md:shrink-0 md:border-r md:border-b-0 dark:border-slate-800">
        <Link href="/notebooks" className="mb-4 block text-lg font-semibold text-indigo-600 dark:text-indigo-400">
          {t('app.name')}
        </Link>
        <ul className="flex gap-1 overflow-x-auto md:flex-col">
          {NAV.map((item) => {
            const current = path === item.href || path.startsWith(`${item.href}/`);
            return (
              <li key={item.href}>
                <Link
                  href={item.href}
                  aria-current={current ? 'page' : undefined}
                  className={`block rounded-md px-3 py-1.5 text-sm whitespace-nowrap ${current ? 'bg-indigo-50 font-medium text-indigo-700 dark:bg-indigo-950 dark:text-indigo-300' : 'hover:bg-slate-100 dark:hover:bg-slate-800'}`}
                >
                  {t(item.key)}
                </Link>
              </li>
            );
          })}
        </ul>
      </nav>
      <div className="flex min-w-0 flex-1 flex-col">
        <header className="flex flex-wrap items-center justify-end gap-2 border-b border-slate-200 px-4 py-2 dark:border-slate-800">
          <span className="mr-auto hidden text-xs text-slate-500 sm:inline">
            {t('palette.hint', { keys: isMac ? '⌘K' : 'Ctrl+K' })}
          </span>
          <label className="flex items-center gap-1 text-sm">
            <span className="sr-only">{t('settings.language')}</span>
            <select
              aria-label={t('settings.language')}
              data-testid="language-switcher"
              value={i18n.language}
              onChange={(event) => changeLanguage(event.target.value)}
              className="rounded-md border border-slate-300 bg-white px-2 py-1 dark:border-slate-600 dark:bg-slate-900"
            >
              {LANGUAGES.map((language) => (
                <option key={language.code} value={language.code}>
                  {language.label}
                </option>
              ))}
            </select>
          </label>
          <button
            type="button"
            className="rounded-md border border-slate-300 px-2 py-1 text-sm dark:border-slate-600"
            onClick={() => setTheme(toggleTheme())}
            aria-label={t('settings.theme')}
          >
            {theme === 'dark' ? t('settings.themeLight') : t('settings.themeDark')}
          </button>
          {onLogout && (
            <button type="button" className="rounded-md px-2 py-1 text-sm hover:bg-slate-100 dark:hover:bg-slate-800" onClick={onLogout}>
              {t('login.logout')}
            </button>
          )}
        </header>
        <main id="main" className="min-w-0 flex-1 p-4">
          {children}
        </main>
      </div>
      <CommandPalette />
    </div>
  );
}
