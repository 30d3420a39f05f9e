// Podcasts over HTTP against the real binary, the fake provider and espeak-ng: profiles,
// generation from a notebook of real documents, speech faults, voice checks before any model
// call, audio streaming with Range requests and containment of audio paths.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "podcast/audio.h"
#include "support/data_dir_database.h"
#include "support/fake_provider_process.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace on {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Two real documents: a chapter of the Debian FAQ (debian-faq) and a PostgreSQL reference page
// (postgresql-doc-15).
const fs::path kDebianFaq = "/usr/share/doc/debian/FAQ/basic-defs.en.html";
const fs::path kPostgresPage = "/usr/share/doc/postgresql-doc-15/html/sql-droptable.html";

const char* const kTideText =
    "Tides are caused by the gravity of the moon and the sun acting on the oceans. Spring tides happen at new "
    "and full moon, when the sun and the moon pull in line with each other. Neap tides happen at the quarter "
    "moons, when their pulls partly cancel each other out. Coastal engineers study tide tables before they build "
    "harbours and sea walls.";

std::string ReadFile(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

class PodcastsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_ = std::make_unique<test::FakeProviderProcess>();
    server_ = std::make_unique<test::ServerProcess>(dir_.path() / "data",
                                                    std::map<std::string, std::string>{
                                                        {"OPENAI_COMPATIBLE_BASE_URL", fake_->BaseUrl("/v1")},
                                                        {"OPENAI_API_KEY", "sk-test"},
                                                        {"OPENAI_API_BASE", fake_->BaseUrl("/v1")},
                                                        {"OPEN_NOTEBOOK_ENCRYPTION_KEY", "podcast test key"},
                                                        {"OPEN_NOTEBOOK_RETRY_WAIT_MIN", "0"},
                                                        {"OPEN_NOTEBOOK_RETRY_WAIT_MAX", "1"}});
    const bool started = server_->Start();
    client_ = std::make_unique<test::HttpClient>(server_->Client());  // valid even when the start failed
    ASSERT_TRUE(started) << server_->log();
    const std::string chat = AddModel("fake-chat", "language");
    auto defaults = client_->Put("/api/models/defaults", {{"default_chat_model", chat}});
    ASSERT_EQ(defaults.status, 200) << defaults.body;
  }

  void TearDown() override {
    if (server_) server_->Stop();
  }

  std::string AddModel(const std::string& name, const std::string& type, const std::string& provider = "openai_compatible") {
    auto model = client_->Post("/api/models", {{"name", name}, {"provider", provider}, {"type", type}});
    EXPECT_EQ(model.status, 200) << model.body;
    return model.Json().value("id", "");
  }

  // A text-to-speech model of `provider` whose credential points at the fake provider.
  std::string AddSpeechModel(const std::string& provider, const std::string& name) {
    auto credential = client_->Post("/api/credentials", {{"name", provider + " test"},
                                                         {"provider", provider},
                                                         {"api_key", "key-" + provider},
                                                         {"base_url", fake_->BaseUrl()}});
    EXPECT_EQ(credential.status, 201) << credential.body;
    auto model = client_->Post("/api/models", {{"name", name},
                                               {"provider", provider},
                                               {"type", "text_to_speech"},
                                               {"credential", credential.Json().value("id", "")}});
    EXPECT_EQ(model.status, 200) << model.body;
    return model.Json().value("id", "");
  }

  std::string CreateNotebook(const std::string& name) {
    auto notebook = client_->Post("/api/notebooks", {{"name", name}});
    EXPECT_EQ(notebook.status, 200) << notebook.body;
    return notebook.Json().value("id", "");
  }

  void Upload(const std::string& notebook, const fs::path& path, const std::string& content_type) {
    auto created = client_->PostForm("/api/sources", {{"notebooks", json::array({notebook}).dump()},
                                                      {"async_processing", "false"},
                                                      {"type", "upload"},
                                                      {"file", ReadFile(path), path.filename().string(), "", content_type}});
    ASSERT_EQ(created.status, 200) << created.body;
  }

  // A speaker profile with one model for every speaker (empty: espeak-ng) and an episode
  // profile of `segments` segments that uses it; returns the episode profile's name.
  std::string CreateProfiles(const std::string& name, const std::string& voice_model, const json& speakers,
                             int segments) {
    json speaker_body = {{"name", name + "-cast"}, {"speakers", speakers}};
    if (!voice_model.empty()) speaker_body["voice_model"] = voice_model;
    auto speaker = client_->Post("/api/speaker-profiles", speaker_body);
    EXPECT_EQ(speaker.status, 200) << speaker.body;
    auto episode = client_->Post("/api/episode-profiles", {{"name", name},
                                                           {"speaker_config", name + "-cast"},
                                                           {"num_segments", segments},
                                                           {"default_briefing", "Explain the material."}});
    EXPECT_EQ(episode.status, 200) << episode.body;
    return name;
  }

  static json TwoSpeakers(const std::string& first_voice = "nova", const std::string& second_voice = "alloy") {
    return json::array({{{"name", "Ada"}, {"voice_id", first_voice}, {"backstory", "An engineer."}, {"personality", "Calm."}},
                        {{"name", "Ben"}, {"voice_id", second_voice}, {"backstory", "A reporter."}, {"personality", "Curious."}}});
  }

  // Waits for the podcast job to finish and returns its last state.
  json WaitForJob(const std::string& job_id, std::chrono::seconds timeout = std::chrono::seconds(240)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    json job;
    while (std::chrono::steady_clock::now() < deadline) {
      job = client_->Get("/api/podcasts/jobs/" + job_id).Json();
      const std::string status = job.value("status", "");
      if (status == "completed" || status == "failed" || status == "cancelled") return job;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ADD_FAILURE() << "podcast job " << job_id << " did not finish: " << job.dump();
    return job;
  }

  // Submits an episode of `profile` about `content` and waits for its job.
  std::pair<json, json> Generate(const std::string& profile, const std::string& content) {
    auto submitted = client_->Post("/api/podcasts/generate",
                                   {{"episode_profile", profile}, {"episode_name", "Episode"}, {"content", content}});
    EXPECT_EQ(submitted.status, 200) << submitted.body;
    const json job = WaitForJob(submitted.Json().value("job_id", ""));
    const json episode = client_->Get("/api/podcasts/episodes/" + submitted.Json().value("episode_id", "")).Json();
    return {job, episode};
  }

  int PathCount(const std::string& suffix, int status = -1) {
    int count = 0;
    const json requests = fake_->Requests();
    for (const auto& entry : requests["log"]) {
      if (!entry.value("path", "").ends_with(suffix)) continue;
      if (status < 0 || entry.value("status", 0) == status) ++count;
    }
    return count;
  }

  // Rewrites an episode's stored audio path behind the server's back, as a damaged or hostile
  // database row would.
  void SetAudioFile(const std::string& episode_id, const std::string& audio_file) {
    const test::SqlResult updated = test::QueryDataDir(dir_.path() / "data", "UPDATE episode SET audio_file = $1 WHERE id = $2",
                                                       {audio_file, episode_id});
    EXPECT_EQ(updated.error, "");
  }

  test::TempDir dir_;
  std::unique_ptr<test::FakeProviderProcess> fake_;
  std::unique_ptr<test::ServerProcess> server_;
  std::unique_ptr<test::HttpClient> client_;
};

