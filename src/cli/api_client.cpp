#include "cli/api_client.h"

#include <curl/curl.h>

#include <memory>

#include "cli/signed_request.h"

namespace raptor::cli {
namespace {

size_t append_body(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct HeaderListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

}  // namespace

ApiReply send(const Target& target, const http::Request& req) {
  ApiReply reply;
  // One request per process: the global set-up is made here, once, and left to the exit.
  static const CURLcode global = curl_global_init(CURL_GLOBAL_DEFAULT);
  std::unique_ptr<CURL, CurlDeleter> curl(global == CURLE_OK ? curl_easy_init() : nullptr);
  if (!curl) return reply.error = "cannot start libcurl", reply;
  std::string url = target.base_url + request_target(req);
  char error[CURL_ERROR_SIZE] = "";
  std::unique_ptr<curl_slist, HeaderListDeleter> headers(curl_slist_append(nullptr, "Content-Type: application/json"));
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, target.timeout_s);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "raptor/" RAPTOR_VERSION);
  if (!target.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, target.ca_file.c_str());
  if (req.method == "POST") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, long(req.body.size()));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  }
  CURLcode result = curl_easy_perform(c);
  if (result != CURLE_OK) {
    // The address only: the rest of the URL is the signed query, long and of no help here.
    reply.error = "cannot reach " + target.base_url + ": " + (*error ? error : curl_easy_strerror(result));
    return reply;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
  reply.reached = true;
  return reply;
}

}  // namespace raptor::cli
