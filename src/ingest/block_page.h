// Detection of pages that stand in for the real content: login walls, bot challenges, WAF
// "access denied" pages and rate-limit pages. A URL source whose text looks like one of these is
// not stored, because text such as "Checking your browser before accessing..." would end up in
// search results and summaries as if it were the document.
#pragma once

#include <string_view>

namespace on::ingest {

// Returns true when `extracted_text` (the visible text of a fetched page) or `http_status`
// indicates a block page rather than the document:
//   - status 401, 403, 407, 429 or 451, whatever the text;
//   - a bot-challenge or WAF phrase ("verify you are human", "Cloudflare Ray ID", "Incapsula
//     incident ID") in a text of at most 800 words;
//   - generic wall phrases ("access denied", "sign in", "captcha", "enable JavaScript"): two
//     different ones in at most 200 words, or one in at most 50 words.
// Matching ignores ASCII case and whitespace layout. Empty text returns false for other statuses,
// because an empty page is not a block page and callers reject empty text on their own.
// These are heuristics: a short genuine page about logging in can be misread as a wall.
// Pure and thread-safe.
bool LooksLikeBlockPage(std::string_view extracted_text, long http_status);

}  // namespace on::ingest