TEST_F(PodcastsTest, DefaultProfilesSeeded) {
  const json episodes = client_->Get("/api/episode-profiles").Json();
  ASSERT_EQ(episodes.size(), 3u) << episodes.dump();
  EXPECT_EQ(episodes[0]["name"], "business_analysis");
  EXPECT_EQ(episodes[0]["num_segments"], 6);
  EXPECT_EQ(episodes[0]["speaker_config_name"], "business_panel");
  EXPECT_EQ(episodes[2]["name"], "tech_discussion");
  EXPECT_EQ(episodes[2]["num_segments"], 5);

  const json speakers = client_->Get("/api/speaker-profiles").Json();
  ASSERT_EQ(speakers.size(), 3u);
  EXPECT_EQ(speakers[0]["name"], "business_panel");
  EXPECT_EQ(speakers[0]["speakers"].size(), 3u);
  EXPECT_EQ(speakers[2]["name"], "tech_experts");
  EXPECT_EQ(speakers[2]["speakers"][0]["voice_id"], "nova");
  EXPECT_TRUE(speakers[2]["voice_model"].is_null());

  auto by_name = client_->Get("/api/episode-profiles/solo_expert");
  ASSERT_EQ(by_name.status, 200) << by_name.body;
  EXPECT_EQ(by_name.Json()["num_segments"], 4);
  EXPECT_EQ(client_->Get("/api/episode-profiles/no_such_profile").status, 404);
}

