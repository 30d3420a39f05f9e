#include "podcast/audio.h"

#include <lame/lame.h>
#include <mpg123.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>

namespace on::podcast {
namespace {

uint32_t ReadLe32(std::string_view bytes, size_t offset) {
  uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes[offset + static_cast<size_t>(i)]);
  return value;
}

uint16_t ReadLe16(std::string_view bytes, size_t offset) {
  return static_cast<uint16_t>(static_cast<unsigned char>(bytes[offset]) |
                               (static_cast<unsigned char>(bytes[offset + 1]) << 8));
}

// One sample of `bits` at `data`, scaled to [-1, 1].
double ReadSample(const char* data, int bits, bool is_float) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(data);
  if (is_float) {
    float value = 0;
    std::memcpy(&value, data, sizeof(value));
    return std::isfinite(value) ? value : 0.0;
  }
  switch (bits) {
    case 8:
      return (static_cast<int>(bytes[0]) - 128) / 128.0;
    case 16:
      return static_cast<int16_t>(bytes[0] | (bytes[1] << 8)) / 32768.0;
    case 24: {
      int32_t value = bytes[0] | (bytes[1] << 8) | (bytes[2] << 16);
      if (value & 0x800000) value -= 0x1000000;
      return value / 8388608.0;
    }
    default: {
      int32_t value = 0;
      std::memcpy(&value, data, sizeof(value));
      return value / 2147483648.0;
    }
  }
}

int16_t ToInt16(double value) {
  return static_cast<int16_t>(std::lround(std::clamp(value, -1.0, 1.0) * 32767.0));
}

void InitMpg123() {
  static std::once_flag once;
  // mpg123_init is a no-op since libmpg123 1.27 but is still required by older ones.
  std::call_once(once, [] { mpg123_init(); });
}

struct Mpg123Deleter {
  void operator()(mpg123_handle* handle) const {
    mpg123_close(handle);
    mpg123_delete(handle);
  }
};
using Mpg123Handle = std::unique_ptr<mpg123_handle, Mpg123Deleter>;

// A decoder that outputs mono signed 16-bit samples at the stream's own rate.
Result<Mpg123Handle> NewDecoder() {
  InitMpg123();
  int error = MPG123_OK;
  Mpg123Handle handle(mpg123_new(nullptr, &error));
  if (!handle) return InternalError(std::string("libmpg123 could not create a decoder: ") + mpg123_plain_strerror(error));
  mpg123_param(handle.get(), MPG123_FLAGS, MPG123_MONO_MIX | MPG123_QUIET | MPG123_GAPLESS, 0);
  mpg123_format_none(handle.get());
  const long* rates = nullptr;
  size_t rate_count = 0;
  mpg123_rates(&rates, &rate_count);
  for (size_t i = 0; i < rate_count; ++i) mpg123_format(handle.get(), rates[i], MPG123_MONO, MPG123_ENC_SIGNED_16);
  return handle;
}

// Reads every sample of an opened decoder into `audio`.
Status DecodeAll(mpg123_handle* handle, PcmAudio& audio, std::string_view what) {
  std::vector<unsigned char> buffer(64 * 1024);
  for (;;) {
    size_t done = 0;
    const int result = mpg123_read(handle, buffer.data(), buffer.size(), &done);
    if (result == MPG123_NEW_FORMAT) {
      long rate = 0;
      int channels = 0;
      int encoding = 0;
      mpg123_getformat(handle, &rate, &channels, &encoding);
      if (audio.sample_rate != 0 && audio.sample_rate != rate) {
        return InvalidInput(std::string(what) + " changes its sample rate from " + std::to_string(audio.sample_rate) +
                            " to " + std::to_string(rate) + " Hz");
      }
      audio.sample_rate = static_cast<int>(rate);
    }
    const size_t count = done / sizeof(int16_t);
    if (count > 0) {
      const size_t old_size = audio.samples.size();
      audio.samples.resize(old_size + count);
      std::memcpy(audio.samples.data() + old_size, buffer.data(), count * sizeof(int16_t));
    }
    if (result == MPG123_DONE || result == MPG123_NEED_MORE) break;
    if (result != MPG123_OK && result != MPG123_NEW_FORMAT) {
      return InvalidInput(std::string(what) + " does not decode as MP3: " + mpg123_strerror(handle));
    }
  }
  if (audio.samples.empty() || audio.sample_rate == 0) {
    return InvalidInput(std::string(what) + " contains no MP3 audio that decodes");
  }
  return Status::Ok();
}

}  // namespace

