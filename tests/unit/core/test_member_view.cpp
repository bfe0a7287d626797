// core/member_view: the members a worker's subscribers of a presence channel were shown, and
// which member_added is news to them.
#include "core/member_view.h"

#include <string>
#include <utility>
#include <vector>

#include "support.h"

using namespace raptor;

namespace {
using Roster = std::vector<std::pair<std::string, std::string>>;  // user id, user info
}

TEST_CASE("member view: a user added twice without leaving is news once", "[member_view]") {
  MemberView v;
  CHECK(v.added("ann", 10));
  CHECK_FALSE(v.added("ann", 20));  // re-added by Redis: the subscribers never heard her leave
  v.removed("ann", 30);
  CHECK_FALSE(v.shows("ann"));
  CHECK(v.added("ann", 40));  // back after a leave they heard
}

// Redis restarted empty: the nodes re-add every member, and subscribers who were given those
// users in their rosters (never by a member_added) must not hear them arrive again.
TEST_CASE("member view: a user known from a roster and added again later is no news", "[member_view]") {
  MemberView v;
  v.given_roster(Roster{{"ann", "{}"}, {"bob", "{}"}}, 100);
  CHECK(v.shows("ann"));
  CHECK_FALSE(v.added("ann", 500));
  CHECK_FALSE(v.added("bob", 501));
  CHECK_FALSE(v.added("bob", 502));
  v.removed("bob", 600);
  CHECK(v.added("bob", 700));
}

// The roster answer and the member events come by different ways: a user's own arrival (numbered
// within the roster) may come after the roster that holds her, and subscribers given older rosters
// have not seen her.
TEST_CASE("member view: an arrival numbered within the roster that holds it is still news", "[member_view]") {
  MemberView v;
  v.given_roster(Roster{{"cat", "{}"}}, 100);
  CHECK(v.added("cat", 90));
  CHECK_FALSE(v.added("cat", 800));  // and a re-add after it is not
  v.given_roster(Roster{{"dan", "{}"}}, 120);
  v.given_roster(Roster{{"dan", "{}"}}, 300);  // the oldest roster holding her counts
  CHECK(v.added("dan", 110));
}

TEST_CASE("member view: a roster older than the events seen, or not from the cluster, teaches nothing", "[member_view]") {
  MemberView v;
  v.removed("eve", 200);                      // eve left at 200 ...
  v.given_roster(Roster{{"eve", "{}"}}, 150);  // ... a roster read before that still holds her
  CHECK_FALSE(v.shows("eve"));
  CHECK(v.added("eve", 250));  // her return is news
  v.given_roster(Roster{{"fay", "{}"}}, 0);
  CHECK_FALSE(v.shows("fay"));
}
