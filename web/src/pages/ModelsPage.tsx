import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import type { Credential, DefaultModels, DiscoveredModel, Model, ModelType, Provider } from '../api/types';
import { Button, Card, ErrorText, inputClass, Spinner } from '../components/ui';

const DEFAULT_SLOTS: { key: string; type: ModelType }[] = [
  { key: 'default_chat_model', type: 'language' },
  { key: 'default_transformation_model', type: 'language' },
  { key: 'large_context_model', type: 'language' },
  { key: 'default_tools_model', type: 'language' },
  { key: 'default_embedding_model', type: 'embedding' },
  { key: 'default_text_to_speech_model', type: 'text_to_speech' },
  { key: 'default_speech_to_text_model', type: 'speech_to_text' },
];

function CredentialRow({ credential }: { credential: Credential }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const path = `/credentials/${encodeURIComponent(credential.id)}`;
  const [discovered, setDiscovered] = useState<DiscoveredModel[] | null>(null);
  const test = useMutation({ mutationFn: () => api<{ success: boolean; message: string }>(`${path}/test`, { method: 'POST' }) });
  const discover = useMutation({
    mutationFn: () => api<{ discovered: DiscoveredModel[] }>(`${path}/discover`, { method: 'POST' }),
    onSuccess: (result) => setDiscovered(result.discovered),
  });
  const register = useMutation({
    mutationFn: (models: DiscoveredModel[]) =>
      api<{ created: number; existing: number }>(`${path}/register-models`, {
        method: 'POST',
        json: { models: models.map((model) => ({ name: model.name, provider: model.provider, model_type: model.model_type ?? 'language' })) },
      }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['models'] });
      void queryClient.invalidateQueries({ queryKey: ['credentials'] });
    },
  });
  const remove = useMutation({
    mutationFn: () => api(path, { method: 'DELETE' }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['credentials'] });
      void queryClient.invalidateQueries({ queryKey: ['models'] });
    },
  });
  return (
    <li className="rounded-md border border-slate-200 p-3 dark:border-slate-700">
      <div className="flex flex-wrap items-center gap-2">
        <span className="font-medium">{credential.name}</span>
        <span className="text-xs text-slate-500">{credential.provider}{credential.base_url ? ` · ${credential.base_url}` : ''}</span>
        <span className="text-xs text-slate-500">{t('models.modelCount', { count: credential.model_count })}</span>
        <div className="ml-auto flex gap-1">
          <Button onClick={() => test.mutate()} disabled={test.isPending}>{t('models.test')}</Button>
          <Button onClick={() => discover.mutate()} disabled={discover.isPending}>{t('models.discover')}</Button>
          <Button variant="ghost" className="text-red-600" onClick={() => remove.mutate()}>{t('common.delete')}</Button>
        </div>
      </div>
      {credential.decryption_error && <ErrorText error={credential.decryption_error} />}
      {test.data && (
        <p role="status" className={`mt-1 text-sm ${test.data.success ? 'text-green-700 dark:text-green-400' : 'text-red-700 dark:text-red-400'}`}>
          {test.data.success ? t('models.testOk') : t('models.testFailed')}: {test.data.message}
        </p>
      )}
      <ErrorText error={test.error ?? discover.error ?? register.error ?? remove.error} />
      {discovered && (
        <div className="mt-2">
          <div className="mb-1 flex items-center gap-2 text-sm">
            <span>{t('models.discovered', { count: discovered.length })}</span>
            {discovered.length > 0 && (
              <Button variant="primary" onClick={() => register.mutate(discovered)} disabled={register.isPending}>{t('models.registerAll')}</Button>
            )}
            {register.data && <span className="text-xs text-slate-500">{t('models.registered', { created: register.data.created, existing: register.data.existing })}</span>}
          </div>
          <ul className="max-h-40 overflow-y-auto text-xs text-slate-600 dark:text-slate-300">
            {discovered.map((model) => (
              <li key={`${model.name}-${model.model_type ?? ''}`}>{model.name} {model.model_type ? `(${t(`models.types.${model.model_type}`)})` : ''}</li>
            ))}
          </ul>
        </div>
      )}
    </li>
  );
}