TEST_F(PodcastsTest, ProfileCrudAndDuplicate) {
  json five = json::array();
  for (int i = 0; i < 5; ++i) five.push_back({{"name", "S" + std::to_string(i)}, {"voice_id", "nova"}});
  auto too_many = client_->Post("/api/speaker-profiles", {{"name", "crowd"}, {"speakers", five}});
  EXPECT_EQ(too_many.status, 400) << too_many.body;

  auto created = client_->Post("/api/speaker-profiles", {{"name", "duo"}, {"speakers", TwoSpeakers()}});
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string speaker_id = created.Json()["id"];
  EXPECT_EQ(client_->Post("/api/speaker-profiles", {{"name", "DUO"}, {"speakers", TwoSpeakers()}}).status, 409);

  auto copy = client_->Post("/api/speaker-profiles/" + speaker_id + "/duplicate", json::object());
  ASSERT_EQ(copy.status, 200) << copy.body;
  EXPECT_EQ(copy.Json()["name"], "duo - Copy");
  EXPECT_EQ(copy.Json()["speakers"], created.Json()["speakers"]);
  auto second_copy = client_->Post("/api/speaker-profiles/" + speaker_id + "/duplicate", json::object());
  EXPECT_EQ(second_copy.Json()["name"], "duo - Copy 2");

  auto unknown_speaker = client_->Post("/api/episode-profiles", {{"name", "talk"}, {"speaker_config", "nobody"}});
  EXPECT_EQ(unknown_speaker.status, 400) << unknown_speaker.body;
  auto bad_segments = client_->Post("/api/episode-profiles", {{"name", "talk"}, {"num_segments", 25}});
  EXPECT_EQ(bad_segments.status, 400) << bad_segments.body;
  auto bad_language = client_->Post("/api/episode-profiles", {{"name", "talk"}, {"language", "english please"}});
  EXPECT_EQ(bad_language.status, 400) << bad_language.body;

  auto episode = client_->Post("/api/episode-profiles", {{"name", "talk"}, {"speaker_config", "duo"},
                                                         {"language", "en-GB"}, {"num_segments", 3}, {"max_tokens", 2000}});
  ASSERT_EQ(episode.status, 200) << episode.body;
  EXPECT_EQ(episode.Json()["speaker_config"], speaker_id);
  EXPECT_EQ(episode.Json()["speaker_config_name"], "duo");
  const std::string episode_id = episode.Json()["id"];

  auto updated = client_->Put("/api/episode-profiles/" + episode_id, {{"num_segments", 7}, {"max_tokens", nullptr}});
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(updated.Json()["num_segments"], 7);
  EXPECT_TRUE(updated.Json()["max_tokens"].is_null());
  EXPECT_EQ(updated.Json()["language"], "en-GB");

  EXPECT_EQ(client_->Delete("/api/episode-profiles/" + episode_id).status, 200);
  EXPECT_EQ(client_->Get("/api/episode-profiles/" + episode_id).status, 404);
  EXPECT_EQ(client_->Delete("/api/speaker-profiles/" + speaker_id).status, 200);
  EXPECT_EQ(client_->Delete("/api/speaker-profiles/" + speaker_id).status, 404);
}

