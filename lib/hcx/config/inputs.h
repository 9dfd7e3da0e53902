// The files a run reads (plain C++): which config keys name them, whether
// they are there to be read, and what they hold (the runs.data_id of schema
// 2). Sweeps and `hcx run` check the files before anything is written or
// trained, so a typo in a path is exit 2 naming the key, not a failed run.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "hcx/config/run_config.h"

namespace hcx::config {

// One file a run reads, and the key that names it.
struct InputFile {
  std::string key;   // "data.path", "data.tokenizer", "eval.tasks[0].path", "eval.extra_val[1].path"
  std::string path;  // as written in the config (relative to the working directory)
};

// Every file run `c` reads, in this order: data.path (data.source "text" or
// "tokens"); data.tokenizer when it names a model rather than "bytes" and the
// source is not "synthetic"; the path of each eval.tasks entry of kind
// "choice" or "pairs"; the path of each eval.extra_val entry. Empty paths
// (a validate() error already) are left out.
std::vector<InputFile> input_files(const RunConfig& c);

// Rewrites every relative input path of `c` (those input_files() lists) as
// seen from `dir`: (dir / path), lexically normal. An experiment or run file
// names its data relative to itself, like `base`; with `dir` the file's own
// folder as given on the command line, the result stays relative to the
// working directory when that folder was (sweep children and Slurm tasks run
// there). Absolute paths and an empty `dir` leave `c` as it is.
void resolve_input_paths(RunConfig& c, const std::filesystem::path& dir);

// One message per input file that cannot be read, "<key>: <path>: <why>",
// why being "file not found", "is a directory, not a file" or "cannot be
// read (<strerror>)". Empty when every file is there.
std::vector<std::string> check_input_files(const RunConfig& c);

// "<bytes>:<fnv1a-64 of the contents, 16 hex digits>" of the file at `path`.
// Remembered per path, size and modification time for the life of the
// process (a sweep asks once per run, mostly for the same files); safe to
// call from several threads. Throws Error(kBadInput) "<what>: <path>: ..."
// as check_input_files words it when the file cannot be read.
std::string file_id(const std::string& path, const std::string& what);

// The identity of the data run `c` trains and is evaluated on (runs.data_id):
// "synthetic" for data.source "synthetic" (the corpus is a function of the
// config, whose hash is the run id), then file_id() of each input_files()
// entry, separated by spaces. Equal ids: the same bytes were read. Throws as
// file_id() does.
std::string data_id(const RunConfig& c);

}  // namespace hcx::config
