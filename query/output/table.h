// A plain text table: a header row and rows of cells, columns padded to their widest cell
// (display width counted in UTF-8 code points), two spaces apart. Cells may carry an ANSI
// colour that does not count towards the width.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "query/output/terminal.h"

namespace blackbox::query {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}

  struct Cell {
    std::string text;
    std::string_view color;  // an Ansi constant or empty
  };
  void add_row(std::vector<Cell> row) { rows_.push_back(std::move(row)); }
  std::size_t size() const { return rows_.size(); }

  void print(Output& out) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<Cell>> rows_;
};

// Code points in a UTF-8 string (the width of a cell for ASCII and most text).
std::size_t display_width(std::string_view s) noexcept;

}  // namespace blackbox::query
