// hcx data: tokenizers, token files and a look at a run's data (lib/hcx/data/).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "commands.h"
#include "hcx/config/run_config.h"
#include "hcx/data/dataset.h"
#include "hcx/data/synthetic.h"
#include "hcx/data/tasks.h"
#include "hcx/data/tokenizer.h"

namespace hcx::cli {

namespace {

struct TrainOptions {
  std::string text;
  int64_t vocab = 0;
  std::string prefix;  // default: <stem>_<type><vocab> in the working directory
  std::string model_type = "bpe";
};

struct EncodeOptions {
  std::string text;
  std::string tokenizer = "bytes";
  std::string out;
  std::string dtype = "uint16";
};

struct SampleOptions {
  int64_t tokens = 200;
  int64_t difficulty = 2;
  int64_t vocab_size = 256;
};

struct CheckOptions {
  std::string config;
};

int run_train(const TrainOptions& o) {
  const std::string prefix = o.prefix.empty() ? std::filesystem::path(o.text).stem().string() + "_" + o.model_type +
                                                    std::to_string(o.vocab)
                                              : o.prefix;
  const std::string model = data::train_sentencepiece(o.text, o.vocab, prefix, o.model_type);
  spdlog::info("trained a {} tokenizer of {} pieces on {}", o.model_type, o.vocab, o.text);
  std::printf("%s\n", model.c_str());
  return 0;
}

int run_encode(const EncodeOptions& o) {
  const data::Tokenizer tok = data::Tokenizer::open(o.tokenizer, "--tokenizer");
  const data::TokenDtype dtype = data::parse_token_dtype(o.dtype, "--dtype");
  const int64_t n = data::encode_text_file(tok, o.text, o.out, dtype);
  std::printf("%s: %lld tokens (%s, vocabulary %lld)\n", o.out.c_str(), static_cast<long long>(n),
              data::to_string(dtype), static_cast<long long>(tok.vocab_size()));
  return 0;
}

int run_sample(const SampleOptions& o) {
  const data::SyntheticVocab vocab = data::synthetic_vocab(o.vocab_size);
  const auto ids = data::generate_synthetic(vocab, o.difficulty, o.tokens);
  std::string line;
  for (int32_t id : ids) {
    if (id == data::SyntheticVocab::kDoc && !line.empty()) {
      std::printf("%s\n", line.c_str());
      line.clear();
    }
    line += (line.empty() ? "" : " ") + data::token_name(vocab, id);
  }
  std::printf("%s\n", line.c_str());
  return 0;
}

int run_check(const CheckOptions& o) {
  const config::RunConfig cfg = o.config.empty() ? config::parse_or_throw(config::Json::object())
                                                 : config::load_file(o.config);
  const data::Dataset d = data::open_dataset(cfg);
  auto bpt = [](const data::ValSet& v) {
    return v.bytes_per_token ? std::to_string(*v.bytes_per_token) : std::string("n/a");
  };
  std::printf("source        %s\n", d.source.c_str());
  std::printf("tokenizer     %s\n", d.tokenizer ? d.tokenizer->name().c_str() : "(synthetic language)");
  std::printf("train tokens  %lld\n", static_cast<long long>(d.train.size()));
  std::printf("val tokens    %lld (bytes/token %s)\n", static_cast<long long>(d.val.tokens.size()), bpt(d.val).c_str());
  for (const auto& v : d.extra_val)
    std::printf("extra val     %s: %lld tokens (bytes/token %s)\n", v.name.c_str(),
                static_cast<long long>(v.tokens.size()), bpt(v).c_str());
  for (const auto& t : data::load_tasks(cfg, d.tokenizer))
    std::printf("task          %s (%s): %zu items\n", t.name.c_str(), t.kind.c_str(), t.items.size());
  return 0;
}

}  // namespace

void add_data_command(CLI::App& app, int& exit_code) {
  auto* data = app.add_subcommand("data", "Tokenizers, token files and a look at a run's data");
  data->require_subcommand(1);
  data->footer(
      "Examples:\n"
      "  hcx data tokenizer train corpus.txt --vocab 4096     train a BPE model (corpus_bpe4096.model)\n"
      "  hcx data encode corpus.txt --tokenizer corpus_bpe4096.model -o corpus.bin\n"
      "  hcx data sample --difficulty 3                       print some of the synthetic language\n"
      "  hcx data check run.json                              open and check a run's data and tasks");

  auto* tokenizer = data->add_subcommand("tokenizer", "SentencePiece tokenizers");
  tokenizer->require_subcommand(1);
  auto train = std::make_shared<TrainOptions>();
  auto* t = tokenizer->add_subcommand("train", "Train a SentencePiece model (BPE by default) on a text file");
  t->add_option("file", train->text, "Text file to train on")->required();
  t->add_option("--vocab", train->vocab, "Vocabulary size (model.vocab_size must be at least this)")->required();
  t->add_option("-o,--output", train->prefix, "Output prefix: writes PREFIX.model and PREFIX.vocab "
                                              "(default: <file stem>_<type><vocab>)");
  t->add_option("--model-type", train->model_type, "bpe | unigram | char | word")
      ->check(CLI::IsMember({"bpe", "unigram", "char", "word"}))
      ->capture_default_str();
  t->footer("Prints the .model path on stdout. Example: hcx data tokenizer train austen.txt --vocab 2048");
  t->callback([train, &exit_code] { exit_code = run_train(*train); });

  auto enc = std::make_shared<EncodeOptions>();
  auto* e = data->add_subcommand("encode", "Tokenise a text file into a token file (data.source \"tokens\")");
  e->add_option("file", enc->text, "Text file")->required();
  e->add_option("--tokenizer", enc->tokenizer, "bytes, or a SentencePiece .model")->capture_default_str();
  e->add_option("-o,--output", enc->out, "Token file to write: raw little-endian ids, no header")->required();
  e->add_option("--dtype", enc->dtype, "uint16 | uint32")->capture_default_str();
  e->footer("Example: hcx data encode corpus.txt --tokenizer bytes -o corpus.bin");
  e->callback([enc, &exit_code] { exit_code = run_encode(*enc); });

  auto sample = std::make_shared<SampleOptions>();
  auto* s = data->add_subcommand("sample", "Print the start of the synthetic corpus, one document a line");
  s->add_option("--tokens", sample->tokens, "How many tokens")->capture_default_str()->check(CLI::Range(1, 1 << 24));
  s->add_option("--difficulty", sample->difficulty, "data.difficulty, 1..4")->capture_default_str();
  s->add_option("--vocab-size", sample->vocab_size, "model.vocab_size")->capture_default_str();
  s->callback([sample, &exit_code] { exit_code = run_sample(*sample); });

  auto check = std::make_shared<CheckOptions>();
  auto* c = data->add_subcommand("check", "Open a run config's data, validation sets and tasks, and summarise them");
  c->add_option("config", check->config, "Run config JSON (default: {})");
  c->callback([check, &exit_code] { exit_code = run_check(*check); });
}

}  // namespace hcx::cli