TEST_F(PodcastsTest, NotebookOfTwoDocumentsBecomesEpisode) {
  const std::string notebook = CreateNotebook("Debian and PostgreSQL");
  Upload(notebook, kDebianFaq, "text/html");
  Upload(notebook, kPostgresPage, "text/html");

  auto submitted = client_->Post("/api/podcasts/generate", {{"episode_profile", "tech_discussion"},
                                                            {"episode_name", "Packages and tables"},
                                                            {"notebook_id", notebook},
                                                            {"briefing_suffix", "Keep it short."}});
  ASSERT_EQ(submitted.status, 200) << submitted.body;
  EXPECT_EQ(submitted.Json()["status"], "submitted");
  const json job = WaitForJob(submitted.Json()["job_id"]);
  ASSERT_EQ(job["status"], "completed") << job.dump();
  const json result = job["result"];

  auto got = client_->Get("/api/podcasts/episodes/" + submitted.Json()["episode_id"].get<std::string>());
  ASSERT_EQ(got.status, 200) << got.body;
  const json episode = got.Json();
  EXPECT_EQ(episode["job_status"], "completed");
  EXPECT_NE(episode["briefing"].get<std::string>().find("Additional instructions: Keep it short."), std::string::npos);
  EXPECT_EQ(episode["speaker_profile"]["name"], "tech_experts");
  EXPECT_EQ(result["speech_engines"], json::array({"espeak-ng"}));

  // The transcript follows the outline: every segment in order, each with its own lines.
  const json segments = episode["outline"]["segments"];
  ASSERT_EQ(segments.size(), 5u) << episode["outline"].dump();
  const json lines = episode["transcript"]["transcript"];
  ASSERT_FALSE(lines.empty());
  int previous = 0;
  std::vector<int> per_segment(segments.size(), 0);
  for (const auto& line : lines) {
    const int segment = line["segment"];
    ASSERT_GE(segment, previous) << line.dump();
    ASSERT_LT(segment, 5);
    previous = segment;
    ++per_segment[static_cast<size_t>(segment)];
    EXPECT_EQ(line["segment_name"], segments[static_cast<size_t>(segment)]["name"]);
    EXPECT_NE(line["dialogue"].get<std::string>().find(segments[static_cast<size_t>(segment)]["name"].get<std::string>()),
              std::string::npos)
        << line.dump();
    EXPECT_TRUE(line["speaker"] == "Dr. Alex Chen" || line["speaker"] == "Jordan Rivera") << line.dump();
  }
  for (size_t i = 0; i < per_segment.size(); ++i) {
    EXPECT_GT(per_segment[i], 0) << "segment " << i;
    EXPECT_EQ(result["segments"][i]["lines"], per_segment[i]);
  }
  // One outline request and one transcript request per segment.
  EXPECT_EQ(PathCount("/chat/completions"), 6);

  // The MP3 decodes and lasts as long as its segments and pauses add up to.
  auto audio = client_->Get(episode["audio_url"].get<std::string>());
  ASSERT_EQ(audio.status, 200);
  EXPECT_EQ(audio.Header("content-type"), "audio/mpeg");
  const fs::path copy = dir_.path() / "downloaded.mp3";
  std::ofstream(copy, std::ios::binary) << audio.body;
  auto check = podcast::CheckMp3File(copy);
  ASSERT_TRUE(check.ok()) << check.status().message();
  int64_t expected_ms = result["line_pauses"].get<int64_t>() * result["line_pause_ms"].get<int64_t>() +
                        result["segment_pauses"].get<int64_t>() * result["segment_pause_ms"].get<int64_t>();
  for (const auto& segment : result["segments"]) expected_ms += segment["speech_ms"].get<int64_t>();
  EXPECT_NEAR(static_cast<double>(check->DurationMs()), static_cast<double>(expected_ms), 10.0);
  EXPECT_EQ(check->header_samples, check->decoded_samples);
  EXPECT_EQ(episode["duration_ms"], check->DurationMs());
  EXPECT_GT(check->DurationMs(), 10'000);
  EXPECT_TRUE(fs::is_regular_file(dir_.path() / "data" / "podcasts" / episode["audio_file"].get<std::string>()));

  auto list = client_->Get("/api/podcasts/episodes");
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.Json().size(), 1u);
  EXPECT_EQ(list.Json()[0]["id"], episode["id"]);
}

TEST_F(PodcastsTest, EmptyNotebookIsRejected) {
  const std::string notebook = CreateNotebook("Empty");
  auto submitted = client_->Post("/api/podcasts/generate",
                                 {{"episode_profile", "solo_expert"}, {"episode_name", "Nothing"}, {"notebook_id", notebook}});
  EXPECT_EQ(submitted.status, 400) << submitted.body;
  EXPECT_NE(submitted.Json()["detail"].get<std::string>().find("nothing to talk about"), std::string::npos);
  auto neither = client_->Post("/api/podcasts/generate", {{"episode_profile", "solo_expert"}, {"episode_name", "Nothing"}});
  EXPECT_EQ(neither.status, 400) << neither.body;
  EXPECT_EQ(client_->Get("/api/podcasts/episodes").Json().size(), 0u);
  EXPECT_EQ(PathCount("/chat/completions"), 0);
}

