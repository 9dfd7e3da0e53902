// hcx-spm: the SentencePiece helper that hcx runs as a child process (train a
// model, encode text into a token file). It exists because libsentencepiece
// bundles a protobuf that crashes next to LibTorch's: hcx links LibTorch, so
// SentencePiece lives in this separate, torch-free program.
//
// Commands (exit 0 on success, 2 on bad input or usage, 1 on an I/O error;
// every error is one line on stderr starting with "hcx-spm: "):
//   hcx-spm info MODEL
//       prints "vocab_size N" on stdout
//   hcx-spm train --input TEXT --prefix PREFIX --vocab N [--model-type bpe|unigram|char|word] [--verbose]
//       writes PREFIX.model and PREFIX.vocab
//   hcx-spm encode --model MODEL --input TEXT --output OUT [--dtype uint16|uint32] [--index IDX]
//       encodes TEXT line by line (lines split at '\n'; the newline itself is
//       not encoded, as in spm_encode) into OUT: raw little-endian ids, no
//       header (nanoGPT's .bin layout). With --index, also writes IDX: one
//       pair of little-endian uint64 (byte offset of the line in TEXT, index
//       of its first token in OUT) per line, then (size of TEXT, token count).
//   hcx-spm encode-lines --model MODEL --input LINES --output OUT
//       encodes each line of LINES separately; OUT gets one line per input
//       line holding the ids separated by spaces (empty for an empty line).
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

// Defined in libsentencepiece but absent from its public headers; it silences
// the trainer's progress log (LOG(INFO) lines) unless --verbose is given.
namespace sentencepiece::logging {
void SetMinLogLevel(int v);
}  // namespace sentencepiece::logging

