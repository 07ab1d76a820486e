// Typed errors of cxrtune. Library code throws these; cli/main.cpp catches them once and maps
// them to the exit codes of docs/exit-codes.md. Never exit() or abort() on user input.
#pragma once
#include <stdexcept>
#include <string>

namespace cxr {

// Base of every cxrtune error. `exit_code()` is what the CLI returns.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
  virtual int exit_code() const = 0;
};

// Bad usage, recipe, data or file contents supplied by the user: exit 2.
class UsageError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return 2; }
};

// A network/layer description that does not fit together (shape mismatch, unknown op,
// unsupported (op, backend) pair). Names the layer. Exit 2: it comes from what the user asked.
class GraphError : public UsageError {
 public:
  using UsageError::UsageError;
};

// Failure at run time that is not the user's input: backend, I/O, non-finite loss. Exit 3.
class RuntimeFailure : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return 3; }
};

// An error from a backend library (oneDNN, cuDNN, CUDA) with the primitive kind and shapes.
class BackendError : public RuntimeFailure {
 public:
  using RuntimeFailure::RuntimeFailure;
};

// Training was interrupted by SIGINT/SIGTERM after the checkpoint was written: exit 130.
class Interrupted : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return 130; }
};

}  // namespace cxr