TEST_F(PodcastsTest, SpeechFailingEverySeventhRequestCompletes) {
  const std::string tts = AddModel("fake-tts~every=7", "text_to_speech");
  const std::string profile = CreateProfiles("flaky", tts, TwoSpeakers(), 4);
  const auto [job, episode] = Generate(profile, kTideText);
  ASSERT_EQ(job["status"], "completed") << job.dump();
  EXPECT_GE(PathCount("/audio/speech", 503), 1) << fake_->Requests().dump();
  const int lines = static_cast<int>(episode["transcript"]["transcript"].size());
  EXPECT_EQ(PathCount("/audio/speech", 200), lines);

  // Each fake speech answer lasts 250 ms, so the length is known without trusting the job.
  const json result = job["result"];
  const int64_t expected_ms = lines * 250 + result["line_pauses"].get<int64_t>() * 250 +
                              result["segment_pauses"].get<int64_t>() * 600;
  EXPECT_NEAR(episode["duration_ms"].get<double>(), static_cast<double>(expected_ms), 10.0);
  EXPECT_EQ(result["speech_engines"], json::array({"openai_compatible/fake-tts~every=7"}));
}

TEST_F(PodcastsTest, EmptySpeechBodyFailsEpisode) {
  const std::string tts = AddModel("fake-tts~empty_body", "text_to_speech");
  const std::string profile = CreateProfiles("silent", tts, TwoSpeakers(), 3);
  const auto [job, episode] = Generate(profile, kTideText);
  ASSERT_EQ(job["status"], "failed") << job.dump();
  const std::string reason = job.value("error_message", "");
  EXPECT_NE(reason.find("empty"), std::string::npos) << reason;
  EXPECT_NE(reason.find("line 1 of"), std::string::npos) << reason;
  EXPECT_EQ(episode["job_status"], "failed");
  EXPECT_EQ(episode["error_message"], reason);
  EXPECT_TRUE(episode["audio_url"].is_null());
  EXPECT_TRUE(episode["audio_file"].is_null());
  // The transcript is kept, so a retry can be judged against it.
  EXPECT_FALSE(episode["transcript"].is_null());

  // A failed episode can be retried; a completed or running one cannot.
  auto retry = client_->Post("/api/podcasts/episodes/" + episode["id"].get<std::string>() + "/retry", json::object());
  ASSERT_EQ(retry.status, 200) << retry.body;
  EXPECT_NE(retry.Json()["job_id"], job["job_id"]);
  const json again = WaitForJob(retry.Json()["job_id"]);
  EXPECT_EQ(again["status"], "failed");
}

TEST_F(PodcastsTest, UnknownVoiceRejectedBeforeModelCall) {
  const std::string espeak_profile = CreateProfiles("typo", "", TwoSpeakers("nova", "no-such-voice"), 3);
  auto espeak = client_->Post("/api/podcasts/generate",
                              {{"episode_profile", espeak_profile}, {"episode_name", "Typo"}, {"content", kTideText}});
  EXPECT_EQ(espeak.status, 400) << espeak.body;
  EXPECT_NE(espeak.Json()["detail"].get<std::string>().find("no-such-voice"), std::string::npos) << espeak.body;

  // OpenAI's voices are a fixed list, checked without a request.
  const std::string openai_tts = AddModel("gpt-4o-mini-tts", "text_to_speech", "openai");
  const std::string openai_profile = CreateProfiles("robot", openai_tts, TwoSpeakers("alloy", "robot"), 3);
  auto openai = client_->Post("/api/podcasts/generate",
                              {{"episode_profile", openai_profile}, {"episode_name", "Robot"}, {"content", kTideText}});
  EXPECT_EQ(openai.status, 400) << openai.body;
  EXPECT_NE(openai.Json()["detail"].get<std::string>().find("robot"), std::string::npos) << openai.body;

  EXPECT_EQ(PathCount("/chat/completions"), 0);
  EXPECT_EQ(PathCount("/audio/speech"), 0);
  EXPECT_EQ(client_->Get("/api/podcasts/episodes").Json().size(), 0u);
}