namespace {

constexpr int kBadInput = 2;
constexpr int kIo = 1;

struct Failure {
  int code;
  std::string message;
};

[[noreturn]] void fail(int code, const std::string& message) { throw Failure{code, message}; }

const char* kUsage =
    "usage: hcx-spm info MODEL\n"
    "       hcx-spm train --input TEXT --prefix PREFIX --vocab N [--model-type bpe|unigram|char|word] [--verbose]\n"
    "       hcx-spm encode --model MODEL --input TEXT --output OUT [--dtype uint16|uint32] [--index IDX]\n"
    "       hcx-spm encode-lines --model MODEL --input LINES --output OUT\n";

// "--key value" pairs after the command; flags listed in `switches` take no value.
std::map<std::string, std::string> parse_flags(int argc, char** argv, int first,
                                               const std::vector<std::string>& allowed,
                                               const std::vector<std::string>& switches = {}) {
  std::map<std::string, std::string> flags;
  for (int i = first; i < argc; ++i) {
    const std::string key = argv[i];
    bool known = false, is_switch = false;
    for (const auto& a : allowed) known |= (a == key);
    for (const auto& s : switches) is_switch |= (s == key);
    if (!known && !is_switch) fail(kBadInput, "unknown argument '" + key + "'\n" + kUsage);
    if (is_switch) {
      flags[key] = "1";
      continue;
    }
    if (i + 1 >= argc) fail(kBadInput, key + ": expected a value");
    flags[key] = argv[++i];
  }
  return flags;
}

std::string required(const std::map<std::string, std::string>& flags, const std::string& key) {
  auto it = flags.find(key);
  if (it == flags.end()) fail(kBadInput, "missing " + key + "\n" + kUsage);
  return it->second;
}

void require_readable(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(kBadInput, path + ": file not found");
}

void load_model(sentencepiece::SentencePieceProcessor& sp, const std::string& path) {
  require_readable(path);
  const auto status = sp.Load(path);
  if (!status.ok()) fail(kBadInput, path + ": not a SentencePiece model (" + status.ToString() + ")");
}

int cmd_info(int argc, char** argv) {
  if (argc != 3) fail(kBadInput, std::string("info: expected one MODEL argument\n") + kUsage);
  sentencepiece::SentencePieceProcessor sp;
  load_model(sp, argv[2]);
  std::printf("vocab_size %d\n", sp.GetPieceSize());
  return 0;
}

int cmd_train(int argc, char** argv) {
  auto flags = parse_flags(argc, argv, 2, {"--input", "--prefix", "--vocab", "--model-type"}, {"--verbose"});
  const std::string input = required(flags, "--input");
  const std::string prefix = required(flags, "--prefix");
  const std::string vocab = required(flags, "--vocab");
  const std::string type = flags.count("--model-type") ? flags["--model-type"] : "bpe";
  require_readable(input);
  char* end = nullptr;
  const long n = std::strtol(vocab.c_str(), &end, 10);
  if (*end != '\0' || n < 8) fail(kBadInput, "--vocab: expected an integer >= 8, got '" + vocab + "'");
  if (type != "bpe" && type != "unigram" && type != "char" && type != "word")
    fail(kBadInput, "--model-type: expected bpe, unigram, char or word, got '" + type + "'");
  if (!flags.count("--verbose")) sentencepiece::logging::SetMinLogLevel(1);
  // character_coverage 1.0: small vocabularies keep every character of the
  // text rather than mapping rare ones to <unk>.
  const std::string args = "--input=" + input + " --model_prefix=" + prefix + " --vocab_size=" + vocab +
                           " --model_type=" + type + " --character_coverage=1.0";
  const auto status = sentencepiece::SentencePieceTrainer::Train(args);
  if (!status.ok()) fail(kBadInput, input + ": training failed: " + status.ToString());
  return 0;
}

void write_u64(std::ofstream& out, uint64_t v) {
  unsigned char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(v >> (8 * i));
  out.write(reinterpret_cast<const char*>(b), 8);
}

void write_id(std::ofstream& out, int id, int width) {
  unsigned char b[4];
  for (int i = 0; i < width; ++i) b[i] = static_cast<unsigned char>(static_cast<uint32_t>(id) >> (8 * i));
  out.write(reinterpret_cast<const char*>(b), width);
}

int cmd_encode(int argc, char** argv) {
  auto flags = parse_flags(argc, argv, 2, {"--model", "--input", "--output", "--dtype", "--index"});
  const std::string model = required(flags, "--model");
  const std::string input = required(flags, "--input");
  const std::string output = required(flags, "--output");
  const std::string dtype = flags.count("--dtype") ? flags["--dtype"] : "uint32";
  if (dtype != "uint16" && dtype != "uint32")
    fail(kBadInput, "--dtype: expected uint16 or uint32, got '" + dtype + "'");
  const int width = dtype == "uint16" ? 2 : 4;
  sentencepiece::SentencePieceProcessor sp;
  load_model(sp, model);
  if (width == 2 && sp.GetPieceSize() > 65536)
    fail(kBadInput, model + ": " + std::to_string(sp.GetPieceSize()) + " pieces do not fit --dtype uint16");
  std::ifstream in(input, std::ios::binary);
  if (!in) fail(kBadInput, input + ": file not found");
  std::ofstream out(output, std::ios::binary | std::ios::trunc);
  if (!out) fail(kIo, output + ": cannot write");
  std::ofstream index;
  if (flags.count("--index")) {
    index.open(flags["--index"], std::ios::binary | std::ios::trunc);
    if (!index) fail(kIo, flags["--index"] + ": cannot write");
  }
  std::string line;
  std::vector<int> ids;
  uint64_t byte_offset = 0, tokens = 0;
  while (std::getline(in, line)) {
    const bool had_newline = !in.eof();
    if (index.is_open()) {
      write_u64(index, byte_offset);
      write_u64(index, tokens);
    }
    byte_offset += line.size() + (had_newline ? 1 : 0);
    const auto status = sp.Encode(line, &ids);
    if (!status.ok()) fail(kBadInput, input + ": cannot encode line: " + status.ToString());
    for (int id : ids) write_id(out, id, width);
    tokens += ids.size();
  }
  if (index.is_open()) {
    write_u64(index, byte_offset);
    write_u64(index, tokens);
    index.close();
    if (!index) fail(kIo, flags["--index"] + ": write failed");
  }
  out.close();
  if (!out) fail(kIo, output + ": write failed");
  return 0;
}

int cmd_encode_lines(int argc, char** argv) {
  auto flags = parse_flags(argc, argv, 2, {"--model", "--input", "--output"});
  const std::string model = required(flags, "--model");
  const std::string input = required(flags, "--input");
  const std::string output = required(flags, "--output");
  sentencepiece::SentencePieceProcessor sp;
  load_model(sp, model);
  std::ifstream in(input, std::ios::binary);
  if (!in) fail(kBadInput, input + ": file not found");
  std::ofstream out(output, std::ios::binary | std::ios::trunc);
  if (!out) fail(kIo, output + ": cannot write");
  std::string line;
  std::vector<int> ids;
  while (std::getline(in, line)) {
    const auto status = sp.Encode(line, &ids);
    if (!status.ok()) fail(kBadInput, input + ": cannot encode line: " + status.ToString());
    for (size_t i = 0; i < ids.size(); ++i) out << (i ? " " : "") << ids[i];
    out << '\n';
  }
  out.close();
  if (!out) fail(kIo, output + ": write failed");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc < 2) fail(kBadInput, std::string("expected a command\n") + kUsage);
    const std::string cmd = argv[1];
    if (cmd == "info") return cmd_info(argc, argv);
    if (cmd == "train") return cmd_train(argc, argv);
    if (cmd == "encode") return cmd_encode(argc, argv);
    if (cmd == "encode-lines") return cmd_encode_lines(argc, argv);
    if (cmd == "--help" || cmd == "-h") {
      std::cout << kUsage;
      return 0;
    }
    fail(kBadInput, "unknown command '" + cmd + "'\n" + kUsage);
  } catch (const Failure& f) {
    std::cerr << "hcx-spm: " << f.message << "\n";
    return f.code;
  }
}
