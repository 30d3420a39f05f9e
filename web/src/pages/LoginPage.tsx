import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError, setPassword } from '../api/client';
import { Button, inputClass } from '../components/ui';

export function LoginPage({ onLoggedIn }: { onLoggedIn: () => void }) {
  const { t } = useTranslation();
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      // Any protected route proves the password; the list of notebooks is the cheapest.
      await api('/notebooks?archived=false', { password: value });
      setPassword(value);
      onLoggedIn();
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 401) setError(t('login.wrong'));
      else if (caught instanceof ApiError && caught.status === 429) setError(t('login.throttled'));
      else setError(caught instanceof Error ? caught.message : String(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="flex min-h-screen items-center justify-center p-4">
      <form onSubmit={submit} className="w-full max-w-sm space-y-4 rounded-lg border border-slate-200 p-6 dark:border-slate-700">
        <h1 className="text-xl font-semibold">{t('login.title')}</h1>
        <p className="text-sm text-slate-500">{t('login.explain')}</p>
        <label className="block text-sm">
          {t('login.password')}
          <input type="password" autoFocus autoComplete="current-password" className={`${inputClass} mt-1`} value={value} onChange={(event) => setValue(event.target.value)} />
        </label>
        {error && <p role="alert" className="text-sm text-red-600">{error}</p>}
        <Button type="submit" variant="primary" disabled={busy || value.length === 0} className="w-full">
          {t('login.submit')}
        </Button>
      </form>
    </main>
  );
}
