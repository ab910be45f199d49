// RecordFilter: which records a query wants (grep, field equality, priority, source), decided
// per record and, where the index entry allows, per batch without reading it.
//
// grep is an RE2 regex matched against the record's line (RE2::PartialMatch: linear time, safe
// to expose). Two shortcuts keep a whole-instance grep close to the speed of a plain file
// search, both sound (they never hide a match):
//   - per batch: the regex's required literals (re2::FilteredRE2 atoms) are checked against
//     the batch's word Bloom filter, so a batch that cannot contain them is never read;
//   - per decompressed batch (find_candidate, GrepScan): the regex runs once over the whole
//     payload to find the next candidate position (memmem when the pattern is a plain
//     case-sensitive literal), and only the lines at candidates are matched one by one. Used
//     only when the pattern has no ^ $ \A \z \b \B (their meaning depends on what surrounds
//     the line, which differs between the payload and the line).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "collector/store/store.h"
#include "collector/store/window_time.h"
#include "schemas/record.h"
#include "schemas/result.h"

namespace re2 {
class RE2;
class FilteredRE2;
}  // namespace re2

namespace blackbox::collector::query {

struct FilterSpec {
  std::string grep;  // RE2; empty = no grep
  bool ignore_case = false;
  std::vector<std::pair<std::string, std::string>> where;  // field == value, all must hold
  bool priority_set = false;
  int min_priority = 0;  // syslog severity range [min, max]; 0 is the most severe
  int max_priority = 7;
  std::vector<std::string> sources;  // any of; empty = all
  // Time windows use a record's window time (store/window_time.h) with this skew: the
  // collector's storage.time_skew, the value its index entries were computed with.
  std::int64_t time_skew_ns = kDefaultTimeSkewNs;
};

class RecordFilter {
 public:
  // Compiles the regex; kInvalidArgument with `error` set to RE2's message when it is invalid
  // or too large (regex program memory is capped).
  [[nodiscard]] static Result<std::unique_ptr<RecordFilter>> compile(FilterSpec spec,
                                                                     std::string& error);
  ~RecordFilter();
  RecordFilter(const RecordFilter&) = delete;
  RecordFilter& operator=(const RecordFilter&) = delete;

  bool has_grep() const { return re_ != nullptr; }
  bool empty() const;

  // False when the index entry proves that no record of the batch can match.
  bool index_may_match(const BatchIndexEntry& e) const;
  // The time a record is windowed by: its event time, or its read time when time skewed.
  std::int64_t window_time(const RecordView& r) const {
    return collector::window_time(r.event_time_ns, r.read_time_ns, spec_.time_skew_ns);
  }
  // Source filter only (context lines must come from a matching source too).
  bool source_ok(std::string_view source) const;
  // Every condition but grep. The first form uses scratch inside the filter (one thread); the
  // second may run on several threads at once, each with its own scratch.
  bool matches_fields(const RecordView& r) const { return matches_fields(r, fields_scratch_); }
  bool matches_fields(const RecordView& r, std::vector<Field>& scratch) const;
  // grep alone, on one line.
  bool grep_matches(std::string_view line) const;

  // True when find_candidate() may be used: there is a grep and it can search a payload.
  bool can_search_payload() const { return re_ != nullptr && whole_payload_search_; }
  // The smallest offset >= from in `raw` (a decompressed batch payload) where a match of the
  // grep may start; npos when no line after `from` can match. Requires can_search_payload().
  std::size_t find_candidate(std::string_view raw, std::size_t from) const;

  // Grep over one decompressed batch payload: line_matches() must be called for the records
  // of `raw` in order, with lines that are views into `raw`.
  class GrepScan {
   public:
    GrepScan(const RecordFilter& f, std::string_view raw);
    bool line_matches(std::string_view line);

   private:
    const RecordFilter& f_;
    std::string_view raw_;
    std::size_t search_from_ = 0;
    std::size_t candidate_ = 0;  // start of the next possible match in raw_
    bool have_candidate_ = false;
    bool exhausted_ = false;  // no match anywhere after search_from_
  };

 private:
  RecordFilter() = default;
  bool record_field_equals(const RecordView& r, std::string_view key, std::string_view value,
                           std::vector<Field>& scratch) const;

  FilterSpec spec_;
  std::unique_ptr<re2::RE2> re_;
  std::unique_ptr<re2::FilteredRE2> prefilter_;
  std::vector<std::vector<std::string>> atom_words_;  // per atom: words the Bloom must hold
  bool whole_payload_search_ = false;
  std::string literal_;  // the pattern when it is a case-sensitive literal, else empty
  mutable std::vector<Field> fields_scratch_;  // one filter per request: not shared
};

// Parses "err", "3", "warning..emerg" into a severity range [min, max] (0 most severe).
[[nodiscard]] bool parse_priority_range(std::string_view s, int& min_priority, int& max_priority);

}  // namespace blackbox::collector::query
