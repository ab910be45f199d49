#include "query/output/record_writer.h"

#include <nlohmann/json.hpp>
#include <string>

#include "query/output/time_display.h"
#include "schemas/record_json.h"

namespace blackbox::query {
namespace {

using nlohmann::json;

std::string str_or_empty(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string number_text(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->dump() : std::string();
}

class ShortWriter final : public RecordWriter {
 public:
  ShortWriter(Output& out, bool utc) : out_(out), utc_(utc) {}
  void write(const json& r, const RecordMark& mark) override {
    if (mark.group_start && wrote_any_) out_.line(out_.color() ? "\x1b[2m--\x1b[0m" : "--");
    wrote_any_ = true;
    std::string line;
    auto t = r.find("time_ns");
    line += display_time(t != r.end() && t->is_number_integer() ? t->get<std::int64_t>() : 0, utc_);
    line += ' ';
    std::string source = str_or_empty(r, "source");
    if (auto slash = source.rfind('/'); slash != std::string::npos && slash + 1 < source.size())
      source.erase(0, slash + 1);
    line += escape_controls(source);
    line += mark.context ? "- " : ": ";
    const std::string kind = str_or_empty(r, "kind");
    if (!kind.empty() && kind != "log") line += "[" + kind + "] ";
    int priority = -1;
    if (auto p = r.find("priority"); p != r.end() && p->is_number_integer())
      priority = p->get<int>();
    const std::string_view color = out_.color() ? severity_color(priority) : std::string_view();
    const std::string msg = escape_controls(str_or_empty(r, "message"));
    if (!color.empty() && !mark.context) {
      line += color;
      line += msg;
      line += Ansi::kReset;
    } else {
      line += msg;
    }
    out_.line(line);
  }

 private:
  Output& out_;
  bool utc_;
  bool wrote_any_ = false;
};

class JsonArrayWriter final : public RecordWriter {
 public:
  explicit JsonArrayWriter(Output& out) : out_(out) {}
  ~JsonArrayWriter() override { finish(); }
  void write(const json& r, const RecordMark&) override {
    out_.write(first_ ? "[\n" : ",\n");
    first_ = false;
    out_.write(r.dump(2, ' ', false, json::error_handler_t::replace));
  }
  void finish() override {
    if (done_) return;
    done_ = true;
    out_.write(first_ ? "[]\n" : "\n]\n");
  }

 private:
  Output& out_;
  bool first_ = true;
  bool done_ = false;
};

class NdjsonWriter final : public RecordWriter {
 public:
  explicit NdjsonWriter(Output& out) : out_(out) {}
  void write(const json& r, const RecordMark&) override {
    out_.line(r.dump(-1, ' ', false, json::error_handler_t::replace));
  }

 private:
  Output& out_;
};

class CsvWriter final : public RecordWriter {
 public:
  explicit CsvWriter(Output& out) : out_(out) {
    out_.line(
        "time,time_ns,instance,stream,seq,kind,source,severity,priority,message,"
        "message_base64");
  }
  void write(const json& r, const RecordMark&) override {
    std::string line;
    line += csv_field(str_or_empty(r, "time")) + ',';
    line += number_text(r, "time_ns") + ',';
    line += csv_field(str_or_empty(r, "instance")) + ',';
    line += number_text(r, "stream") + ',';
    line += number_text(r, "seq") + ',';
    line += csv_field(str_or_empty(r, "kind")) + ',';
    line += csv_field(str_or_empty(r, "source")) + ',';
    line += csv_field(str_or_empty(r, "severity")) + ',';
    line += number_text(r, "priority") + ',';
    line += csv_field(str_or_empty(r, "message")) + ',';
    line += csv_field(str_or_empty(r, "message_base64"));
    out_.write(line);
    out_.write("\r\n");
  }

 private:
  Output& out_;
};

class CatWriter final : public RecordWriter {
 public:
  explicit CatWriter(Output& out) : out_(out) {}
  void write(const json& r, const RecordMark&) override {
    auto bytes = record_message_bytes(r);
    out_.line(bytes ? *bytes : str_or_empty(r, "message"));
  }

 private:
  Output& out_;
};

}  // namespace

std::optional<OutputMode> parse_output_mode(std::string_view s) {
  if (s == "short") return OutputMode::kShort;
  if (s == "json") return OutputMode::kJson;
  if (s == "ndjson") return OutputMode::kNdjson;
  if (s == "csv") return OutputMode::kCsv;
  if (s == "cat") return OutputMode::kCat;
  return std::nullopt;
}

std::unique_ptr<RecordWriter> RecordWriter::make(OutputMode mode, Output& out, bool utc) {
  switch (mode) {
    case OutputMode::kShort:
      return std::make_unique<ShortWriter>(out, utc);
    case OutputMode::kJson:
      return std::make_unique<JsonArrayWriter>(out);
    case OutputMode::kNdjson:
      return std::make_unique<NdjsonWriter>(out);
    case OutputMode::kCsv:
      return std::make_unique<CsvWriter>(out);
    case OutputMode::kCat:
      return std::make_unique<CatWriter>(out);
  }
  return std::make_unique<ShortWriter>(out, utc);
}

std::string escape_controls(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace blackbox::query
