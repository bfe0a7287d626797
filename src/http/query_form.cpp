#include "http/query_form.h"

#include <algorithm>

namespace raptor::http {

namespace {

bool signable(std::string_view value) {
  return std::none_of(value.begin(), value.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return c < 0x20 || c == 0x7f || c == '&' || c == ':';
  });
}

std::string takes(const std::vector<std::string_view>& endpoint_params) {
  std::string out;
  for (std::string_view name : endpoint_params) out.append(out.empty() ? "" : ", ").append(name);
  return out.empty() ? "none beyond the signature's" : out + " and the signature's";
}

}  // namespace

std::optional<QueryFault> check_query_form(const Request& req, const std::vector<std::string_view>& endpoint_params) {
  for (size_t i = 0; i < req.query.size(); ++i) {
    const auto& [name, value] = req.query[i];
    bool known = std::find(std::begin(kSignatureParams), std::end(kSignatureParams), name) != std::end(kSignatureParams) ||
                 std::find(endpoint_params.begin(), endpoint_params.end(), name) != endpoint_params.end();
    if (!known)
      return QueryFault{name, "Query parameter \"" + name + "\" is unknown: this endpoint takes " +
                                  takes(endpoint_params) + " (names in lower case)"};
    for (size_t j = 0; j < i; ++j)
      if (req.query[j].first == name) return QueryFault{name, "Query parameter \"" + name + "\" is given twice"};
    if (!signable(value))
      return QueryFault{name, "Query parameter \"" + name + "\" holds a control character, '&' or ':', which "
                                  "would not sign unambiguously; free text belongs in the JSON body"};
  }
  return std::nullopt;
}

}  // namespace raptor::http
