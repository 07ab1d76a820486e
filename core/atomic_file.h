// Files that are either wholly old or wholly new, never half-written: write to a temporary file
// in the same directory, fsync it, rename it over the target, fsync the directory. A crash or
// kill at any moment leaves the previous version intact.
#pragma once
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

namespace cxr {

// Writes `content` to `path` atomically. RuntimeFailure naming the path on any I/O error.
void write_file_atomic(const std::string& path, std::string_view content);

// For large binary files: `write` receives an open FILE* of the temporary file.
void write_file_atomic(const std::string& path, const std::function<void(std::FILE*)>& write);

// Appends one line (a '\n' is added) and flushes it to disk (metrics.jsonl).
void append_line_durable(const std::string& path, std::string_view line);

}  // namespace cxr
