import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { Episode, EpisodeProfile, SpeakerProfile } from '../api/podcasts';
import { navigate } from '../router';
import { fakeApi, renderWithQuery } from '../test/fakeApi';
import { PodcastsPage } from './PodcastsPage';

function episode(id: string, name: string, overrides: Partial<Episode> = {}): Episode {
  return {
    id,
    name,
    episode_profile: null,
    speaker_profile: null,
    briefing: '',
    notebook_id: 'notebook:a',
    audio_file: null,
    audio_url: null,
    duration_ms: null,
    transcript: null,
    outline: null,
    command_id: `command:${id}`,
    job_status: 'completed',
    error_message: null,
    created: '',
    updated: '',
    ...overrides,
  };
}

const completed = episode('episode:done', 'Tides explained', {
  audio_file: 'episodes/done/episode.mp3',
  audio_url: '/api/podcasts/episodes/episode:done/audio',
  duration_ms: 83_000,
  transcript: {
    transcript: [
      { speaker: 'Ada', dialogue: 'Welcome to the show.' },
      { speaker: 'Ben', dialogue: 'Today: tides.' },
    ],
  },
  outline: { segments: [{ name: 'Gravity', description: 'Why the moon pulls', size: 'short' }] },
});
const failed = episode('episode:bad', 'Broken voices', {
  job_status: 'failed',
  error_message: "speaker 'Ben': voice 'robot' is not a voice of openai/tts-1",
});

const speakerProfile: SpeakerProfile = {
  id: 'speaker_profile:duo',
  name: 'duo',
  description: 'Two hosts',
  voice_model: null,
  speakers: [
    { name: 'Ada', voice_id: 'nova', backstory: 'An engineer.', personality: 'Calm.' },
    { name: 'Ben', voice_id: 'alloy', backstory: 'A reporter.', personality: 'Curious.' },
  ],
  created: '',
  updated: '',
};

const episodeProfile: EpisodeProfile = {
  id: 'episode_profile:talk',
  name: 'talk',
  description: 'A chat',
  speaker_config: 'speaker_profile:duo',
  speaker_config_name: 'duo',
  outline_llm: null,
  transcript_llm: null,
  language: 'en',
  default_briefing: 'Explain it.',
  num_segments: 4,
  max_tokens: null,
  created: '',
  updated: '',
};

beforeEach(() => navigate('/podcasts', true));
afterEach(() => vi.unstubAllGlobals());

