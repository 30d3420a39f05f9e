// Speaker profiles: a text-to-speech model and 1 to 4 speakers, each with a voice, a backstory and
// a personality, and optionally a model of their own.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client';
import { podcastApi, type Speaker, type SpeakerProfile } from '../../api/podcasts';
import type { Model } from '../../api/types';
import { Button, Card, Dialog, ErrorText, inputClass, Spinner } from '../ui';
import { DeleteButton } from './DeleteButton';

export const MAX_SPEAKERS = 4;

export function useModels() {
  return useQuery({ queryKey: ['models'], queryFn: () => api<Model[]>('/models') });
}

// A model choice; the empty value means "none" with the meaning `noneLabel` gives it.
export function ModelSelect({
  label,
  value,
  onChange,
  type,
  noneLabel,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  type: Model['type'];
  noneLabel: string;
}) {
  const models = useModels();
  return (
    <label className="block text-sm">
      {label}
      <select className={`${inputClass} mt-1`} value={value} onChange={(event) => onChange(event.target.value)}>
        <option value="">{noneLabel}</option>
        {models.data
          ?.filter((model) => model.type === type)
          .map((model) => (
            <option key={model.id} value={model.id}>
              {model.provider}/{model.name}
            </option>
          ))}
      </select>
    </label>
  );
}

const emptySpeaker = (): Speaker => ({ name: '', voice_id: '', backstory: '', personality: '' });

function SpeakerFields({
  index,
  speaker,
  onChange,
  onRemove,
}: {
  index: number;
  speaker: Speaker;
  onChange: (speaker: Speaker) => void;
  onRemove: (() => void) | null;
}) {
  const { t } = useTranslation();
  const set = (field: keyof Speaker) => (value: string) => onChange({ ...speaker, [field]: value });
  return (
    <fieldset className="space-y-2 rounded-md border border-slate-200 p-3 dark:border-slate-700">
      <legend className="px-1 text-sm font-medium">{t('podcasts.speakerNumber', { number: index + 1 })}</legend>
      <div className="grid gap-2 sm:grid-cols-2">
        <label className="block text-sm">
          {t('podcasts.speakerName')}
          <input className={`${inputClass} mt-1`} value={speaker.name} onChange={(event) => set('name')(event.target.value)} />
        </label>
        <label className="block text-sm">
          {t('podcasts.voice')}
          <input className={`${inputClass} mt-1`} value={speaker.voice_id} onChange={(event) => set('voice_id')(event.target.value)} />
        </label>
      </div>
      <label className="block text-sm">
        {t('podcasts.backstory')}
        <textarea className={`${inputClass} mt-1`} rows={2} value={speaker.backstory} onChange={(event) => set('backstory')(event.target.value)} />
      </label>
      <label className="block text-sm">
        {t('podcasts.personality')}
        <textarea className={`${inputClass} mt-1`} rows={2} value={speaker.personality} onChange={(event) => set('personality')(event.target.value)} />
      </label>
      <ModelSelect
        label={t('podcasts.speakerModel')}
        value={speaker.voice_model ?? ''}
        onChange={(value) => onChange({ ...speaker, voice_model: value || null })}
        type="text_to_speech"
        noneLabel={t('podcasts.profileModel')}
      />
      {onRemove && (
        <Button variant="ghost" className="text-red-600" onClick={onRemove}>
          {t('podcasts.removeSpeaker')}
        </Button>
      )}
    </fieldset>
  );
}

