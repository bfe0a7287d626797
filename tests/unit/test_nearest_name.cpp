// nearest_name: the "did you mean" of an unknown directive in raptor.rb.
#include "common/nearest_name.h"

#include "support.h"

using namespace raptor;

TEST_CASE("edit distance counts insertions, deletions, substitutions and swaps", "[nearest-name]") {
  CHECK(edit_distance("listen", "listen") == 0);
  CHECK(edit_distance("lissten", "listen") == 1);  // an insertion
  CHECK(edit_distance("lsten", "listen") == 1);    // a deletion
  CHECK(edit_distance("listan", "listen") == 1);   // a substitution
  CHECK(edit_distance("lisetn", "listen") == 1);   // two neighbours swapped
  CHECK(edit_distance("", "tls") == 3);
  CHECK(edit_distance("workers", "") == 7);
  CHECK(edit_distance("kitten", "sitting") == 3);
}

TEST_CASE("the nearest known name, when it is near enough", "[nearest-name]") {
  const std::vector<std::string> directives = {"activity_timeout", "app", "listen", "log_level", "tls", "workers"};
  CHECK(nearest_name("lissten", directives) == "listen");
  CHECK(nearest_name("worker", directives) == "workers");
  CHECK(nearest_name("activity_timout", directives) == "activity_timeout");
  CHECK(nearest_name("tsl", directives) == "tls");
  CHECK_FALSE(nearest_name("frobnicate", directives));
  CHECK_FALSE(nearest_name("listen", directives));  // never the word itself
  CHECK_FALSE(nearest_name("x", {}));
  // Of equally near ones the first, whatever their lengths ("listn" is 1 from each).
  CHECK(nearest_name("listn", {"listen", "lists"}) == "listen");
  CHECK(nearest_name("listn", {"lists", "listen"}) == "lists");
  CHECK_FALSE(nearest_name(std::string(5000, 'w'), directives));  // far longer than any name
}