TEST_F(PodcastsTest, AudioRangeRequests) {
  const std::string tts = AddModel("fake-tts", "text_to_speech");
  const std::string profile = CreateProfiles("ranges", tts, TwoSpeakers(), 3);
  const auto [job, episode] = Generate(profile, kTideText);
  ASSERT_EQ(job["status"], "completed") << job.dump();
  const std::string url = episode["audio_url"];

  auto full = client_->Get(url);
  ASSERT_EQ(full.status, 200);
  EXPECT_EQ(full.Header("accept-ranges"), "bytes");
  const std::string& bytes = full.body;
  const size_t size = bytes.size();
  ASSERT_GT(size, 1000u);

  auto first = client_->Send("GET", url, "", {{"Range", "bytes=0-99"}});
  EXPECT_EQ(first.status, 206);
  EXPECT_EQ(first.Header("content-range"), "bytes 0-99/" + std::to_string(size));
  EXPECT_EQ(first.body, bytes.substr(0, 100));

  auto middle = client_->Send("GET", url, "", {{"Range", "bytes=500-"}});
  EXPECT_EQ(middle.status, 206);
  EXPECT_EQ(middle.body, bytes.substr(500));
  EXPECT_EQ(middle.Header("content-range"), "bytes 500-" + std::to_string(size - 1) + "/" + std::to_string(size));

  auto suffix = client_->Send("GET", url, "", {{"Range", "bytes=-64"}});
  EXPECT_EQ(suffix.status, 206);
  EXPECT_EQ(suffix.body, bytes.substr(size - 64));

  auto past_end = client_->Send("GET", url, "", {{"Range", "bytes=" + std::to_string(size + 10) + "-"}});
  EXPECT_EQ(past_end.status, 416);
  EXPECT_EQ(past_end.Header("content-range"), "bytes */" + std::to_string(size));

  auto overlong = client_->Send("GET", url, "", {{"Range", "bytes=100-999999999"}});
  EXPECT_EQ(overlong.status, 206);
  EXPECT_EQ(overlong.body, bytes.substr(100));

  // Deleting the episode removes its audio.
  const fs::path file = dir_.path() / "data" / "podcasts" / episode["audio_file"].get<std::string>();
  ASSERT_TRUE(fs::exists(file));
  EXPECT_EQ(client_->Delete("/api/podcasts/episodes/" + episode["id"].get<std::string>()).status, 200);
  EXPECT_FALSE(fs::exists(file));
  EXPECT_EQ(client_->Get(url).status, 404);
}

TEST_F(PodcastsTest, AudioOutsidePodcastsNeverServed) {
  const std::string tts = AddModel("fake-tts", "text_to_speech");
  const std::string profile = CreateProfiles("contained", tts, TwoSpeakers(), 3);
  const auto [job, episode] = Generate(profile, kTideText);
  ASSERT_EQ(job["status"], "completed") << job.dump();
  const std::string id = episode["id"];
  const std::string url = "/api/podcasts/episodes/" + id + "/audio";
  const fs::path podcasts = dir_.path() / "data" / "podcasts";

  // A secret beside the podcasts folder, and a link inside it that points at the secret.
  std::ofstream(dir_.path() / "data" / "secret.txt") << "not audio";
  fs::create_directories(podcasts / "episodes" / "link");
  fs::create_symlink(dir_.path() / "data" / "secret.txt", podcasts / "episodes" / "link" / "episode.mp3");
  std::ofstream(dir_.path() / "data" / "podcasts-sibling.mp3") << "sibling";

  for (const std::string& path : {std::string("../secret.txt"), std::string("../open-notebook.db"),
                                  (dir_.path() / "data" / "secret.txt").string(), std::string("file:///etc/passwd"),
                                  std::string("episodes/../../secret.txt"), std::string("episodes/link/episode.mp3"),
                                  std::string("../podcasts-sibling.mp3"), std::string("/etc/passwd")}) {
    SetAudioFile(id, path);
    auto served = client_->Get(url);
    EXPECT_EQ(served.status, 403) << path << ": " << served.body;
    EXPECT_EQ(served.body.find("not audio"), std::string::npos) << path;
    const json listed = client_->Get("/api/podcasts/episodes/" + id).Json();
    EXPECT_TRUE(listed["audio_url"].is_null()) << path;
  }
  SetAudioFile(id, "episodes/missing/episode.mp3");
  EXPECT_EQ(client_->Get(url).status, 404);
}