Result<PcmAudio> DecodeWav(std::string_view bytes) {
  if (bytes.size() < 12 || bytes.substr(0, 4) != "RIFF" || bytes.substr(8, 4) != "WAVE") {
    return InvalidInput("audio is not a RIFF/WAVE file (" + std::to_string(bytes.size()) + " bytes)");
  }
  int channels = 0;
  int bits = 0;
  int sample_rate = 0;
  bool is_float = false;
  size_t offset = 12;
  while (offset + 8 <= bytes.size()) {
    const std::string_view id = bytes.substr(offset, 4);
    const size_t size = ReadLe32(bytes, offset + 4);
    const size_t body = offset + 8;
    if (id == "fmt ") {
      if (size < 16 || body + 16 > bytes.size()) return InvalidInput("WAV format chunk is truncated");
      const uint16_t format = ReadLe16(bytes, body);
      channels = ReadLe16(bytes, body + 2);
      sample_rate = static_cast<int>(ReadLe32(bytes, body + 4));
      bits = ReadLe16(bytes, body + 14);
      // 0xFFFE (WAVE_FORMAT_EXTENSIBLE) carries the real format in its sub-format GUID.
      const uint16_t real_format = format == 0xFFFE && size >= 26 && body + 26 <= bytes.size() ? ReadLe16(bytes, body + 24) : format;
      if (real_format != 1 && real_format != 3) {
        return InvalidInput("WAV format " + std::to_string(real_format) + " is not supported; expected PCM or float");
      }
      is_float = real_format == 3;
      if (is_float ? bits != 32 : (bits != 8 && bits != 16 && bits != 24 && bits != 32)) {
        return InvalidInput("WAV sample size of " + std::to_string(bits) + " bits is not supported");
      }
      if (channels < 1 || sample_rate < 1000 || sample_rate > 384000) {
        return InvalidInput("WAV has " + std::to_string(channels) + " channels at " + std::to_string(sample_rate) +
                            " Hz; expected 1 or more channels at 1000 to 384000 Hz");
      }
    } else if (id == "data") {
      if (channels == 0) return InvalidInput("WAV data chunk comes before its format chunk");
      const size_t available = std::min(size, bytes.size() - body);
      const size_t frame_bytes = static_cast<size_t>(channels) * static_cast<size_t>(bits / 8);
      PcmAudio audio;
      audio.sample_rate = sample_rate;
      audio.samples.reserve(available / frame_bytes);
      for (size_t frame = body; frame + frame_bytes <= body + available; frame += frame_bytes) {
        double sum = 0;
        for (int channel = 0; channel < channels; ++channel) {
          sum += ReadSample(bytes.data() + frame + static_cast<size_t>(channel * bits / 8), bits, is_float);
        }
        audio.samples.push_back(ToInt16(sum / channels));
      }
      return audio;
    }
    offset = body + size + (size & 1);
  }
  return InvalidInput("WAV file has no data chunk");
}

Result<PcmAudio> DecodeMp3(std::string_view bytes) {
  ON_ASSIGN_OR_RETURN(Mpg123Handle handle, NewDecoder());
  if (mpg123_open_feed(handle.get()) != MPG123_OK) {
    return InternalError(std::string("libmpg123 could not open a feed: ") + mpg123_strerror(handle.get()));
  }
  if (mpg123_feed(handle.get(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()) != MPG123_OK) {
    return InvalidInput(std::string("MP3 audio could not be read: ") + mpg123_strerror(handle.get()));
  }
  PcmAudio audio;
  ON_RETURN_IF_ERROR(DecodeAll(handle.get(), audio, "the MP3 audio"));
  return audio;
}

Result<PcmAudio> DecodeSpeech(std::string_view bytes, std::string_view what) {
  if (bytes.empty()) return Status(ErrorCode::kUpstream, std::string(what) + " is empty");
  Result<PcmAudio> audio = bytes.starts_with("RIFF") ? DecodeWav(bytes) : DecodeMp3(bytes);
  if (!audio.ok()) {
    return Status(ErrorCode::kUpstream, std::string(what) + " could not be decoded: " + audio.status().message());
  }
  if (audio->samples.empty()) return Status(ErrorCode::kUpstream, std::string(what) + " contains no samples");
  return audio;
}

PcmAudio Resample(const PcmAudio& audio, int sample_rate) {
  if (audio.sample_rate == sample_rate || audio.samples.empty()) {
    PcmAudio copy = audio;
    copy.sample_rate = sample_rate;
    return copy;
  }
  PcmAudio output;
  output.sample_rate = sample_rate;
  const double step = static_cast<double>(audio.sample_rate) / sample_rate;
  const auto count = static_cast<size_t>(static_cast<double>(audio.samples.size()) / step);
  output.samples.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const double position = static_cast<double>(i) * step;
    const auto left = static_cast<size_t>(position);
    const size_t right = std::min(left + 1, audio.samples.size() - 1);
    const double fraction = position - static_cast<double>(left);
    output.samples.push_back(static_cast<int16_t>(
        std::lround(audio.samples[left] * (1.0 - fraction) + audio.samples[right] * fraction)));
  }
  return output;
}

