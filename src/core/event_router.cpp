#include "core/event_router.h"

namespace raptor {

Delivery EventRouter::delivery(Delivery::Kind kind, const App& app, std::string target, std::string text,
                               std::string except_socket_id, uint64_t version) {
  Delivery d;
  d.kind = kind;
  d.app = &app;
  d.target = std::move(target);
  d.text = std::make_shared<const std::string>(std::move(text));
  d.except_socket_id = std::move(except_socket_id);
  d.version = version;
  return d;
}

void EventRouter::announce(uint64_t workers, const Delivery& d) {
  if (hub_.workers() == 1)
    deliver(d);  // alone: deliver now, in order anyway
  else
    hub_.post(workers, d);
}

ChannelDirectory::Announce EventRouter::announcer(const App& app, const std::string& channel, std::string text,
                                                  const Connection* except) {
  return [this, &app, channel, text = std::move(text), except](uint64_t version, uint64_t workers) {
    announce(workers, delivery(Delivery::Kind::ChannelEvent, app, channel, text,
                               except ? except->socket_id() : std::string(), version));
  };
}

void EventRouter::dispatch(const Delivery& d) {
  deliver(d);
  if (hub_.workers() > 1) hub_.forward_to_user(worker_, d);
  if (cluster_) cluster_->publish(d.kind, *d.app, d.target, d.text ? std::string_view(*d.text) : std::string_view(),
                                  d.except_socket_id);
}

void EventRouter::broadcast(const App& app, const std::string& channel, std::string text, const Connection* except,
                            std::string_view except_socket_id) {
  // One look at the directory per event: the workers to reach and the matching patterns.
  bool alone = hub_.workers() < 2;
  ChannelDirectory::Route route;
  if (!alone || hub_.directory().has_patterns()) route = hub_.directory().route(app, channel);
  fan_out_.deliver_local(app, channel, text, except, except_socket_id, 0, route.patterns.get());
  if (except) except_socket_id = except->socket_id();
  if (cluster_) cluster_->publish(Delivery::Kind::ChannelEvent, app, channel, text, except_socket_id);
  if (alone) return;
  Delivery d = delivery(Delivery::Kind::ChannelEvent, app, channel, std::move(text), std::string(except_socket_id));
  d.patterns = std::move(route.patterns);
  hub_.post(route.workers & ~(uint64_t(1) << worker_), d);
}

void EventRouter::deliver(const Delivery& d) {
  if (d.kind == Delivery::Kind::ChannelEvent)
    fan_out_.deliver_local(*d.app, d.target, *d.text, nullptr, d.except_socket_id, d.version, d.patterns.get());
  else
    to_users_(d);
}

void EventRouter::deliver_from_cluster(Delivery::Kind kind, const App& app, const std::string& target,
                                       std::string_view text, std::string_view except_socket_id, uint64_t version) {
  if (kind == Delivery::Kind::ChannelEvent)
    fan_out_.deliver_local(app, target, text, nullptr, except_socket_id, version);
  else
    to_users_(delivery(kind, app, target, std::string(text), std::string(except_socket_id)));
}

void EventRouter::deliver_from_cluster_to_pattern(const App& app, const std::string& channel,
                                                  const std::string& pattern, std::string_view text,
                                                  std::string_view except_socket_id) {
  fan_out_.deliver_to_patterns(app, channel, text, connections_.with(except_socket_id), {pattern});
}

}  // namespace raptor
