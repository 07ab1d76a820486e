#include "io/dicom_messages.h"

#include <dcmtk/oflog/oflog.h>
#include <dcmtk/oflog/spi/logevent.h>

#include <mutex>

namespace cxr {
namespace {

thread_local LibraryMessages* current = nullptr;

// A corrupt file can make a decoder repeat itself for every tile or line: the message is for a
// person, so it stays short.
constexpr size_t kMaxText = 1500;

// oflog appender that hands every event to this thread's capture. log4cplus calls append() on
// the logging thread, under the appender's own lock.
class CaptureAppender final : public dcmtk::log4cplus::Appender {
 public:
  void close() override {}

 protected:
  void append(const dcmtk::log4cplus::spi::InternalLoggingEvent& event) override {
    library_message("DCMTK", event.getMessage().c_str());
  }
};

}  // namespace

LibraryMessages::LibraryMessages() : previous_(current) { current = this; }
LibraryMessages::~LibraryMessages() { current = previous_; }

void LibraryMessages::add(const char* library, const std::string& message) {
  std::string m = message;
  while (!m.empty() && (m.back() == '\n' || m.back() == '\r' || m.back() == ' ')) m.pop_back();
  if (m.empty()) return;
  const std::string entry = std::string(library) + ": " + m;
  if (text_.find(entry) != std::string::npos) return;  // said before for this file
  if (text_.size() >= kMaxText) return;
  text_ += (text_.empty() ? "" : "; ") + entry;
  if (text_.size() > kMaxText) text_ = text_.substr(0, kMaxText) + "...";
}

void library_message(const char* library, const std::string& message) {
  if (current) current->add(library, message);
}

void route_dcmtk_messages() {
  static std::once_flag once;
  std::call_once(once, [] {
    dcmtk::log4cplus::Logger root = dcmtk::log4cplus::Logger::getRoot();
    root.removeAllAppenders();
    root.addAppender(dcmtk::log4cplus::SharedAppenderPtr(new CaptureAppender));
    root.setLogLevel(dcmtk::log4cplus::WARN_LOG_LEVEL);
  });
}

}  // namespace cxr
