#include "collector/query/record_filter.h"

#include "schemas/json_string.h"

#include <re2/filtered_re2.h>
#include <re2/re2.h>

#include <algorithm>
#include <cstring>
#include <optional>

namespace blackbox::collector::query {
namespace {

constexpr std::int64_t kMaxRegexMemory = 8 << 20;  // RE2 program + DFA budget per regex

re2::RE2::Options regex_options(bool ignore_case) {
  re2::RE2::Options o;
  o.set_log_errors(false);
  o.set_max_mem(kMaxRegexMemory);
  o.set_case_sensitive(!ignore_case);
  return o;
}

// Constructs whose meaning depends on the bytes around a line (see the header).
bool context_sensitive(std::string_view pattern) {
  if (pattern.find_first_of("^$") != std::string_view::npos) return true;
  for (std::size_t i = 0; i + 1 < pattern.size(); ++i) {
    if (pattern[i] != '\\') continue;
    const char c = pattern[i + 1];
    if (c == 'A' || c == 'z' || c == 'b' || c == 'B') return true;
    ++i;  // skip the escaped character
  }
  return false;
}

// A string literal without escapes can be compared byte for byte.
bool plain_string_literal(std::string_view raw) {
  return raw.size() >= 2 && raw.front() == '"' && raw.back() == '"' &&
         raw.find('\\') == std::string_view::npos;
}

}  // namespace

RecordFilter::~RecordFilter() = default;

Result<std::unique_ptr<RecordFilter>> RecordFilter::compile(FilterSpec spec, std::string& error) {
  std::unique_ptr<RecordFilter> f(new RecordFilter());
  f->spec_ = std::move(spec);
  if (!f->spec_.grep.empty()) {
    const auto options = regex_options(f->spec_.ignore_case);
    f->re_ = std::make_unique<re2::RE2>(f->spec_.grep, options);
    if (!f->re_->ok()) {
      error = f->re_->error();
      return Err(Errc::kInvalidArgument);
    }
    f->prefilter_ = std::make_unique<re2::FilteredRE2>(/*min_atom_len=*/2);
    int id = 0;
    if (f->prefilter_->Add(f->spec_.grep, options, &id) != re2::RE2::NoError) {
      error = "the regex cannot be prefiltered";
      return Err(Errc::kInvalidArgument);
    }
    std::vector<std::string> atoms;
    f->prefilter_->Compile(&atoms);
    for (const auto& a : atoms) f->atom_words_.push_back(words_for_substring(a));
    f->whole_payload_search_ = !context_sensitive(f->spec_.grep);
    if (!f->spec_.ignore_case &&
        f->spec_.grep.find_first_of("\\.^$|?*+()[]{}") == std::string::npos)
      f->literal_ = f->spec_.grep;
  }
  return f;
}

bool RecordFilter::empty() const {
  return !re_ && spec_.where.empty() && !spec_.priority_set && spec_.sources.empty();
}

bool RecordFilter::index_may_match(const BatchIndexEntry& e) const {
  if (spec_.priority_set) {
    std::uint64_t n = 0;
    for (int p = spec_.min_priority; p <= spec_.max_priority; ++p) n += e.severity_counts[p];
    if (n == 0) return false;
  }
  if (!spec_.sources.empty()) {
    const bool any = std::any_of(spec_.sources.begin(), spec_.sources.end(),
                                 [&](const std::string& s) { return e.may_have_source(s); });
    if (!any) return false;
  }
  if (re_ && !e.words.empty() && !atom_words_.empty()) {
    std::vector<int> present;
    for (std::size_t i = 0; i < atom_words_.size(); ++i)
      if (e.words.may_contain_all(atom_words_[i])) present.push_back(static_cast<int>(i));
    std::vector<int> potential;
    prefilter_->AllPotentials(present, &potential);
    if (potential.empty()) return false;
  }
  return true;
}

bool RecordFilter::source_ok(std::string_view source) const {
  return spec_.sources.empty() ||
         std::find(spec_.sources.begin(), spec_.sources.end(), source) != spec_.sources.end();
}

bool RecordFilter::record_field_equals(const RecordView& r, std::string_view key,
                                       std::string_view value, std::vector<Field>& scratch) const {
  if (r.field_count == 0) return false;
  r.fields(scratch);
  for (const Field& f : scratch) {
    if (f.key != key) continue;
    if (plain_string_literal(f.value)) {
      if (f.value.substr(1, f.value.size() - 2) == value) return true;
      continue;
    }
    if (!f.value.empty() && f.value.front() == '"') {
      auto text = decode_json_string(f.value);
      if (text && *text == value) return true;
      continue;
    }
    if (f.value == value) return true;  // numbers, true, false, null: as written
  }
  return false;
}

bool RecordFilter::matches_fields(const RecordView& r, std::vector<Field>& scratch) const {
  if (spec_.priority_set) {
    const int p = static_cast<int>(r.severity);
    if (r.severity == Severity::kUnknown || p < spec_.min_priority || p > spec_.max_priority)
      return false;
  }
  if (!source_ok(r.source)) return false;
  for (const auto& [k, v] : spec_.where)
    if (!record_field_equals(r, k, v, scratch)) return false;
  return true;
}

bool RecordFilter::grep_matches(std::string_view line) const {
  if (!re_) return true;
  if (!literal_.empty()) return line.find(literal_) != std::string_view::npos;
  return re2::RE2::PartialMatch(re2::StringPiece(line.data(), line.size()), *re_);
}

std::size_t RecordFilter::find_candidate(std::string_view raw, std::size_t from) const {
  if (from > raw.size()) return std::string_view::npos;
  if (!literal_.empty()) {
    const void* p =
        ::memmem(raw.data() + from, raw.size() - from, literal_.data(), literal_.size());
    return p ? static_cast<std::size_t>(static_cast<const char*>(p) - raw.data())
             : std::string_view::npos;
  }
  re2::StringPiece m;
  if (!re_->Match(re2::StringPiece(raw.data(), raw.size()), from, raw.size(), re2::RE2::UNANCHORED,
                  &m, 1))
    return std::string_view::npos;
  return static_cast<std::size_t>(m.data() - raw.data());
}

RecordFilter::GrepScan::GrepScan(const RecordFilter& f, std::string_view raw) : f_(f), raw_(raw) {}

bool RecordFilter::GrepScan::line_matches(std::string_view line) {
  if (!f_.re_) return true;
  if (!f_.whole_payload_search_) return f_.grep_matches(line);
  const std::size_t begin = static_cast<std::size_t>(line.data() - raw_.data());
  const std::size_t end = begin + line.size();
  if (exhausted_) return false;
  if (!have_candidate_ || candidate_ < search_from_) {
    candidate_ = f_.find_candidate(raw_, search_from_);
    if (candidate_ == std::string_view::npos) {
      exhausted_ = true;
      return false;
    }
    have_candidate_ = true;
  }
  if (candidate_ >= end && !(line.empty() && candidate_ == begin)) {
    return false;  // the next possible match starts after this line
  }
  search_from_ = std::max(search_from_, end);
  have_candidate_ = false;
  return f_.grep_matches(line);
}

bool parse_priority_range(std::string_view s, int& min_priority, int& max_priority) {
  auto one = [](std::string_view v, int& out) {
    const Severity sev = parse_severity(v);
    if (sev == Severity::kUnknown) return false;
    out = static_cast<int>(sev);
    return true;
  };
  if (const auto dots = s.find(".."); dots != std::string_view::npos) {
    int a = 0, b = 0;
    if (!one(s.substr(0, dots), a) || !one(s.substr(dots + 2), b)) return false;
    min_priority = std::min(a, b);
    max_priority = std::max(a, b);
    return true;
  }
  int p = 0;
  if (!one(s, p)) return false;
  min_priority = 0;
  max_priority = p;
  return true;
}

}  // namespace blackbox::collector::query
