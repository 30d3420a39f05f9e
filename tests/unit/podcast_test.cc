// Podcast building blocks: WAV and MP3 decoding, MP3 encoding with a correct length, the
// espeak-ng engine and its voice check, and parsing of speakers, outlines and transcripts.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "podcast/audio.h"
#include "podcast/episode.h"
#include "podcast/speech.h"
#include "support/temp_dir.h"

namespace on::podcast {
namespace {

using nlohmann::json;

PcmAudio Tone(int sample_rate, int milliseconds) {
  PcmAudio audio;
  audio.sample_rate = sample_rate;
  const int count = sample_rate * milliseconds / 1000;
  for (int i = 0; i < count; ++i) {
    audio.samples.push_back(static_cast<int16_t>(8000 * std::sin(2 * M_PI * 440.0 * i / sample_rate)));
  }
  return audio;
}

void AppendLe(std::string& out, uint32_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

// A 16 kHz, 16-bit stereo WAV of `frames` frames, each holding `left` and `right`.
std::string StereoWav(int frames, int16_t left, int16_t right) {
  std::string wav = "RIFF";
  AppendLe(wav, 36 + frames * 4, 4);
  wav += "WAVEfmt ";
  AppendLe(wav, 16, 4);
  AppendLe(wav, 1, 2);
  AppendLe(wav, 2, 2);
  AppendLe(wav, 16000, 4);
  AppendLe(wav, 16000 * 4, 4);
  AppendLe(wav, 4, 2);
  AppendLe(wav, 16, 2);
  wav += "data";
  AppendLe(wav, static_cast<uint32_t>(frames * 4), 4);
  for (int i = 0; i < frames; ++i) {
    AppendLe(wav, static_cast<uint16_t>(left), 2);
    AppendLe(wav, static_cast<uint16_t>(right), 2);
  }
  return wav;
}

TEST(PodcastAudio, WavStereoMixesToMono) {
  auto audio = DecodeWav(StereoWav(1600, 1000, 3000));
  ASSERT_TRUE(audio.ok()) << audio.status().message();
  EXPECT_EQ(audio->sample_rate, 16000);
  ASSERT_EQ(audio->samples.size(), 1600u);
  EXPECT_NEAR(audio->samples[10], 2000, 2);
}

TEST(PodcastAudio, WavWithStreamedSizeIsCut) {
  std::string wav = StereoWav(100, 500, 500);
  // espeak-ng --stdout writes 0x7ffff000-style sizes because it cannot seek back.
  wav[40] = wav[41] = wav[42] = static_cast<char>(0xFF);
  wav[43] = 0x7F;
  auto audio = DecodeWav(wav);
  ASSERT_TRUE(audio.ok()) << audio.status().message();
  EXPECT_EQ(audio->samples.size(), 100u);
}

TEST(PodcastAudio, NonAudioIsRejected) {
  EXPECT_EQ(DecodeWav("not audio at all").status().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(DecodeSpeech("", "the test audio").status().code(), ErrorCode::kUpstream);
  const auto garbage = DecodeSpeech(std::string(4000, 'x'), "the test audio");
  EXPECT_EQ(garbage.status().code(), ErrorCode::kUpstream);
  EXPECT_NE(garbage.status().message().find("the test audio"), std::string::npos);
}

TEST(PodcastAudio, ResampleKeepsDuration) {
  const PcmAudio input = Tone(22050, 1000);
  const PcmAudio output = Resample(input, kEpisodeSampleRate);
  EXPECT_EQ(output.sample_rate, kEpisodeSampleRate);
  EXPECT_NEAR(static_cast<double>(output.samples.size()), 24000.0, 2.0);
}

TEST(PodcastAudio, Mp3HasExactLength) {
  const PcmAudio input = Tone(kEpisodeSampleRate, 2345);
  auto mp3 = EncodeMp3(input);
  ASSERT_TRUE(mp3.ok()) << mp3.status().message();
  // The Info frame identifies the constant-bitrate tag libmp3lame writes.
  EXPECT_NE(mp3->find("Info"), std::string::npos);

  test::TempDir dir;
  const auto path = dir.path() / "tone.mp3";
  std::ofstream(path, std::ios::binary) << *mp3;
  auto check = CheckMp3File(path);
  ASSERT_TRUE(check.ok()) << check.status().message();
  EXPECT_EQ(check->sample_rate, kEpisodeSampleRate);
  EXPECT_EQ(check->decoded_samples, static_cast<int64_t>(input.samples.size()));
  EXPECT_EQ(check->header_samples, static_cast<int64_t>(input.samples.size()));
  EXPECT_EQ(check->DurationMs(), 2345);

  // The same bytes decode from memory as well.
  auto decoded = DecodeMp3(*mp3);
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  EXPECT_EQ(decoded->samples.size(), input.samples.size());
}

TEST(PodcastAudio, EmptyOrMissingFileFailsCheck) {
  test::TempDir dir;
  EXPECT_EQ(CheckMp3File(dir.path() / "missing.mp3").status().code(), ErrorCode::kInvalidInput);
  std::ofstream(dir.path() / "empty.mp3").close();
  EXPECT_EQ(CheckMp3File(dir.path() / "empty.mp3").status().code(), ErrorCode::kInvalidInput);
  std::ofstream(dir.path() / "text.mp3") << std::string(5000, 'a');
  EXPECT_EQ(CheckMp3File(dir.path() / "text.mp3").status().code(), ErrorCode::kInvalidInput);
}

TEST(PodcastEspeak, SpeaksKnownVoices) {
  auto engine = MakeEspeakSpeech({});
  ASSERT_TRUE(engine.ok()) << engine.status().message();
  EXPECT_TRUE((*engine)->CheckVoice("nova").ok());
  EXPECT_TRUE((*engine)->CheckVoice("en-gb").ok());
  EXPECT_TRUE((*engine)->CheckVoice("en-us+f3").ok());
  auto audio = (*engine)->Speak("-- Tides follow the moon.", "alloy", {});
  ASSERT_TRUE(audio.ok()) << audio.status().message();
  EXPECT_GT(audio->DurationMs(), 500);
  EXPECT_GT(audio->sample_rate, 8000);
}

TEST(PodcastEspeak, RejectsUnknownVoice) {
  auto engine = MakeEspeakSpeech({});
  ASSERT_TRUE(engine.ok()) << engine.status().message();
  const Status unknown = (*engine)->CheckVoice("no-such-voice");
  EXPECT_EQ(unknown.code(), ErrorCode::kInvalidInput);
  EXPECT_NE(unknown.message().find("no-such-voice"), std::string::npos);
  EXPECT_EQ((*engine)->CheckVoice("en-us+nosuchvariant").code(), ErrorCode::kInvalidInput);
  EXPECT_EQ((*engine)->CheckVoice("").code(), ErrorCode::kInvalidInput);
}

TEST(PodcastEspeak, MissingProgramIsConfigurationError) {
  EspeakOptions options;
  options.program = "/nonexistent/espeak-ng";
  EXPECT_EQ(MakeEspeakSpeech(options).status().code(), ErrorCode::kConfiguration);
}

TEST(PodcastEspeak, LanguageWithoutVoiceIsRejected) {
  EspeakOptions options;
  options.language = "xx-unknown";
  EXPECT_EQ(MakeEspeakSpeech(options).status().code(), ErrorCode::kInvalidInput);
  options.language = "zh-CN";
  EXPECT_TRUE(MakeEspeakSpeech(options).ok());
}

TEST(PodcastSpeakers, CountAndNamesAreChecked) {
  EXPECT_EQ(ParseSpeakers(json::array()).status().code(), ErrorCode::kInvalidInput);
  json five = json::array();
  for (int i = 0; i < 5; ++i) five.push_back({{"name", "S" + std::to_string(i)}, {"voice_id", "nova"}});
  EXPECT_EQ(ParseSpeakers(five).status().code(), ErrorCode::kInvalidInput);
  const json twins = json::array({{{"name", "Ada"}, {"voice_id", "nova"}}, {{"name", "ada"}, {"voice_id", "alloy"}}});
  EXPECT_EQ(ParseSpeakers(twins).status().code(), ErrorCode::kInvalidInput);
  const json no_voice = json::array({{{"name", "Ada"}}});
  EXPECT_EQ(ParseSpeakers(no_voice).status().code(), ErrorCode::kInvalidInput);
  auto one = ParseSpeakers(json::array({{{"name", " Ada "}, {"voice_id", "nova"}, {"backstory", "b"}}}));
  ASSERT_TRUE(one.ok()) << one.status().message();
  EXPECT_EQ(one->front().name, "Ada");
  EXPECT_FALSE(one->front().voice_model.has_value());
}

TEST(PodcastOutline, ParsesFencedAnswer) {
  const std::string answer =
      "<think>planning</think>Here it is:\n```json\n{\"segments\": [{\"name\": \"Intro\", \"description\": \"d\", "
      "\"size\": \"huge\"}, {\"name\": \"Body\"}, {\"name\": \"End\"}]}\n```";
  auto segments = ParseOutline(answer, 2);
  ASSERT_TRUE(segments.ok()) << segments.status().message();
  ASSERT_EQ(segments->size(), 2u);
  EXPECT_EQ((*segments)[0].name, "Intro");
  EXPECT_EQ((*segments)[0].size, "medium");
  EXPECT_EQ(ParseOutline("no json here", 5).status().code(), ErrorCode::kUpstream);
  EXPECT_EQ(ParseOutline("{\"segments\": []}", 5).status().code(), ErrorCode::kUpstream);
}

TEST(PodcastTranscript, MatchesSpeakers) {
  auto speakers = ParseSpeakers(json::array({{{"name", "Ada"}, {"voice_id", "nova"}},
                                             {{"name", "Ben"}, {"voice_id", "alloy"}}}));
  ASSERT_TRUE(speakers.ok());
  auto lines = ParseTranscript(R"({"transcript": [{"speaker": "ada", "dialogue": "Hi."},
                                                   {"speaker": "Ben", "dialogue": "Hello."},
                                                   {"speaker": "Ben", "dialogue": "  "}]})",
                               *speakers, 3);
  ASSERT_TRUE(lines.ok()) << lines.status().message();
  ASSERT_EQ(lines->size(), 2u);
  EXPECT_EQ((*lines)[0].speaker, "Ada");
  EXPECT_EQ((*lines)[1].segment, 3);

  auto stranger = ParseTranscript(R"({"transcript": [{"speaker": "Eve", "dialogue": "Hi."}]})", *speakers, 0);
  EXPECT_EQ(stranger.status().code(), ErrorCode::kUpstream);
  EXPECT_NE(stranger.status().message().find("Eve"), std::string::npos);
}

}  // namespace
}  // namespace on::podcast
