// Episode profiles: the speaker profile, language models, language, briefing and segment count an
// episode is made with.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { podcastApi, type EpisodeProfile } from '../../api/podcasts';
import { Button, Card, Dialog, ErrorText, inputClass, Spinner } from '../ui';
import { DeleteButton } from './DeleteButton';
import { ModelSelect } from './SpeakerProfiles';

// The segment range the API accepts.
export const MIN_SEGMENTS = 3;
export const MAX_SEGMENTS = 20;

export function EpisodeProfileDialog({ profile, onClose }: { profile: EpisodeProfile | null; onClose: () => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const speakers = useQuery({ queryKey: ['speaker-profiles'], queryFn: podcastApi.speakerProfiles });
  const [name, setName] = useState(profile?.name ?? '');
  const [description, setDescription] = useState(profile?.description ?? '');
  const [speakerConfig, setSpeakerConfig] = useState(profile?.speaker_config ?? '');
  const [outlineModel, setOutlineModel] = useState(profile?.outline_llm ?? '');
  const [transcriptModel, setTranscriptModel] = useState(profile?.transcript_llm ?? '');
  const [language, setLanguage] = useState(profile?.language ?? 'en');
  const [briefing, setBriefing] = useState(profile?.default_briefing ?? '');
  const [segments, setSegments] = useState(String(profile?.num_segments ?? 5));
  const segmentCount = Number(segments);
  const segmentsValid = Number.isInteger(segmentCount) && segmentCount >= MIN_SEGMENTS && segmentCount <= MAX_SEGMENTS;
  const save = useMutation({
    mutationFn: () =>
      podcastApi.saveEpisodeProfile(profile?.id ?? null, {
        name: name.trim(),
        description,
        speaker_config: speakerConfig || null,
        outline_llm: outlineModel || null,
        transcript_llm: transcriptModel || null,
        language: language.trim() || null,
        default_briefing: briefing,
        num_segments: segmentCount,
      }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['episode-profiles'] });
      onClose();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (name.trim() && segmentsValid) save.mutate();
  };
  return (
    <Dialog title={profile ? t('podcasts.editEpisodeProfile') : t('podcasts.newEpisodeProfile')} onClose={onClose} wide>
      <form onSubmit={submit} className="space-y-3">
        <label className="block text-sm">
          {t('podcasts.profileName')}
          <input className={`${inputClass} mt-1`} value={name} onChange={(event) => setName(event.target.value)} />
        </label>
        <label className="block text-sm">
          {t('podcasts.description')}
          <input className={`${inputClass} mt-1`} value={description} onChange={(event) => setDescription(event.target.value)} />
        </label>
        <label className="block text-sm">
          {t('podcasts.speakerProfile')}
          <select className={`${inputClass} mt-1`} value={speakerConfig} onChange={(event) => setSpeakerConfig(event.target.value)}>
            <option value="">{t('podcasts.noSpeakerProfile')}</option>
            {speakers.data?.map((speaker) => (
              <option key={speaker.id} value={speaker.id}>
                {speaker.name}
              </option>
            ))}
          </select>
        </label>
        <div className="grid gap-2 sm:grid-cols-2">
          <ModelSelect
            label={t('podcasts.outlineModel')}
            value={outlineModel}
            onChange={setOutlineModel}
            type="language"
            noneLabel={t('podcasts.defaultChatModel')}
          />
          <ModelSelect
            label={t('podcasts.transcriptModel')}
            value={transcriptModel}
            onChange={setTranscriptModel}
            type="language"
            noneLabel={t('podcasts.defaultChatModel')}
          />
        </div>
        <div className="grid gap-2 sm:grid-cols-2">
          <label className="block text-sm">
            {t('podcasts.language')}
            <input className={`${inputClass} mt-1`} value={language} onChange={(event) => setLanguage(event.target.value)} />
          </label>
          <label className="block text-sm">
            {t('podcasts.segments', { min: MIN_SEGMENTS, max: MAX_SEGMENTS })}
            <input
              type="number"
              min={MIN_SEGMENTS}
              max={MAX_SEGMENTS}
              className={`${inputClass} mt-1`}
              value={segments}
              onChange={(event) => setSegments(event.target.value)}
            />
          </label>
        </div>
        <label className="block text-sm">
          {t('podcasts.briefing')}
          <textarea className={`${inputClass} mt-1`} rows={4} value={briefing} onChange={(event) => setBriefing(event.target.value)} />
        </label>
        <ErrorText error={speakers.error ?? save.error} />
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button type="submit" variant="primary" disabled={!name.trim() || !segmentsValid || save.isPending}>
            {t('common.save')}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

export function EpisodeProfiles() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const profiles = useQuery({ queryKey: ['episode-profiles'], queryFn: podcastApi.episodeProfiles });
  const [editing, setEditing] = useState<EpisodeProfile | 'new' | null>(null);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['episode-profiles'] });
  const duplicate = useMutation({ mutationFn: podcastApi.duplicateEpisodeProfile, onSuccess: refresh });
  const remove = useMutation({ mutationFn: podcastApi.deleteEpisodeProfile, onSuccess: refresh });
  return (
    <section aria-label={t('podcasts.episodeProfiles')} className="space-y-3">
      <div className="flex items-center justify-between">
        <h2 className="text-lg font-semibold">{t('podcasts.episodeProfiles')}</h2>
        <Button variant="primary" onClick={() => setEditing('new')}>{t('podcasts.newEpisodeProfile')}</Button>
      </div>
      {profiles.isPending && <Spinner />}
      <ErrorText error={profiles.error ?? duplicate.error ?? remove.error} />
      <div className="grid gap-3 lg:grid-cols-2">
        {profiles.data?.map((profile) => (
          <Card key={profile.id}>
            <article aria-label={profile.name} className="space-y-1">
              <h3 className="font-semibold">{profile.name}</h3>
              {profile.description && <p className="text-sm text-slate-500">{profile.description}</p>}
              <p className="text-xs text-slate-500">
                {t('podcasts.profileSummary', {
                  speakers: profile.speaker_config_name ?? t('podcasts.noSpeakerProfile'),
                  segments: profile.num_segments,
                  language: profile.language ?? 'en',
                })}
              </p>
              <div className="flex flex-wrap gap-1">
                <Button variant="ghost" onClick={() => setEditing(profile)}>{t('podcasts.edit')}</Button>
                <Button variant="ghost" onClick={() => duplicate.mutate(profile.id)}>{t('podcasts.duplicate')}</Button>
                <DeleteButton onConfirm={() => remove.mutate(profile.id)} />
              </div>
            </article>
          </Card>
        ))}
      </div>
      {editing && <EpisodeProfileDialog profile={editing === 'new' ? null : editing} onClose={() => setEditing(null)} />}
    </section>
  );
}
