// The podcasts page: episodes, and the episode and speaker profiles they are made from.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { EpisodeList } from '../components/podcasts/EpisodeList';
import { EpisodeProfiles } from '../components/podcasts/EpisodeProfiles';
import { GenerateDialog } from '../components/podcasts/GenerateDialog';
import { SpeakerProfiles } from '../components/podcasts/SpeakerProfiles';
import { Button } from '../components/ui';
import { navigate, useLocation } from '../router';

const TABS = [
  { id: 'episodes', key: 'podcasts.tabs.episodes' },
  { id: 'episode-profiles', key: 'podcasts.tabs.episodeProfiles' },
  { id: 'speaker-profiles', key: 'podcasts.tabs.speakerProfiles' },
] as const;

type Tab = (typeof TABS)[number]['id'];

export function PodcastsPage() {
  const { t } = useTranslation();
  const { query } = useLocation();
  const requested = query.get('tab');
  const tab: Tab = TABS.some((item) => item.id === requested) ? (requested as Tab) : 'episodes';
  const notebook = query.get('notebook') ?? undefined;
  const [generating, setGenerating] = useState(notebook !== undefined);
  return (
    <div>
      <div className="mb-4 flex flex-wrap items-center justify-between gap-2">
        <h1 className="text-2xl font-semibold">{t('nav.podcasts')}</h1>
        <Button variant="primary" onClick={() => setGenerating(true)}>
          {t('podcasts.generate')}
        </Button>
      </div>
      <div role="tablist" aria-label={t('nav.podcasts')} className="mb-4 flex gap-1 border-b border-slate-200 dark:border-slate-700">
        {TABS.map((item) => (
          <button
            key={item.id}
            type="button"
            role="tab"
            aria-selected={tab === item.id}
            className={`-mb-px border-b-2 px-3 py-1.5 text-sm ${tab === item.id ? 'border-indigo-600 font-medium' : 'border-transparent text-slate-500'}`}
            onClick={() => navigate(item.id === 'episodes' ? '/podcasts' : `/podcasts?tab=${item.id}`)}
          >
            {t(item.key)}
          </button>
        ))}
      </div>
      <div role="tabpanel">
        {tab === 'episodes' && <EpisodeList />}
        {tab === 'episode-profiles' && <EpisodeProfiles />}
        {tab === 'speaker-profiles' && <SpeakerProfiles />}
      </div>
      {generating && (
        <GenerateDialog
          {...(notebook ? { notebookId: notebook } : {})}
          onClose={() => {
            setGenerating(false);
            if (notebook) navigate('/podcasts', true);
          }}
        />
      )}
    </div>
  );
}
