#include "protocol/json.h"

#include <cstdint>
#include <cstdlib>

namespace raptor::json {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t skip_space(std::string_view t, size_t i) {
  while (i < t.size() && is_space(t[i])) ++i;
  return i;
}

// End of the string literal starting at t[i] == '"'.
size_t skip_string(std::string_view t, size_t i) {
  for (++i; i < t.size(); ++i) {
    if (t[i] == '\\') ++i;
    else if (t[i] == '"') return i + 1;
  }
  return t.size();
}

// End of the value starting at t[i]; `t` is known to be valid JSON.
size_t skip_value(std::string_view t, size_t i) {
  if (t[i] == '"') return skip_string(t, i);
  if (t[i] == '{' || t[i] == '[') {
    int depth = 0;
    for (; i < t.size(); ++i) {
      char c = t[i];
      if (c == '"') {
        i = skip_string(t, i) - 1;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        return i + 1;
      }
    }
    return t.size();
  }
  while (i < t.size() && t[i] != ',' && t[i] != '}' && t[i] != ']' && !is_space(t[i])) ++i;
  return i;
}


// RFC 8259 allows control characters only as white space between tokens (tab, line feed, carriage
// return), never raw inside a string. cJSON takes every byte up to a space as white space and
// copies raw ones into strings; raptor relays client event data and user_info as sent, so such
// text would reach other clients, whose parsers (JSON.parse in a browser) refuse it.
// The escape \u0000 is valid JSON, but cJSON's strings end at a NUL: "private-a\u0000b" would be
// read as "private-a" while the raw text relayed on says otherwise. No name or id can hold a NUL,
// so rather than read a string as something it is not, a text with \u0000 is refused whole.
bool controls_and_escapes_acceptable(std::string_view t) {
  bool in_string = false;
  for (size_t i = 0; i < t.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(t[i]);
    if (in_string) {
      if (c == '\\') {  // an escape: cJSON checks what follows, but keeps no NUL
        if (t.substr(i + 1, 5) == "u0000") return false;
        ++i;
      } else if (c == '"') {
        in_string = false;
      } else if (c < 0x20) {
        return false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c < 0x20 && !is_space(static_cast<char>(c))) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) { n = 1; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { n = 2; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { n = 3; cp = c & 0x07; }
    else return false;
    if (i + n >= s.size()) return false;
    for (size_t k = 1; k <= n; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += n + 1;
  }
  return true;
}

Ptr parse(std::string_view text) {
  if (!valid_utf8(text) || !controls_and_escapes_acceptable(text)) return nullptr;
  const char* end = nullptr;
  Ptr root(cJSON_ParseWithLengthOpts(text.data(), text.size(), &end, 0));
  if (!root) return nullptr;
  // cJSON stops after the first value; anything but white space after it is malformed.
  size_t rest = skip_space(text, static_cast<size_t>(end - text.data()));
  if (rest != text.size()) return nullptr;
  return root;
}

std::optional<std::string_view> raw_member(std::string_view object_text, std::string_view key) {
  size_t i = skip_space(object_text, 0);
  if (i >= object_text.size() || object_text[i] != '{') return std::nullopt;
  i = skip_space(object_text, i + 1);
  while (i < object_text.size() && object_text[i] == '"') {
    size_t key_end = skip_string(object_text, i);
    std::string_view k = object_text.substr(i + 1, key_end - i - 2);
    i = skip_space(object_text, key_end);
    if (i >= object_text.size() || object_text[i] != ':') return std::nullopt;
    i = skip_space(object_text, i + 1);
    if (i >= object_text.size()) return std::nullopt;
    size_t value_end = skip_value(object_text, i);
    if (k == key) return object_text.substr(i, value_end - i);
    i = skip_space(object_text, value_end);
    if (i < object_text.size() && object_text[i] == ',') i = skip_space(object_text, i + 1);
  }
  return std::nullopt;
}

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
  size_t plain = 0;  // start of the run of characters that need no escape
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;  // event data is mostly these: copied in runs
    out.append(s.data() + plain, i - plain);
    plain = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 15]);
    }
  }
  out.append(s.data() + plain, s.size() - plain);
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
