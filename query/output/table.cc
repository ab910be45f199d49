#include "query/output/table.h"

#include <algorithm>

namespace blackbox::query {

std::size_t display_width(std::string_view s) noexcept {
  std::size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

void Table::print(Output& out) const {
  std::vector<std::size_t> width(header_.size(), 0);
  for (std::size_t i = 0; i < header_.size(); ++i) width[i] = display_width(header_[i]);
  for (const auto& row : rows_)
    for (std::size_t i = 0; i < row.size() && i < width.size(); ++i)
      width[i] = std::max(width[i], display_width(row[i].text));

  auto emit = [&](const std::vector<std::string_view>& texts,
                  const std::vector<std::string_view>& colors) {
    std::string line;
    for (std::size_t i = 0; i < texts.size() && i < width.size(); ++i) {
      const bool last = i + 1 == texts.size();
      const bool colored = out.color() && !colors[i].empty();
      if (colored) line += colors[i];
      line += texts[i];
      if (colored) line += Ansi::kReset;
      if (!last) line.append(width[i] - display_width(texts[i]) + 2, ' ');
    }
    out.line(line);
  };
  std::vector<std::string_view> texts, colors;
  for (const auto& h : header_) {
    texts.push_back(h);
    colors.push_back(Ansi::kBold);
  }
  emit(texts, colors);
  for (const auto& row : rows_) {
    texts.clear();
    colors.clear();
    for (const auto& c : row) {
      texts.push_back(c.text);
      colors.push_back(c.color);
    }
    emit(texts, colors);
  }
}

}  // namespace blackbox::query
