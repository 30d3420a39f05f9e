// Audio for podcasts: decoding what speech engines return (WAV, MP3), joining segments at one
// sample rate, and MP3 output with libmp3lame. The output starts with a Xing/LAME "Info" frame
// that carries the frame count and the encoder delay and padding, so players show the length.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace on::podcast {

// Mono 16-bit PCM.
struct PcmAudio {
  int sample_rate = 0;  // Hz
  std::vector<int16_t> samples;

  int64_t DurationMs() const {
    return sample_rate == 0 ? 0 : static_cast<int64_t>(samples.size()) * 1000 / sample_rate;
  }
};

// The sample rate of every episode: speech needs no more, and MPEG-2 Layer III supports it.
inline constexpr int kEpisodeSampleRate = 24000;

// Decodes a RIFF/WAVE file of 8-, 16-, 24- or 32-bit integer PCM or 32-bit float, any channel
// count (mixed down to mono). A data chunk whose size runs past the end (as streamed by
// `espeak-ng --stdout`) is cut to the bytes present. kInvalidInput naming the problem otherwise.
Result<PcmAudio> DecodeWav(std::string_view bytes);

// Decodes MPEG audio (MP3) with libmpg123, mixed down to mono. kInvalidInput when no frame decodes.
Result<PcmAudio> DecodeMp3(std::string_view bytes);

// Decodes speech returned by an engine: WAV when it starts with "RIFF", MP3 otherwise.
// `what` names the audio in errors ("the speech of segment 2, line 3").
Result<PcmAudio> DecodeSpeech(std::string_view bytes, std::string_view what);

// Converts `audio` to `sample_rate` by linear interpolation, which is enough for speech.
PcmAudio Resample(const PcmAudio& audio, int sample_rate);

// Encodes mono PCM as constant-bitrate MP3 with a Xing/LAME "Info" frame first.
Result<std::string> EncodeMp3(const PcmAudio& audio, int bitrate_kbps = 64);

// The result of decoding a whole MP3 file.
struct Mp3Check {
  int sample_rate = 0;
  int64_t decoded_samples = 0;  // samples per channel that decoded, encoder delay and padding removed
  int64_t header_samples = 0;   // the length libmpg123 reads from the Xing/LAME frame before decoding
  int64_t DurationMs() const { return sample_rate == 0 ? 0 : decoded_samples * 1000 / sample_rate; }
};

// Decodes the whole file at `path` with libmpg123. kInvalidInput when the file is missing,
// empty, or does not decode to at least one sample; kIo when it cannot be read.
Result<Mp3Check> CheckMp3File(const std::filesystem::path& path);

}  // namespace on::podcast
