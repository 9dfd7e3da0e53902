// Tests of the text helpers (lib/hcx/util/text.h): display width of UTF-8,
// padding, aligned lines, CSV quoting and the "did you mean" hint.
#include "hcx/util/text.h"

#include <gtest/gtest.h>

namespace hcx::util {
namespace {

TEST(DisplayWidth, CountsCodePointsNotBytes) {
  EXPECT_EQ(display_width(""), 0u);
  EXPECT_EQ(display_width("2.0 \u00b1 0.1"), 9u);
  EXPECT_EQ(display_width("\u0394"), 1u);
  EXPECT_EQ(display_width("DHC\u00d74"), 5u);
  EXPECT_EQ(display_width("\u2192\u2212"), 2u);
}

TEST(Pad, LeftOrRightByDisplayWidth) {
  EXPECT_EQ(pad("DHC\u00d74", 7), "DHC\u00d74  ");
  EXPECT_EQ(pad("1.5", 5, /*right_align=*/true), "  1.5");
  EXPECT_EQ(pad("toolong", 3), "toolong");
  EXPECT_EQ(pad("", 2), "  ");
}

TEST(ColumnWidths, WidestCellPerColumnOverRaggedRows) {
  const std::vector<std::vector<std::string>> rows = {{"#", "variant"}, {"10", "DHC\u00d74", "extra"}, {"3"}};
  EXPECT_EQ(column_widths(rows), (std::vector<size_t>{2, 7, 5}));
  EXPECT_TRUE(column_widths({}).empty());
}

TEST(AlignedLine, PadsJoinsAndTrimsTheEnd) {
  const std::vector<size_t> widths = {2, 7, 6};
  EXPECT_EQ(aligned_line({"1", "Pre", "300"}, widths, {true, false, true}), " 1  Pre         300");
  EXPECT_EQ(aligned_line({"10", "DHC\u00d74", ""}, widths, {true, false, true}), "10  DHC\u00d74");
  EXPECT_EQ(aligned_line({"a", "b"}, widths, {}), "a   b");  // missing flags: left-aligned, trailing blanks gone
  EXPECT_EQ(aligned_line({"", ""}, widths, {}), "");
}

TEST(AlignedLine, StyleWrapsTheTextAndLeavesThePaddingOutside) {
  const CellStyle bold_second = [](size_t c, const std::string& t) { return c == 1 ? "<" + t + ">" : t; };
  EXPECT_EQ(aligned_line({"1", "ok", "x"}, {1, 4, 1}, {true, false, false}, bold_second), "1  <ok>    x");
  EXPECT_EQ(aligned_line({"1", "ok"}, {3, 4}, {false, true}, bold_second), "1      <ok>");
}

TEST(CsvField, QuotesOnlyWhenNeeded) {
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_field("cr\r"), "\"cr\r\"");
  EXPECT_EQ(csv_field(""), "");
}

TEST(DidYouMean, HintOnlyWhenSomethingIsClose) {
  EXPECT_EQ(did_you_mean("train.lr"), " (did you mean 'train.lr'?)");
  EXPECT_EQ(did_you_mean(""), "");
}

}  // namespace
}  // namespace hcx::util
