// Types and requests of the podcast API: episodes, their generation jobs, and the episode and
// speaker profiles they are made from.
import { api, apiUrl, getPassword } from './client';

export interface Speaker {
  name: string;
  voice_id: string;
  backstory: string;
  personality: string;
  voice_model?: string | null;
}

export interface SpeakerProfile {
  id: string;
  name: string;
  description: string;
  voice_model: string | null;
  speakers: Speaker[];
  created: string;
  updated: string;
}

export interface EpisodeProfile {
  id: string;
  name: string;
  description: string;
  speaker_config: string | null;
  speaker_config_name: string | null;
  outline_llm: string | null;
  transcript_llm: string | null;
  language: string | null;
  default_briefing: string;
  num_segments: number;
  max_tokens: number | null;
  created: string;
  updated: string;
}

export interface OutlineSegment {
  name: string;
  description: string;
  size: string;
}

export interface TranscriptLine {
  speaker: string;
  dialogue: string;
  segment?: number;
  segment_name?: string;
}

// Job states of the queue, plus "unknown" for an episode whose job record is gone.
export type EpisodeStatus = 'new' | 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'unknown';

export interface Episode {
  id: string;
  name: string;
  episode_profile: EpisodeProfile | null;
  speaker_profile: SpeakerProfile | null;
  briefing: string;
  notebook_id: string | null;
  audio_file: string | null;
  audio_url: string | null;
  duration_ms: number | null;
  transcript: { transcript: TranscriptLine[] } | null;
  outline: { segments: OutlineSegment[] } | null;
  command_id: string | null;
  job_status: EpisodeStatus;
  error_message: string | null;
  created: string;
  updated: string;
}

export interface PodcastJob {
  job_id: string;
  status: EpisodeStatus;
  error_message: string | null;
  progress: { stage: string | null; percent: number | null } | null;
}

export interface GenerateRequest {
  episode_profile: string;
  episode_name: string;
  notebook_id: string;
  briefing_suffix?: string;
}

export interface GenerateResponse {
  job_id: string;
  episode_id: string;
  status: string;
}

// Statuses after which an episode no longer changes without a retry.
export const FINISHED_STATUSES: readonly EpisodeStatus[] = ['completed', 'failed', 'cancelled', 'unknown'];

export function isGenerating(episode: Episode): boolean {
  return !FINISHED_STATUSES.includes(episode.job_status);
}

const path = (id: string) => encodeURIComponent(id);

export const podcastApi = {
  episodes: () => api<Episode[]>('/podcasts/episodes'),
  job: (id: string) => api<PodcastJob>(`/podcasts/jobs/${path(id)}`),
  generate: (body: GenerateRequest) => api<GenerateResponse>('/podcasts/generate', { method: 'POST', json: body }),
  retry: (id: string) => api<GenerateResponse>(`/podcasts/episodes/${path(id)}/retry`, { method: 'POST', json: {} }),
  deleteEpisode: (id: string) => api<unknown>(`/podcasts/episodes/${path(id)}`, { method: 'DELETE' }),

  episodeProfiles: () => api<EpisodeProfile[]>('/episode-profiles'),
  saveEpisodeProfile: (id: string | null, body: Partial<EpisodeProfile>) =>
    id
      ? api<EpisodeProfile>(`/episode-profiles/${path(id)}`, { method: 'PUT', json: body })
      : api<EpisodeProfile>('/episode-profiles', { method: 'POST', json: body }),
  duplicateEpisodeProfile: (id: string) =>
    api<EpisodeProfile>(`/episode-profiles/${path(id)}/duplicate`, { method: 'POST', json: {} }),
  deleteEpisodeProfile: (id: string) => api<unknown>(`/episode-profiles/${path(id)}`, { method: 'DELETE' }),

  speakerProfiles: () => api<SpeakerProfile[]>('/speaker-profiles'),
  saveSpeakerProfile: (id: string | null, body: Partial<SpeakerProfile>) =>
    id
      ? api<SpeakerProfile>(`/speaker-profiles/${path(id)}`, { method: 'PUT', json: body })
      : api<SpeakerProfile>('/speaker-profiles', { method: 'POST', json: body }),
  duplicateSpeakerProfile: (id: string) =>
    api<SpeakerProfile>(`/speaker-profiles/${path(id)}/duplicate`, { method: 'POST', json: {} }),
  deleteSpeakerProfile: (id: string) => api<unknown>(`/speaker-profiles/${path(id)}`, { method: 'DELETE' }),
};

// The address an <audio> element can play for an episode's audio_url ("/api/podcasts/..."). Without a password the element streams the API route
// itself, with Range requests for seeking. An element cannot send the password header, so with a
// password the file is fetched once and played from a blob: URL that the caller must revoke.
export async function audioSource(audioUrl: string): Promise<{ src: string; revoke: boolean }> {
  const url = apiUrl(audioUrl.replace(/^\/api/, ''));
  const password = getPassword();
  if (!password) return { src: url, revoke: false };
  const response = await fetch(url, { headers: { Authorization: `Bearer ${password}` } });
  if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
  return { src: URL.createObjectURL(await response.blob()), revoke: true };
}
