// core/member_view: the members a worker's subscribers of a presence channel were shown, and
// which member_added is news to them.
#include "core/member_view.h"

#include "support.h"

using namespace raptor;

TEST_CASE("member view: a user added twice without leaving is news once", "[member_view]") {
  MemberView v;
  CHECK(v.added("ann"));
  CHECK_FALSE(v.added("ann"));  // re-added by Redis: the subscribers never heard her leave
  v.removed("ann");
  CHECK_FALSE(v.shows("ann"));
  CHECK(v.added("ann"));  // back after a leave they heard
}