export function SpeakerProfileDialog({ profile, onClose }: { profile: SpeakerProfile | null; onClose: () => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [name, setName] = useState(profile?.name ?? '');
  const [description, setDescription] = useState(profile?.description ?? '');
  const [voiceModel, setVoiceModel] = useState(profile?.voice_model ?? '');
  const [speakers, setSpeakers] = useState<Speaker[]>(profile?.speakers.length ? profile.speakers : [emptySpeaker()]);
  const save = useMutation({
    mutationFn: () =>
      podcastApi.saveSpeakerProfile(profile?.id ?? null, {
        name: name.trim(),
        description,
        voice_model: voiceModel || null,
        speakers: speakers.map((speaker) => ({ ...speaker, voice_model: speaker.voice_model || null })),
      }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['speaker-profiles'] });
      void queryClient.invalidateQueries({ queryKey: ['episode-profiles'] });
      onClose();
    },
  });
  const complete = name.trim() !== '' && speakers.every((speaker) => speaker.name.trim() && speaker.voice_id.trim());
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (complete) save.mutate();
  };
  return (
    <Dialog title={profile ? t('podcasts.editSpeakerProfile') : t('podcasts.newSpeakerProfile')} onClose={onClose} wide>
      <form onSubmit={submit} className="space-y-3">
        <label className="block text-sm">
          {t('podcasts.profileName')}
          <input className={`${inputClass} mt-1`} value={name} onChange={(event) => setName(event.target.value)} />
        </label>
        <label className="block text-sm">
          {t('podcasts.description')}
          <input className={`${inputClass} mt-1`} value={description} onChange={(event) => setDescription(event.target.value)} />
        </label>
        <ModelSelect
          label={t('podcasts.voiceModel')}
          value={voiceModel}
          onChange={setVoiceModel}
          type="text_to_speech"
          noneLabel={t('podcasts.espeak', { engine: 'espeak-ng' })}
        />
        {speakers.map((speaker, index) => (
          <SpeakerFields
            key={index}
            index={index}
            speaker={speaker}
            onChange={(changed) => setSpeakers(speakers.map((old, position) => (position === index ? changed : old)))}
            onRemove={speakers.length > 1 ? () => setSpeakers(speakers.filter((_, position) => position !== index)) : null}
          />
        ))}
        {speakers.length < MAX_SPEAKERS && (
          <Button onClick={() => setSpeakers([...speakers, emptySpeaker()])}>{t('podcasts.addSpeaker')}</Button>
        )}
        {!complete && <p className="text-xs text-slate-500">{t('podcasts.speakersRequired', { max: MAX_SPEAKERS })}</p>}
        <ErrorText error={save.error} />
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button type="submit" variant="primary" disabled={!complete || save.isPending}>
            {t('common.save')}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

export function SpeakerProfiles() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const profiles = useQuery({ queryKey: ['speaker-profiles'], queryFn: podcastApi.speakerProfiles });
  const [editing, setEditing] = useState<SpeakerProfile | 'new' | null>(null);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['speaker-profiles'] });
  const duplicate = useMutation({ mutationFn: podcastApi.duplicateSpeakerProfile, onSuccess: refresh });
  const remove = useMutation({ mutationFn: podcastApi.deleteSpeakerProfile, onSuccess: refresh });
  return (
    <section aria-label={t('podcasts.speakerProfiles')} className="space-y-3">
      <div className="flex items-center justify-between">
        <h2 className="text-lg font-semibold">{t('podcasts.speakerProfiles')}</h2>
        <Button variant="primary" onClick={() => setEditing('new')}>{t('podcasts.newSpeakerProfile')}</Button>
      </div>
      {profiles.isPending && <Spinner />}
      <ErrorText error={profiles.error ?? duplicate.error ?? remove.error} />
      <div className="grid gap-3 lg:grid-cols-2">
        {profiles.data?.map((profile) => (
          <Card key={profile.id} className="space-y-1">
            <article aria-label={profile.name}>
              <h3 className="font-semibold">{profile.name}</h3>
              {profile.description && <p className="text-sm text-slate-500">{profile.description}</p>}
              <ul className="text-sm">
                {profile.speakers.map((speaker) => (
                  <li key={speaker.name}>{t('podcasts.speakerSummary', { name: speaker.name, voice: speaker.voice_id })}</li>
                ))}
              </ul>
              <div className="flex flex-wrap gap-1">
                <Button variant="ghost" onClick={() => setEditing(profile)}>{t('podcasts.edit')}</Button>
                <Button variant="ghost" onClick={() => duplicate.mutate(profile.id)}>{t('podcasts.duplicate')}</Button>
                <DeleteButton onConfirm={() => remove.mutate(profile.id)} />
              </div>
            </article>
          </Card>
        ))}
      </div>
      {editing && <SpeakerProfileDialog profile={editing === 'new' ? null : editing} onClose={() => setEditing(null)} />}
    </section>
  );
}