Result<std::string> EncodeMp3(const PcmAudio& audio, int bitrate_kbps) {
  if (audio.samples.empty()) return InvalidInput("there is no audio to encode");
  std::unique_ptr<lame_global_flags, int (*)(lame_global_flags*)> lame(lame_init(), lame_close);
  if (!lame) return InternalError("libmp3lame could not create an encoder");
  lame_set_num_channels(lame.get(), 1);
  lame_set_mode(lame.get(), MONO);
  lame_set_in_samplerate(lame.get(), audio.sample_rate);
  lame_set_out_samplerate(lame.get(), audio.sample_rate);
  lame_set_VBR(lame.get(), vbr_off);
  lame_set_brate(lame.get(), bitrate_kbps);
  // The "Info" frame: without it players estimate the length from the first frames and the
  // file size, and cannot remove the encoder delay and padding.
  lame_set_bWriteVbrTag(lame.get(), 1);
  lame_set_write_id3tag_automatic(lame.get(), 0);
  if (lame_init_params(lame.get()) < 0) {
    return InvalidInput("libmp3lame rejected " + std::to_string(bitrate_kbps) + " kbps mono at " +
                        std::to_string(audio.sample_rate) + " Hz");
  }

  std::string output;
  constexpr size_t kBlock = 8192;
  std::vector<unsigned char> buffer(kBlock * 5 / 4 + 7200);
  for (size_t begin = 0; begin < audio.samples.size(); begin += kBlock) {
    const auto count = static_cast<int>(std::min(kBlock, audio.samples.size() - begin));
    // For one channel libmp3lame reads only the left buffer.
    short* left = const_cast<short*>(audio.samples.data() + begin);
    const int written = lame_encode_buffer(lame.get(), left, nullptr, count, buffer.data(), static_cast<int>(buffer.size()));
    if (written < 0) return InternalError("libmp3lame failed to encode with code " + std::to_string(written));
    output.append(reinterpret_cast<const char*>(buffer.data()), static_cast<size_t>(written));
  }
  const int flushed = lame_encode_flush(lame.get(), buffer.data(), static_cast<int>(buffer.size()));
  if (flushed < 0) return InternalError("libmp3lame failed to flush with code " + std::to_string(flushed));
  output.append(reinterpret_cast<const char*>(buffer.data()), static_cast<size_t>(flushed));

  // libmp3lame reserved the first frame for the tag; now that the frame count is known, fill it.
  std::vector<unsigned char> tag(8192);
  const size_t tag_size = lame_get_lametag_frame(lame.get(), tag.data(), tag.size());
  if (tag_size == 0 || tag_size > output.size()) return InternalError("libmp3lame produced no Info frame");
  std::memcpy(output.data(), tag.data(), tag_size);
  return output;
}

Result<Mp3Check> CheckMp3File(const std::filesystem::path& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  if (error) return InvalidInput("audio file " + path.string() + " is missing: " + error.message());
  if (size == 0) return InvalidInput("audio file " + path.string() + " is empty");

  ON_ASSIGN_OR_RETURN(Mpg123Handle handle, NewDecoder());
  if (mpg123_open(handle.get(), path.c_str()) != MPG123_OK) {
    return Status(ErrorCode::kIo, "audio file " + path.string() + " cannot be opened: " + mpg123_strerror(handle.get()));
  }
  Mp3Check check;
  const off_t header_length = mpg123_length(handle.get());
  check.header_samples = header_length > 0 ? static_cast<int64_t>(header_length) : 0;
  PcmAudio audio;
  ON_RETURN_IF_ERROR(DecodeAll(handle.get(), audio, "audio file " + path.string()));
  check.sample_rate = audio.sample_rate;
  check.decoded_samples = static_cast<int64_t>(audio.samples.size());
  return check;
}

}  // namespace on::podcast
