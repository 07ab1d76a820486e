// Reading one weights file is that file's business: any std::exception that escapes a reader (a
// std::bad_alloc for sizes that passed every check but not this machine's memory, a
// std::length_error, a JSON type error) becomes a UsageError naming the file, exit 2, never the
// CLI's "internal error", exit 3. cxrtune's own typed errors, which name the file already, pass
// through unchanged.
#pragma once
#include <exception>
#include <new>
#include <string>
#include <utility>

#include "core/errors.h"

namespace cxr {

template <class Read>
auto as_file_error(const std::string& file, Read&& read) -> decltype(read()) {
  try {
    return std::forward<Read>(read)();
  } catch (const Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw UsageError(file + ": not enough memory to read it (std::bad_alloc): its tensors are larger than this "
                     "machine can hold");
  } catch (const std::exception& e) {
    throw UsageError(file + ": cannot be read: " + e.what());
  }
}

}  // namespace cxr
