import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, AUTH_REQUIRED_EVENT, getPassword, setPassword } from './api/client';
import { Layout } from './components/Layout';
import { ErrorText, Spinner } from './components/ui';
import { LoginPage } from './pages/LoginPage';
import { ModelsPage } from './pages/ModelsPage';
import { NotebookPage } from './pages/NotebookPage';
import { NotebooksPage } from './pages/NotebooksPage';
import { PodcastsPage } from './pages/PodcastsPage';
import { SearchPage } from './pages/SearchPage';
import { SettingsPage } from './pages/SettingsPage';
import { SourcePage } from './pages/SourcePage';
import { SystemPage } from './pages/SystemPage';
import { TransformationsPage } from './pages/TransformationsPage';
import { matchRoute, navigate, useLocation } from './router';

function Routes() {
  const { t } = useTranslation();
  const { path } = useLocation();
  useEffect(() => {
    if (path === '/' || path === '') navigate('/notebooks', true);
  }, [path]);

  let params: Record<string, string> | null;
  if ((params = matchRoute('/notebooks/:id', path))) return <NotebookPage id={params.id!} />;
  if ((params = matchRoute('/sources/:id', path))) return <SourcePage id={params.id!} />;
  if (matchRoute('/notebooks', path) || path === '/') return <NotebooksPage />;
  if (matchRoute('/search', path)) return <SearchPage />;
  if (matchRoute('/transformations', path)) return <TransformationsPage />;
  if (matchRoute('/podcasts', path)) return <PodcastsPage />;
  if (matchRoute('/models', path)) return <ModelsPage />;
  if (matchRoute('/settings', path)) return <SettingsPage />;
  if (matchRoute('/system', path)) return <SystemPage />;
  return <p>{t('common.notFound')}</p>;
}

export function App() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [hasPassword, setHasPassword] = useState(() => getPassword() !== null);
  const auth = useQuery({
    queryKey: ['auth-status'],
    queryFn: () => api<{ auth_enabled: boolean }>('/auth/status'),
    staleTime: Infinity,
  });

  useEffect(() => {
    const onRequired = () => {
      setHasPassword(false);
      queryClient.clear();
    };
    window.addEventListener(AUTH_REQUIRED_EVENT, onRequired);
    return () => window.removeEventListener(AUTH_REQUIRED_EVENT, onRequired);
  }, [queryClient]);

  if (auth.isPending) return <div className="p-6"><Spinner /></div>;
  if (auth.isError) {
    return (
      <div className="mx-auto max-w-lg p-6">
        <h1 className="mb-2 text-lg font-semibold">{t('app.unreachable')}</h1>
        <ErrorText error={auth.error} />
        <button type="button" className="mt-3 rounded-md border px-3 py-1 text-sm" onClick={() => void auth.refetch()}>
          {t('common.retry')}
        </button>
      </div>
    );
  }
  const authEnabled = auth.data.auth_enabled;
  if (authEnabled && !hasPassword) return <LoginPage onLoggedIn={() => setHasPassword(true)} />;
  const logout = authEnabled
    ? () => {
        setPassword(null);
        setHasPassword(false);
        queryClient.clear();
      }
    : undefined;
  return (
    <Layout onLogout={logout}>
      <Routes />
    </Layout>
  );
}