function AddCredential({ providers }: { providers: Provider[] }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [provider, setProvider] = useState('');
  const [name, setName] = useState('');
  const [apiKey, setApiKey] = useState('');
  const [baseUrl, setBaseUrl] = useState('');
  const create = useMutation({
    mutationFn: () => {
      const chosen = providers.find((item) => item.name === provider);
      return api<Credential>('/credentials', {
        method: 'POST',
        json: {
          name: name.trim() || chosen?.display_name || provider,
          provider,
          modalities: chosen?.modalities ?? [],
          ...(apiKey ? { api_key: apiKey } : {}),
          ...(baseUrl.trim() ? { base_url: baseUrl.trim() } : {}),
        },
      });
    },
    onSuccess: () => {
      setApiKey('');
      setName('');
      setBaseUrl('');
      void queryClient.invalidateQueries({ queryKey: ['credentials'] });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (provider) create.mutate();
  };
  return (
    <form onSubmit={submit} className="grid gap-2 sm:grid-cols-2">
      <select aria-label={t('models.provider')} className={inputClass} value={provider} onChange={(event) => setProvider(event.target.value)}>
        <option value="">{t('models.chooseProvider')}</option>
        {providers.map((item) => (
          <option key={item.name} value={item.name}>{item.display_name}</option>
        ))}
      </select>
      <input aria-label={t('models.credentialName')} placeholder={t('models.credentialName')} className={inputClass} value={name} onChange={(event) => setName(event.target.value)} />
      <input aria-label={t('models.apiKey')} placeholder={t('models.apiKey')} type="password" autoComplete="off" className={inputClass} value={apiKey} onChange={(event) => setApiKey(event.target.value)} />
      <input aria-label={t('models.baseUrl')} placeholder={t('models.baseUrl')} className={inputClass} value={baseUrl} onChange={(event) => setBaseUrl(event.target.value)} />
      <div className="sm:col-span-2">
        <ErrorText error={create.error} />
        <Button type="submit" variant="primary" disabled={!provider || create.isPending}>{t('models.addCredential')}</Button>
      </div>
    </form>
  );
}

function Defaults({ models }: { models: Model[] }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const defaults = useQuery({ queryKey: ['model-defaults'], queryFn: () => api<DefaultModels>('/models/defaults') });
  const save = useMutation({
    mutationFn: (change: DefaultModels) => api<DefaultModels>('/models/defaults', { method: 'PUT', json: change }),
    onSuccess: (updated) => queryClient.setQueryData(['model-defaults'], updated),
  });
  if (defaults.isPending) return <Spinner />;
  return (
    <div className="grid gap-2 sm:grid-cols-2">
      {DEFAULT_SLOTS.map((slot) => (
        <label key={slot.key} className="text-sm">
          {t(`models.slots.${slot.key}`)}
          <select
            className={`${inputClass} mt-1`}
            value={defaults.data?.[slot.key] ?? ''}
            onChange={(event) => save.mutate({ [slot.key]: event.target.value || null })}
          >
            <option value="">{t('models.none')}</option>
            {models.filter((model) => model.type === slot.type).map((model) => (
              <option key={model.id} value={model.id}>{model.provider} / {model.name}</option>
            ))}
          </select>
        </label>
      ))}
      <div className="sm:col-span-2">
        <ErrorText error={defaults.error ?? save.error} />
      </div>
    </div>
  );
}

export function ModelsPage() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const providers = useQuery({ queryKey: ['providers'], queryFn: () => api<Provider[]>('/providers') });
  const credentials = useQuery({ queryKey: ['credentials'], queryFn: () => api<Credential[]>('/credentials') });
  const models = useQuery({ queryKey: ['models'], queryFn: () => api<Model[]>('/models') });
  const [results, setResults] = useState<Record<string, string>>({});
  const testModel = useMutation({
    mutationFn: (id: string) => api<{ success: boolean; message: string }>(`/models/${encodeURIComponent(id)}/test`, { method: 'POST' }),
    onSuccess: (result, id) => setResults((current) => ({ ...current, [id]: `${result.success ? t('models.testOk') : t('models.testFailed')}: ${result.message}` })),
  });
  const removeModel = useMutation({
    mutationFn: (id: string) => api(`/models/${encodeURIComponent(id)}`, { method: 'DELETE' }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['models'] }),
  });
  return (
    <div className="max-w-4xl space-y-8">
      <h1 className="text-2xl font-semibold">{t('nav.models')}</h1>
      <section>
        <h2 className="mb-2 text-lg font-semibold">{t('models.credentials')}</h2>
        <Card className="mb-3">
          <AddCredential providers={providers.data ?? []} />
        </Card>
        {credentials.isPending && <Spinner />}
        <ErrorText error={credentials.error ?? providers.error} />
        {credentials.data?.length === 0 && <p className="text-sm text-slate-500">{t('models.noCredentials')}</p>}
        <ul className="space-y-2">
          {credentials.data?.map((credential) => <CredentialRow key={credential.id} credential={credential} />)}
        </ul>
      </section>
      <section>
        <h2 className="mb-2 text-lg font-semibold">{t('models.defaults')}</h2>
        <Defaults models={models.data ?? []} />
      </section>
      <section>
        <h2 className="mb-2 text-lg font-semibold">{t('models.models')}</h2>
        <ErrorText error={models.error ?? testModel.error ?? removeModel.error} />
        {models.data?.length === 0 && <p className="text-sm text-slate-500">{t('models.noModels')}</p>}
        <ul className="divide-y divide-slate-200 dark:divide-slate-800">
          {models.data?.map((model) => (
            <li key={model.id} className="flex flex-wrap items-center gap-2 py-2 text-sm">
              <span className="font-medium">{model.name}</span>
              <span className="text-xs text-slate-500">{model.provider} · {t(`models.types.${model.type}`)}</span>
              {results[model.id] && <span className="text-xs">{results[model.id]}</span>}
              <div className="ml-auto flex gap-1">
                <Button onClick={() => testModel.mutate(model.id)}>{t('models.test')}</Button>
                <Button variant="ghost" className="text-red-600" onClick={() => removeModel.mutate(model.id)}>{t('common.delete')}</Button>
              </div>
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}
