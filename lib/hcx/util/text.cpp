// Display width, padding, aligned lines, CSV fields and the "did you mean"
// hint (text.h).
#include "hcx/util/text.h"

#include <algorithm>

namespace hcx::util {

size_t display_width(std::string_view text) {
  size_t n = 0;
  for (const unsigned char c : text) n += (c & 0xC0) != 0x80;  // count lead bytes only
  return n;
}

std::string pad(const std::string& text, size_t width, bool right_align) {
  const size_t shown = display_width(text);
  if (shown >= width) return text;
  const std::string fill(width - shown, ' ');
  return right_align ? fill + text : text + fill;
}

std::vector<size_t> column_widths(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (row.size() > widths.size()) widths.resize(row.size(), 0);
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], display_width(row[c]));
  }
  return widths;
}

std::string aligned_line(const std::vector<std::string>& cells, const std::vector<size_t>& widths,
                         const std::vector<bool>& right_align, const CellStyle& style) {
  std::string line;
  for (size_t c = 0; c < cells.size(); ++c) {
    const std::string& text = cells[c];
    const size_t width = c < widths.size() ? widths[c] : 0;
    const std::string fill(width > display_width(text) ? width - display_width(text) : 0, ' ');
    const bool right = c < right_align.size() && right_align[c];
    const std::string shown = style ? style(c, text) : text;
    if (c) line += "  ";
    line += right ? fill + shown : shown + fill;
  }
  line.erase(line.find_last_not_of(' ') + 1);
  return line;
}

std::string csv_field(const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
  std::string quoted = "\"";
  for (const char c : field) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

std::string did_you_mean(const std::string& nearest) {
  return nearest.empty() ? "" : " (did you mean '" + nearest + "'?)";
}

}  // namespace hcx::util
