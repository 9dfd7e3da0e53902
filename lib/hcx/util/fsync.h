// fsync of a file or a folder, for the files hcx writes to a temporary name,
// syncs and renames into place (train/checkpoint.cpp, train/export.cpp).
#pragma once

#include <filesystem>

namespace hcx::util {

// fsyncs `path` (a folder when `directory`: after a rename in it, so the new
// name survives a crash). False with errno set when it cannot be opened,
// synced or closed.
bool sync_path(const std::filesystem::path& path, bool directory = false);

}  // namespace hcx::util
