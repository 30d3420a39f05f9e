-- Removes podcast episodes and profiles. Audio files under the podcasts directory stay on disk.

DROP TABLE episode;
DROP TABLE episode_profile;
DROP TABLE speaker_profile;