TEST_F(PodcastsTest, EpisodeKeepsProfileSnapshot) {
  const std::string tts = AddModel("fake-tts", "text_to_speech");
  const std::string profile = CreateProfiles("snapshot", tts, TwoSpeakers(), 3);
  const auto [job, episode] = Generate(profile, kTideText);
  ASSERT_EQ(job["status"], "completed") << job.dump();

  const std::string speaker_id = episode["speaker_profile"]["id"];
  auto renamed = client_->Put("/api/speaker-profiles/" + speaker_id,
                              {{"speakers", json::array({{{"name", "Cleo"}, {"voice_id", "shimmer"}}})}});
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  ASSERT_EQ(client_->Delete("/api/episode-profiles/" + episode["episode_profile"]["id"].get<std::string>()).status, 200);

  const json after = client_->Get("/api/podcasts/episodes/" + episode["id"].get<std::string>()).Json();
  EXPECT_EQ(after["speaker_profile"]["speakers"], episode["speaker_profile"]["speakers"]);
  EXPECT_EQ(after["speaker_profile"]["speakers"][0]["name"], "Ada");
  EXPECT_EQ(after["episode_profile"]["name"], "snapshot");
  EXPECT_EQ(after["episode_profile"]["num_segments"], 3);
}

}  // namespace
}  // namespace on

