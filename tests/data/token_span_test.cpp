// Token files: uint16/uint32 round trips, memory maps, and their bad inputs.
#include "hcx/data/token_span.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace hcx::data {
namespace {

using testing::error_of;
using testing::TempDir;

TEST(TokenFile, Uint16RoundTripIsLittleEndianWithoutHeader) {
  TempDir dir;
  const std::vector<int32_t> ids{0, 1, 255, 256, 65535};
  write_token_file(dir.file("a.bin"), ids, TokenDtype::kUint16);
  EXPECT_EQ(std::filesystem::file_size(dir.file("a.bin")), 10u);
  std::ifstream in(dir.file("a.bin"), std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(raw.substr(6, 2), std::string("\x00\x01", 2));  // 256, little-endian
  const TokenSpan span = TokenSpan::map_file(dir.file("a.bin"), TokenDtype::kUint16, "x");
  EXPECT_EQ(span.to_vector(), ids);
}

TEST(TokenFile, Uint32RoundTrip) {
  TempDir dir;
  const std::vector<int32_t> ids{0, 70000, 50257, 1 << 30};
  write_token_file(dir.file("b.bin"), ids, TokenDtype::kUint32);
  EXPECT_EQ(TokenSpan::map_file(dir.file("b.bin"), TokenDtype::kUint32, "x").to_vector(), ids);
}

TEST(TokenFile, WriterRejectsIdsThatDoNotFit) {
  TempDir dir;
  const std::string path = dir.file("c.bin");
  EXPECT_EQ(error_of([&] { write_token_file(path, {1, 2, 70000}, TokenDtype::kUint16); }),
            path + ": token id 70000 at position 2 does not fit uint16");
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(TokenFile, BadFiles) {
  TempDir dir;
  dir.write("empty.bin", "");
  dir.write("odd.bin", "abc");
  ErrorKind kind = ErrorKind::kIo;
  EXPECT_EQ(error_of([&] { TokenSpan::map_file(dir.file("none.bin"), TokenDtype::kUint16, "data.path: none.bin"); },
                     &kind),
            "data.path: none.bin: file not found");
  EXPECT_EQ(kind, ErrorKind::kBadInput);
  EXPECT_EQ(error_of([&] { TokenSpan::map_file(dir.file("empty.bin"), TokenDtype::kUint16, "E"); }),
            "E: file is empty");
  EXPECT_EQ(error_of([&] { TokenSpan::map_file(dir.file("odd.bin"), TokenDtype::kUint16, "O"); }),
            "O: 3 bytes is not a multiple of 2 (uint16 ids)");
  EXPECT_EQ(error_of([&] { TokenSpan::map_file(dir.file("odd.bin"), TokenDtype::kUint32, "O"); }),
            "O: 3 bytes is not a multiple of 4 (uint32 ids)");
}

TEST(TokenSpan, CheckVocabNamesFirstOffendingIdAndPosition) {
  const TokenSpan span = TokenSpan::from_ids({3, 9, 300, 1, 512});
  EXPECT_EQ(error_of([&] { check_vocab(span, 256, "data.path: t.bin"); }),
            "data.path: t.bin: token id 300 at position 2 is >= model.vocab_size 256");
  EXPECT_EQ(error_of([&] { check_vocab(span, 513, "x"); }), "");
  EXPECT_EQ(span.first_id_at_least(10), 2);
  EXPECT_EQ(span.first_id_at_least(600), -1);
}

TEST(TokenSpan, SliceSharesStorageAndCopiesWiden) {
  TempDir dir;
  write_token_file(dir.file("d.bin"), {10, 20, 30, 40, 50}, TokenDtype::kUint16);
  TokenSpan tail;
  {
    const TokenSpan all = TokenSpan::map_file(dir.file("d.bin"), TokenDtype::kUint16, "x");
    tail = all.slice(2, 5);
  }  // the mapping outlives `all`
  ASSERT_EQ(tail.size(), 3);
  int64_t out[2];
  tail.copy_to(1, 2, out);
  EXPECT_EQ(out[0], 40);
  EXPECT_EQ(out[1], 50);
}

TEST(TokenSpan, BytesOfATextFile) {
  TempDir dir;
  const TokenSpan span = TokenSpan::map_file(dir.write("t.txt", "hi\n\xff"), TokenDtype::kUint8, "x");
  EXPECT_EQ(span.to_vector(), (std::vector<int32_t>{'h', 'i', '\n', 255}));
}

TEST(TokenSpan, FromIdsStoresTheNarrowestDtype) {
  EXPECT_EQ(TokenSpan::from_ids({0, 255}).dtype(), TokenDtype::kUint8);
  EXPECT_EQ(TokenSpan::from_ids({0, 256}).dtype(), TokenDtype::kUint16);
  const TokenSpan wide = TokenSpan::from_ids({70000, 1});
  EXPECT_EQ(wide.dtype(), TokenDtype::kUint32);
  EXPECT_EQ(wide.to_vector(), (std::vector<int32_t>{70000, 1}));
}

TEST(TokenDtype, Parse) {
  EXPECT_EQ(parse_token_dtype("uint32"), TokenDtype::kUint32);
  EXPECT_EQ(error_of([] { parse_token_dtype("int8"); }), "data.token_dtype: expected uint16 or uint32, got \"int8\"");
}

}  // namespace
}  // namespace hcx::data
