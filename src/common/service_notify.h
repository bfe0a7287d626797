// The service manager's readiness protocol (sd_notify(3), systemd's Type=notify) without
// libsystemd: one datagram such as "READY=1" to the unix socket named by $NOTIFY_SOCKET. Without
// that variable (not started by systemd, or another Type) it does nothing. Main thread only, at
// the process's lifecycle steps: READY=1 once every worker listens, RELOADING=1 and READY=1 around
// a reload, STOPPING=1 when the drain or the stop begins.
#pragma once
#include <string_view>

namespace raptor::service {

// Sends `state` ("KEY=value" lines) to $NOTIFY_SOCKET; a path, or an abstract name written with a
// leading '@'. False (and errno set) when the variable is set and the datagram cannot be sent.
bool notify(std::string_view state);

}  // namespace raptor::service
