// process/DrainTally: when a draining node may exit.
#include "process/drain_progress.h"

#include <catch2/catch.hpp>

using namespace raptor::process;

TEST_CASE("a drain is settled once every worker began and nothing is left anywhere", "[process][drain]") {
  DrainProgress a, b;
  a.started = true;
  a.closed = 3;
  b.closed = 2;
  b.connections = 1;
  DrainTally t = DrainTally::of({&a, &b}, 0);
  CHECK(t.closed == 5);
  CHECK_FALSE(t.sockets_closed());  // worker b has not begun
  b.started = true;
  CHECK_FALSE(DrainTally::of({&a, &b}, 0).sockets_closed());  // and still has a connection
  b.connections = 0;
  b.http = 1;
  t = DrainTally::of({&a, &b}, 0);
  CHECK(t.sockets_closed());
  CHECK_FALSE(t.settled());  // an HTTP answer is still owed
  b.http = 0;
  a.cluster_changes = 2;
  CHECK_FALSE(DrainTally::of({&a, &b}, 0).settled());  // Redis has not answered yet
  a.cluster_changes = 0;
  CHECK_FALSE(DrainTally::of({&a, &b}, 4).settled());  // webhook events to send
  CHECK(DrainTally::of({&a, &b}, 0).settled());
}
