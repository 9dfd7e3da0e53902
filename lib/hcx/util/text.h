// Text for terminals and CSV, one home for each rule (docs/architecture.md,
// "Modules"): the display width of UTF-8 text, padding and aligned table
// lines by that width, CSV fields, and the "did you mean" hint of an unknown
// name. Torch-free, and free of every other hcx module.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace hcx::util {

// The columns `text` takes on a terminal: its UTF-8 code points (lead bytes),
// so "DHC×4" is 5 wide. Wide (CJK) characters count as one; ANSI escape
// sequences count as the characters they are made of.
size_t display_width(std::string_view text);

// `text` with spaces up to `width` display columns: after it (left-aligned),
// or before it when `right_align`. Text as wide or wider is returned unchanged.
std::string pad(const std::string& text, size_t width, bool right_align = false);

// The display width of the widest cell of each column of `rows` (rows may be
// shorter than others; the result has as many columns as the longest row).
std::vector<size_t> column_widths(const std::vector<std::vector<std::string>>& rows);

// How a cell is drawn inside its padding, e.g. wrapped in a colour: gets the
// column and the unpadded text, returns what is printed in its place.
using CellStyle = std::function<std::string(size_t column, const std::string& text)>;

// One line of an aligned table: each cell padded to widths[c] (right-aligned
// where right_align[c]; a missing flag is left), "  " between cells, trailing
// blanks removed. `style`, when set, decorates each cell's text; the padding
// stays outside the decoration.
std::string aligned_line(const std::vector<std::string>& cells, const std::vector<size_t>& widths,
                         const std::vector<bool>& right_align, const CellStyle& style = {});

// A CSV field (RFC 4180): as is, or in double quotes with inner quotes doubled
// when it holds a comma, a quote, CR or LF.
std::string csv_field(const std::string& field);

// The hint after an unknown name: " (did you mean 'NEAREST'?)", or "" when
// `nearest` is empty (nothing close enough).
std::string did_you_mean(const std::string& nearest);

}  // namespace hcx::util