namespace on {
namespace {

// The length of an episode whose every line is 250 ms of fake speech, from the pauses its job reports.
int64_t ExpectedDurationMs(const json& job, const json& episode) {
  const int64_t lines = static_cast<int64_t>(episode["transcript"]["transcript"].size());
  const json& result = job["result"];
  return lines * 250 + result["line_pauses"].get<int64_t>() * 250 + result["segment_pauses"].get<int64_t>() * 600;
}

TEST_F(PodcastsTest, ElevenLabsEpisodeCompletes) {
  const std::string tts = AddSpeechModel("elevenlabs", "eleven_multilingual_v2");
  // One voice by its name, one by its id.
  const std::string profile = CreateProfiles("eleven", tts, TwoSpeakers("Rachel", "pNInz6obpgDQGcFmaJgB"), 3);
  const auto [job, episode] = Generate(profile, kTideText);
  ASSERT_EQ(job["status"], "completed") << job.dump();
  EXPECT_EQ(job["result"]["speech_engines"], json::array({"elevenlabs/eleven_multilingual_v2"}));

  const int lines = static_cast<int>(episode["transcript"]["transcript"].size());
  const int rachel = PathCount("/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM", 200);
  const int adam = PathCount("/v1/text-to-speech/pNInz6obpgDQGcFmaJgB", 200);
  EXPECT_GT(rachel, 0);
  EXPECT_GT(adam, 0);
  EXPECT_EQ(rachel + adam, lines);
  // MP3 rounds each line up to whole frames, so the tolerance is wider than for WAV.
  EXPECT_NEAR(episode["duration_ms"].get<double>(), static_cast<double>(ExpectedDurationMs(job, episode)), lines * 80.0);

  const std::string path = episode.value("audio_file", "");
  const auto check = podcast::CheckMp3File(dir_.path() / "data" / "podcasts" / path);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_EQ(check->DurationMs(), episode["duration_ms"].get<int64_t>());
}

TEST_F(PodcastsTest, GoogleEpisodeCompletes) {
  const std::string tts = AddSpeechModel("google", "cloud-tts");
  const std::string profile = CreateProfiles("cloud", tts, TwoSpeakers("en-US-Standard-A", "en-GB-Standard-A"), 3);
  const auto [job, episode] = Generate(profile, kTideText);
  ASSERT_EQ(job["status"], "completed") << job.dump();
  EXPECT_EQ(job["result"]["speech_engines"], json::array({"google/cloud-tts"}));
  const int lines = static_cast<int>(episode["transcript"]["transcript"].size());
  EXPECT_EQ(PathCount("/v1/text:synthesize", 200), lines);
  EXPECT_NEAR(episode["duration_ms"].get<double>(), static_cast<double>(ExpectedDurationMs(job, episode)), 10.0);
}

TEST_F(PodcastsTest, ProviderVoiceCheckedBeforeModelCall) {
  const std::string eleven = AddSpeechModel("elevenlabs", "eleven_multilingual_v2");
  const std::string eleven_profile = CreateProfiles("eleven-typo", eleven, TwoSpeakers("Rachel", "Nobody"), 3);
  auto eleven_submitted = client_->Post(
      "/api/podcasts/generate", {{"episode_profile", eleven_profile}, {"episode_name", "Typo"}, {"content", kTideText}});
  EXPECT_EQ(eleven_submitted.status, 400) << eleven_submitted.body;
  const std::string eleven_detail = eleven_submitted.Json().value("detail", "");
  EXPECT_NE(eleven_detail.find("'Nobody'"), std::string::npos) << eleven_detail;
  EXPECT_NE(eleven_detail.find("21m00Tcm4TlvDq8ikWAM"), std::string::npos) << eleven_detail;

  const std::string google = AddSpeechModel("google", "cloud-tts");
  const std::string google_profile =
      CreateProfiles("google-typo", google, TwoSpeakers("en-US-Standard-A", "en-US-Nobody-Z"), 3);
  auto google_submitted = client_->Post(
      "/api/podcasts/generate", {{"episode_profile", google_profile}, {"episode_name", "Typo"}, {"content", kTideText}});
  EXPECT_EQ(google_submitted.status, 400) << google_submitted.body;
  EXPECT_NE(google_submitted.Json().value("detail", "").find("en-US-Nobody-Z"), std::string::npos)
      << google_submitted.body;

  EXPECT_EQ(PathCount("/v1/voices", 200), 2);
  EXPECT_EQ(PathCount("/chat/completions"), 0);
  EXPECT_EQ(PathCount("/v1/text:synthesize"), 0);
  EXPECT_EQ(client_->Get("/api/podcasts/episodes").Json().size(), 0u);
}

TEST_F(PodcastsTest, ProviderSpeechTransientFailureRetried) {
  const std::string eleven = AddSpeechModel("elevenlabs", "eleven_multilingual_v2~every=4");
  const std::string eleven_profile = CreateProfiles("eleven-flaky", eleven, TwoSpeakers("Rachel", "Adam"), 3);
  const auto [eleven_job, eleven_episode] = Generate(eleven_profile, kTideText);
  ASSERT_EQ(eleven_job["status"], "completed") << eleven_job.dump();
  EXPECT_GE(PathCount("/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM", 503) +
                PathCount("/v1/text-to-speech/pNInz6obpgDQGcFmaJgB", 503),
            1)
      << fake_->Requests().dump();

  const std::string google = AddSpeechModel("google", "cloud-tts");
  const std::string google_profile =
      CreateProfiles("google-flaky", google, TwoSpeakers("en-US-Standard-A", "en-US-Standard-B"), 3);
  fake_->Script("/v1/text:synthesize", {"unavailable", "server_error"});
  const auto [google_job, google_episode] = Generate(google_profile, kTideText);
  ASSERT_EQ(google_job["status"], "completed") << google_job.dump();
  EXPECT_EQ(PathCount("/v1/text:synthesize", 503), 1);
  EXPECT_EQ(PathCount("/v1/text:synthesize", 500), 1);
}

TEST_F(PodcastsTest, ProviderSpeechErrorNamedInEpisode) {
  const std::string eleven = AddSpeechModel("elevenlabs", "eleven_multilingual_v2~forbidden");
  const std::string eleven_profile = CreateProfiles("eleven-denied", eleven, TwoSpeakers("Rachel", "Adam"), 3);
  const auto [eleven_job, eleven_episode] = Generate(eleven_profile, kTideText);
  ASSERT_EQ(eleven_job["status"], "failed") << eleven_job.dump();
  const std::string eleven_reason = eleven_job.value("error_message", "");
  EXPECT_NE(eleven_reason.find("line 1 of"), std::string::npos) << eleven_reason;
  EXPECT_NE(eleven_reason.find("ElevenLabs"), std::string::npos) << eleven_reason;
  EXPECT_NE(eleven_reason.find("403"), std::string::npos) << eleven_reason;
  EXPECT_NE(eleven_reason.find("lacks permission"), std::string::npos) << eleven_reason;

  const std::string google = AddSpeechModel("google", "cloud-tts");
  const std::string google_profile =
      CreateProfiles("google-rejected", google, TwoSpeakers("en-US-Standard-A", "en-US-Standard-B"), 3);
  fake_->Script("/v1/text:synthesize", {"bad_request"});
  const auto [google_job, google_episode] = Generate(google_profile, kTideText);
  ASSERT_EQ(google_job["status"], "failed") << google_job.dump();
  const std::string google_reason = google_job.value("error_message", "");
  EXPECT_NE(google_reason.find("google/cloud-tts"), std::string::npos) << google_reason;
  EXPECT_NE(google_reason.find("400"), std::string::npos) << google_reason;
  EXPECT_NE(google_reason.find("the fake provider was told to reject this request"), std::string::npos) << google_reason;
  EXPECT_EQ(google_episode["error_message"], google_reason);
}

}  // namespace
}  // namespace on
