// core/member_view: the members a worker's subscribers of a presence channel were shown, and
// which member_added is news to them.
#include "core/member_view.h"

#include "support.h"

using namespace raptor;

TEST_CASE("member view: a user added twice without leaving is news once", "[member_view]") {
  MemberView v;
  CHECK(v.added("ann", 1));
  CHECK_FALSE(v.added("ann", 4));  // re-added by Redis: the subscribers never heard her leave
  v.removed("ann", 5);
  CHECK_FALSE(v.shows("ann"));
  CHECK(v.added("ann", 6));  // back after a leave they heard
}

TEST_CASE("member view: a roster overrides what is older and leaves what is newer", "[member_view]") {
  MemberView v;
  v.removed("bob", 8);  // heard before the roster below, which predates it
  CHECK(v.added("cid", 2));
  v.roster({{"ann", "{}"}, {"bob", "{}"}}, 7);
  CHECK(v.shows("ann"));
  CHECK_FALSE(v.shows("bob"));  // gone at 8: the roster of 7 does not bring him back
  CHECK_FALSE(v.shows("cid"));  // left by 7, though its leave never reached this worker
  CHECK_FALSE(v.added("ann", 9));
  CHECK(v.added("bob", 9));
  CHECK(v.added("cid", 9));
}
