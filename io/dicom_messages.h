// What DCMTK, GDCM, OpenJPEG and libjpeg (jpeg_reader.h) say while one file is read, kept for
// that file's error message instead of reaching stderr (every stderr line comes from cxrtune).
// The libraries' sinks are process-wide; the capture is per thread, so the loader's workers each
// collect the messages of the file they are reading. Messages on a thread with no capture open
// are dropped.
#pragma once
#include <string>

namespace cxr {

// Captures this thread's library messages from construction to destruction (nested captures:
// the innermost collects).
class LibraryMessages {
 public:
  LibraryMessages();
  ~LibraryMessages();
  LibraryMessages(const LibraryMessages&) = delete;
  LibraryMessages& operator=(const LibraryMessages&) = delete;

  const std::string& text() const { return text_; }
  // " [DCMTK: ...; OpenJPEG: ...]", or empty when nothing was said.
  std::string suffix() const { return text_.empty() ? std::string() : " [" + text_ + "]"; }
  void add(const char* library, const std::string& message);

 private:
  std::string text_;
  LibraryMessages* previous_;
};

// Hands one message to this thread's open capture, if any (trailing newlines trimmed).
void library_message(const char* library, const std::string& message);

// Once per process: DCMTK's oflog root logger (warnings and above) goes to library_message and
// nowhere else. Thread-safe.
void route_dcmtk_messages();

}  // namespace cxr
