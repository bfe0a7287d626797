#include "protocol/json.h"

#include <cstdlib>

namespace raptor::json {

Ptr parse(std::string_view text) { return Ptr(cJSON_ParseWithLength(text.data(), text.size())); }

std::string print(const cJSON* node) {
  char* s = cJSON_PrintUnformatted(node);
  if (!s) return "null";
  std::string out(s);
  free(s);
  return out;
}

void append_quoted(std::string& out, std::string_view s) {
  static const char hex[] = "0123456789abcdef";
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(hex[c >> 4]);
          out.push_back(hex[c & 15]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

std::string quoted(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  append_quoted(out, s);
  return out;
}

std::optional<std::string_view> string_member(const cJSON* obj, const char* key) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!cJSON_IsString(item) || !item->valuestring) return std::nullopt;
  return std::string_view(item->valuestring);
}

}  // namespace raptor::json
