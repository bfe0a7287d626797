// A configuration reload (SIGHUP): what a running server takes from a new configuration and what
// needs a restart. The process (process/reloader.h) reads the configuration again, keeps the
// restart-only settings as they are (keep_restart_only), pauses every worker, changes the apps in
// place (update_apps) and the limits, and hands each worker its new policy. docs/configuration.md
// has the list for operators.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "config/config.h"

namespace raptor {

// Reads the configuration again as it was read at start-up (the same command line and
// environment, the file read again) into `next`, with one policy per running worker; the
// restart-only settings it changes are set back to `running`'s and described in `kept`. False
// with "file:line: message" in `error` when the new configuration cannot be used.
using Reread = std::function<bool(const Config& running, Config& next, std::vector<std::string>& kept,
                                  std::string& error)>;

// Sets the settings of `next` that only a restart can change (listen address and port, TLS on
// or off, workers, event loop, compression, webhook delivery settings) back to `running`'s. Returns one
// line for each that differed, naming the setting, the value asked for and the value kept.
std::vector<std::string> keep_restart_only(const Config& running, Config& next);

// The settings a reload changes live (timeouts, limits, hook budget, script memory, the TLS
// files and policy), as
// "name old -> new"; apps are reported by update_apps.
std::vector<std::string> live_changes(const Config& running, const Config& next);

struct AppChanges {
  std::vector<std::string> added;    // ids, new or back from retirement
  std::vector<std::string> removed;  // ids now retired
  std::vector<std::string> changed;  // "id (secret, webhooks)": which settings, never their values
  bool empty() const { return added.empty() && removed.empty() && changed.empty(); }
};

// Makes the served apps of `live` those of `next`, by id: an app still there is updated in place
// (connections keep pointing at it and see its new key, secret and limits), a new one is added,
// and one that is gone is retired (kept, but no longer served). Call while no thread reads them.
AppChanges update_apps(AppList& live, const std::vector<App>& next);

// "apps: added a; removed b; changed c (secret)" or "apps unchanged".
std::string describe(const AppChanges& changes);

}  // namespace raptor
