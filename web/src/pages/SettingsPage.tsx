import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import type { ServerConfig } from '../api/types';
import { RuntimeSettings } from '../components/RuntimeSettings';
import { ErrorText, inputClass, Spinner } from '../components/ui';
import { changeLanguage, LANGUAGES } from '../i18n';
import { applyTheme, currentTheme, type Theme } from '../theme';

export function SettingsPage() {
  const { t, i18n } = useTranslation();
  const [theme, setTheme] = useState<Theme>(currentTheme());
  const config = useQuery({ queryKey: ['server-config'], queryFn: () => api<ServerConfig>('/config') });
  return (
    <div className="max-w-3xl space-y-8">
      <h1 className="text-2xl font-semibold">{t('nav.settings')}</h1>
      <section className="grid gap-3 sm:grid-cols-2">
        <label className="text-sm">
          {t('settings.language')}
          <select className={`${inputClass} mt-1`} value={i18n.language} onChange={(event) => changeLanguage(event.target.value)}>
            {LANGUAGES.map((language) => (
              <option key={language.code} value={language.code}>{language.label}</option>
            ))}
          </select>
        </label>
        <label className="text-sm">
          {t('settings.theme')}
          <select
            className={`${inputClass} mt-1`}
            value={theme}
            onChange={(event) => {
              const next = event.target.value as Theme;
              applyTheme(next);
              setTheme(next);
            }}
          >
            <option value="light">{t('settings.themeLight')}</option>
            <option value="dark">{t('settings.themeDark')}</option>
          </select>
        </label>
      </section>
      <section>
        <h2 className="mb-1 text-lg font-semibold">{t('settings.runtimeTitle')}</h2>
        <p className="mb-3 text-sm text-slate-500">{t('settings.runtimeExplain')}</p>
        <RuntimeSettings />
      </section>
      <section>
        <h2 className="mb-1 text-lg font-semibold">{t('settings.server')}</h2>
        <p className="mb-3 text-sm text-slate-500">{t('settings.serverExplain')}</p>
        {config.isPending && <Spinner />}
        <ErrorText error={config.error} />
        <table className="w-full text-left text-sm">
          <tbody>
            {Object.entries(config.data?.settings ?? {}).map(([name, value]) => (
              <tr key={name} className="border-b border-slate-100 dark:border-slate-800">
                <th scope="row" className="py-1 pr-4 font-mono text-xs font-normal">{name}</th>
                <td className="py-1 font-mono text-xs break-all">{String(value)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}
