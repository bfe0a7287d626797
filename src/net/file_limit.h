// Every connection is a file descriptor, so the per-process open-file limit caps connections.
#pragma once

namespace raptor::net {

// Raises the soft RLIMIT_NOFILE to the hard limit and logs the connections that allows, with how
// to raise the hard limit when it is the bound (systemd LimitNOFILE=, ulimit -Hn).
void raise_file_limit();

}  // namespace raptor::net
