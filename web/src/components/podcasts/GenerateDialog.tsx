// Starts an episode about a notebook's sources, notes and insights with an episode profile.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client';
import { podcastApi } from '../../api/podcasts';
import type { Notebook } from '../../api/types';
import { Button, Dialog, ErrorText, inputClass, Spinner } from '../ui';

export function GenerateDialog({ onClose, notebookId }: { onClose: () => void; notebookId?: string }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const notebooks = useQuery({ queryKey: ['notebooks', { archived: false }], queryFn: () => api<Notebook[]>('/notebooks?archived=false') });
  const profiles = useQuery({ queryKey: ['episode-profiles'], queryFn: podcastApi.episodeProfiles });
  const [notebook, setNotebook] = useState(notebookId ?? '');
  const [profile, setProfile] = useState('');
  const [name, setName] = useState('');
  const [instructions, setInstructions] = useState('');
  const chosenNotebook = notebook || notebooks.data?.[0]?.id || '';
  const chosenProfile = profile || profiles.data?.[0]?.name || '';
  const generate = useMutation({
    mutationFn: () =>
      podcastApi.generate({
        episode_profile: chosenProfile,
        episode_name: name.trim(),
        notebook_id: chosenNotebook,
        ...(instructions.trim() ? { briefing_suffix: instructions.trim() } : {}),
      }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['podcast-episodes'] });
      onClose();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (name.trim() && chosenNotebook && chosenProfile) generate.mutate();
  };
  const loading = notebooks.isPending || profiles.isPending;
  return (
    <Dialog title={t('podcasts.generate')} onClose={onClose}>
      {loading ? (
        <Spinner />
      ) : (
        <form onSubmit={submit} className="space-y-3">
          <label className="block text-sm">
            {t('podcasts.notebook')}
            <select className={`${inputClass} mt-1`} value={chosenNotebook} onChange={(event) => setNotebook(event.target.value)}>
              {notebooks.data?.map((item) => (
                <option key={item.id} value={item.id}>
                  {item.name}
                </option>
              ))}
            </select>
          </label>
          {notebooks.data?.length === 0 && <p className="text-sm text-slate-500">{t('podcasts.noNotebooks')}</p>}
          <label className="block text-sm">
            {t('podcasts.episodeProfile')}
            <select className={`${inputClass} mt-1`} value={chosenProfile} onChange={(event) => setProfile(event.target.value)}>
              {profiles.data?.map((item) => (
                <option key={item.id} value={item.name}>
                  {item.name}
                </option>
              ))}
            </select>
          </label>
          <label className="block text-sm">
            {t('podcasts.episodeName')}
            <input className={`${inputClass} mt-1`} value={name} onChange={(event) => setName(event.target.value)} />
          </label>
          <label className="block text-sm">
            {t('podcasts.instructions')}
            <textarea className={`${inputClass} mt-1`} rows={3} value={instructions} onChange={(event) => setInstructions(event.target.value)} />
          </label>
          <ErrorText error={notebooks.error ?? profiles.error ?? generate.error} />
          <div className="flex justify-end gap-2">
            <Button onClick={onClose}>{t('common.cancel')}</Button>
            <Button type="submit" variant="primary" disabled={!name.trim() || !chosenNotebook || !chosenProfile || generate.isPending}>
              {t('podcasts.start')}
            </Button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
