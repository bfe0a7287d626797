// core/connection_table: socket ids, lookups, and the parts liveness passes walk.
#include "core/connection_table.h"

#include <map>
#include <set>

#include "protocol/socket_id.h"
#include "support.h"

using namespace raptor;
using namespace raptor::test;

TEST_CASE("connection table: ids are unique, Pusher-shaped, and name their connection", "[connection_table]") {
  App app = reference_app();
  ConnectionTable table;
  std::set<std::string> ids;
  for (int i = 0; i < 500; ++i) {
    Connection* c = table.add(app, nullptr, 7);
    CHECK(is_valid_socket_id(c->socket_id()));
    CHECK(c->opened_ms() == 7);
    ids.insert(c->socket_id());
    CHECK(table.with(c->socket_id()) == c);
  }
  CHECK(ids.size() == 500);
  CHECK(table.size() == 500);
  CHECK(table.with("") == nullptr);
  CHECK(table.with("1.2") == nullptr);
}

TEST_CASE("connection table: open_count leaves out closing connections, remove deletes", "[connection_table]") {
  App app = reference_app();
  ConnectionTable table;
  Connection* a = table.add(app, nullptr, 0);
  Connection* b = table.add(app, nullptr, 0);
  a->begin_close(4200, "bye", false);
  CHECK(table.open_count() == 1);
  std::string id = b->socket_id();
  table.remove(*b);
  CHECK(table.with(id) == nullptr);
  CHECK(table.size() == 1);
}

TEST_CASE("connection table: the parts of a pass visit every connection once", "[connection_table]") {
  App app = reference_app();
  ConnectionTable table;
  for (int i = 0; i < 1000; ++i) table.add(app, nullptr, 0);
  for (size_t parts : {1, 3, 10}) {
    std::map<const Connection*, int> visits;
    for (size_t part = 0; part < parts; ++part)
      table.for_each_in_part(part, parts, [&](Connection& c) { ++visits[&c]; });
    INFO("parts=" << parts);
    CHECK(visits.size() == 1000);
    CHECK(std::all_of(visits.begin(), visits.end(), [](const auto& v) { return v.second == 1; }));
  }
}
