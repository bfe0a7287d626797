// libFuzzer target for the raptor.rb loader (issue 20): the bytes as a configuration file, read by
// script/config_file in its sandboxed VM (mruby's parser, the DSL of mrblib/config.rb, the
// settings taken from it), then its hooks loaded into a worker's VM. The file is the operator's,
// but `raptor check` is what an operator runs on a file they are unsure of, and the sandbox must
// hold whatever the file does. scripts/fuzz builds and runs it; tests/fuzz/corpus/config_file/
// holds seeds (the shipped and example files among them).
//
// Input: the file's text. Checked: a refusal names the file first ("file:line: …"); an accepted
// file's hooks load, or their failure says why.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "fuzz_support.h"
#include "script/config_file.h"

using namespace raptor;

namespace {

constexpr const char* kTarget = "config_file_fuzz";

// One file per process, in memory when /dev/shm is there.
const std::string& file_path() {
  static const std::string path = (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") +
                                  std::string("/raptor-config-fuzz-") + std::to_string(getpid()) + ".rb";
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = file_path();
  FILE* out = fopen(path.c_str(), "wb");
  FUZZ_CHECK(out);
  FUZZ_CHECK(fwrite(data, 1, size, out) == size);
  fclose(out);

  Config config;
  std::string message;
  if (!script::read_config_file(path, config, message)) {
    FUZZ_CHECK(message.compare(0, path.size(), path) == 0);
  } else {
    config.workers = 1;
    std::string error;
    if (!script::load_policies(config, error)) FUZZ_CHECK(!error.empty());
  }
  unlink(path.c_str());
  return 0;
}
