// CSV as RFC 4180 writes it: fields separated by commas, records by newlines; a field holding a
// comma, a quote, CR or LF is enclosed in double quotes with every quote doubled. The reader
// accepts what the writer writes (and spreadsheets' CRLF line ends); the writer quotes every
// field, so no name (a class called `a",b`, a file name with a comma) can shift a column.
#pragma once
#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

namespace cxr {

// Skips a UTF-8 byte-order mark at the start of `in` (spreadsheet programs save "CSV UTF-8" with
// one; it is not part of the header), and leaves any other input where it was.
void skip_utf8_bom(std::istream& in);

// Reads one record into `fields`; false at the end of the input. Quoted fields may hold
// commas, doubled quotes and newlines; `line` counts the newlines read (for error messages).
bool read_csv_record(std::istream& in, std::vector<std::string>& fields, int64_t& line);

// The same on text held in memory (a label file read whole), from `pos`, which it advances;
// several times faster than character-wise istream reads on a 112,120-row file.
bool read_csv_record(std::string_view text, size_t& pos, std::vector<std::string>& fields, int64_t& line);

// One field, always quoted: "a""b" for a"b.
std::string csv_field(std::string_view text);
// The fields as one record, each quoted, ending in "\n".
std::string csv_row(const std::vector<std::string>& fields);

}  // namespace cxr