describe('PodcastsPage', () => {
  it('groups episodes by status with player, transcript and outline', async () => {
    fakeApi({ 'GET /api/podcasts/episodes': () => ({ body: [completed, failed] }) });
    renderWithQuery(<PodcastsPage />);

    const ready = await screen.findByRole('region', { name: 'Ready' });
    const card = within(ready).getByRole('article', { name: 'Tides explained' });
    expect(within(card).getByText(/1:23/)).toBeInTheDocument();
    const audio = await within(card).findByLabelText('Audio of Tides explained');
    expect(audio.getAttribute('src')).toBe('/api/podcasts/episodes/episode:done/audio');
    expect(within(card).getByText('Transcript (2 lines)')).toBeInTheDocument();
    expect(within(card).getByText('Welcome to the show.')).toBeInTheDocument();
    expect(within(card).getByText('Outline (1 segment)')).toBeInTheDocument();
    expect(within(card).queryByRole('button', { name: 'Retry' })).toBeNull();

    const failures = screen.getByRole('region', { name: 'Failed' });
    const broken = within(failures).getByRole('article', { name: 'Broken voices' });
    expect(within(broken).getByRole('alert')).toHaveTextContent("voice 'robot' is not a voice");
    expect(within(broken).queryByLabelText(/Audio of/)).toBeNull();
    expect(screen.queryByRole('region', { name: 'Generating' })).toBeNull();
  });

  it('retries a failed episode and deletes after confirmation', async () => {
    const calls = fakeApi({
      'GET /api/podcasts/episodes': () => ({ body: [failed] }),
      'POST /api/podcasts/episodes/episode:bad/retry': () => ({ body: { job_id: 'command:2', episode_id: 'episode:bad' } }),
      'DELETE /api/podcasts/episodes/episode:bad': () => ({ body: { message: 'deleted' } }),
    });
    renderWithQuery(<PodcastsPage />);
    const card = await screen.findByRole('article', { name: 'Broken voices' });
    await userEvent.click(within(card).getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(calls.some((call) => call.path.endsWith('/retry'))).toBe(true));

    await userEvent.click(within(card).getByRole('button', { name: 'Delete' }));
    expect(calls.some((call) => call.method === 'DELETE')).toBe(false);
    await userEvent.click(within(card).getByRole('button', { name: 'Delete for good' }));
    await waitFor(() => expect(calls.some((call) => call.method === 'DELETE')).toBe(true));
  });

  it('shows live progress until the episode completes', async () => {
    let polls = 0;
    fakeApi({
      'GET /api/podcasts/episodes': () => {
        polls += 1;
        return {
          body: [polls < 2 ? episode('episode:new', 'Fresh', { job_status: 'running' }) : { ...completed, id: 'episode:new', name: 'Fresh' }],
        };
      },
      'GET /api/podcasts/jobs/command:episode:new': () => ({
        body: { job_id: 'command:episode:new', status: 'running', error_message: null, progress: { stage: 'speech', percent: 55 } },
      }),
    });
    renderWithQuery(<PodcastsPage />);
    const generating = await screen.findByRole('region', { name: 'Generating' });
    expect(await within(generating).findByText('Speaking · 55%')).toBeInTheDocument();
    expect(within(generating).getByRole('progressbar')).toHaveAttribute('aria-valuenow', '55');

    const ready = await screen.findByRole('region', { name: 'Ready' }, { timeout: 4000 });
    expect(within(ready).getByRole('article', { name: 'Fresh' })).toBeInTheDocument();
    expect(screen.queryByRole('region', { name: 'Generating' })).toBeNull();
  }, 15_000);

  it('generates an episode from a notebook with a profile', async () => {
    const calls = fakeApi({
      'GET /api/podcasts/episodes': () => ({ body: [] }),
      'GET /api/notebooks': () => ({
        body: [
          { id: 'notebook:a', name: 'Thesis', description: '', archived: false, created: '', updated: '', source_count: 1, note_count: 0 },
          { id: 'notebook:b', name: 'Tides', description: '', archived: false, created: '', updated: '', source_count: 2, note_count: 0 },
        ],
      }),
      'GET /api/episode-profiles': () => ({ body: [episodeProfile, { ...episodeProfile, id: 'episode_profile:solo', name: 'solo' }] }),
      'POST /api/podcasts/generate': () => ({ body: { job_id: 'command:1', episode_id: 'episode:1', status: 'submitted' } }),
    });
    renderWithQuery(<PodcastsPage />);
    expect(await screen.findByText('No episodes yet. Generate one from a notebook.')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Generate episode' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.selectOptions(await within(dialog).findByLabelText('Notebook'), 'notebook:b');
    await userEvent.selectOptions(within(dialog).getByLabelText('Episode profile'), 'solo');
    const start = within(dialog).getByRole('button', { name: 'Generate' });
    expect(start).toBeDisabled();
    await userEvent.type(within(dialog).getByLabelText('Episode name'), 'Moon and sea');
    await userEvent.type(within(dialog).getByLabelText('Extra instructions (optional)'), 'Keep it short.');
    await userEvent.click(start);
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(calls.find((call) => call.method === 'POST')?.body).toEqual({
      episode_profile: 'solo',
      episode_name: 'Moon and sea',
      notebook_id: 'notebook:b',
      briefing_suffix: 'Keep it short.',
    });
  });

  it('shows the reason when generation is rejected', async () => {
    fakeApi({
      'GET /api/podcasts/episodes': () => ({ body: [] }),
      'GET /api/notebooks': () => ({
        body: [{ id: 'notebook:a', name: 'Empty', description: '', archived: false, created: '', updated: '', source_count: 0, note_count: 0 }],
      }),
      'GET /api/episode-profiles': () => ({ body: [episodeProfile] }),
      'POST /api/podcasts/generate': () => ({ status: 400, body: { detail: 'notebook notebook:a has nothing to talk about' } }),
    });
    renderWithQuery(<PodcastsPage />);
    await userEvent.click(screen.getByRole('button', { name: 'Generate episode' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.type(await within(dialog).findByLabelText('Episode name'), 'Nothing');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Generate' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('nothing to talk about');
  });

  it('creates a speaker profile with up to four speakers', async () => {
    navigate('/podcasts?tab=speaker-profiles', true);
    const calls = fakeApi({
      'GET /api/speaker-profiles': () => ({ body: [speakerProfile] }),
      'GET /api/models': () => ({
        body: [
          { id: 'model:tts', name: 'eleven_multilingual_v2', provider: 'elevenlabs', type: 'text_to_speech', credential: null },
          { id: 'model:chat', name: 'gpt-4o-mini', provider: 'openai', type: 'language', credential: null },
        ],
      }),
      'POST /api/speaker-profiles': (call) => ({ body: { ...speakerProfile, ...(call.body as object), id: 'speaker_profile:new' } }),
    });
    renderWithQuery(<PodcastsPage />);
    expect(await screen.findByRole('article', { name: 'duo' })).toHaveTextContent('Ada (nova)');
    await userEvent.click(screen.getByRole('button', { name: 'New speaker profile' }));
    const dialog = await screen.findByRole('dialog');
    const save = within(dialog).getByRole('button', { name: 'Save' });
    expect(save).toBeDisabled();

    await userEvent.type(within(dialog).getByLabelText('Name', { selector: 'input:not(fieldset input)' }), 'panel');
    const model = within(dialog).getByLabelText('Text-to-speech model');
    expect(within(model).getAllByRole('option').map((option) => option.textContent)).toEqual([
      'espeak-ng (offline)',
      'elevenlabs/eleven_multilingual_v2',
    ]);
    await userEvent.selectOptions(model, 'model:tts');
    for (let i = 0; i < 3; i++) await userEvent.click(within(dialog).getByRole('button', { name: 'Add speaker' }));
    expect(within(dialog).queryByRole('button', { name: 'Add speaker' })).toBeNull();
    expect(within(dialog).getAllByRole('group')).toHaveLength(4);
    await userEvent.click(within(dialog).getAllByRole('button', { name: 'Remove speaker' })[3]!);
    const groups = within(dialog).getAllByRole('group');
    expect(groups).toHaveLength(3);
    for (const [index, group] of groups.entries()) {
      await userEvent.type(within(group).getByLabelText('Name'), `Host ${index + 1}`);
      await userEvent.type(within(group).getByLabelText('Voice'), index === 0 ? 'Rachel' : 'Adam');
    }
    await userEvent.click(save);
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    const body = calls.find((call) => call.method === 'POST')?.body as SpeakerProfile;
    expect(body.name).toBe('panel');
    expect(body.voice_model).toBe('model:tts');
    expect(body.speakers.map((speaker) => [speaker.name, speaker.voice_id, speaker.voice_model])).toEqual([
      ['Host 1', 'Rachel', null],
      ['Host 2', 'Adam', null],
      ['Host 3', 'Adam', null],
    ]);
  }, 15_000);

  it('edits, duplicates and deletes an episode profile', async () => {
    navigate('/podcasts?tab=episode-profiles', true);
    const calls = fakeApi({
      'GET /api/episode-profiles': () => ({ body: [episodeProfile] }),
      'GET /api/speaker-profiles': () => ({ body: [speakerProfile] }),
      'GET /api/models': () => ({ body: [] }),
      'PUT /api/episode-profiles/episode_profile:talk': (call) => ({ body: { ...episodeProfile, ...(call.body as object) } }),
      'POST /api/episode-profiles/episode_profile:talk/duplicate': () => ({ body: { ...episodeProfile, id: 'episode_profile:copy', name: 'talk - Copy' } }),
      'DELETE /api/episode-profiles/episode_profile:talk': () => ({ body: {} }),
    });
    renderWithQuery(<PodcastsPage />);
    const card = await screen.findByRole('article', { name: 'talk' });
    expect(card).toHaveTextContent('Speakers: duo · 4 segments · en');

    await userEvent.click(within(card).getByRole('button', { name: 'Edit' }));
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByLabelText('Speaker profile')).toHaveValue('speaker_profile:duo');
    const segments = within(dialog).getByLabelText('Segments (3 to 20)');
    await userEvent.clear(segments);
    await userEvent.type(segments, '25');
    expect(within(dialog).getByRole('button', { name: 'Save' })).toBeDisabled();
    await userEvent.clear(segments);
    await userEvent.type(segments, '6');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    const put = calls.find((call) => call.method === 'PUT')?.body as EpisodeProfile;
    expect(put.num_segments).toBe(6);
    expect(put.speaker_config).toBe('speaker_profile:duo');

    await userEvent.click(within(card).getByRole('button', { name: 'Duplicate' }));
    await waitFor(() => expect(calls.some((call) => call.path.endsWith('/duplicate'))).toBe(true));
    await userEvent.click(within(card).getByRole('button', { name: 'Delete' }));
    await userEvent.click(within(card).getByRole('button', { name: 'Delete for good' }));
    await waitFor(() => expect(calls.some((call) => call.method === 'DELETE')).toBe(true));
  });
});
