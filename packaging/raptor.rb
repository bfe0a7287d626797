# /etc/raptor/raptor.rb: the configuration of the raptor service, in Ruby.
#   raptor check --no-env /etc/raptor/raptor.rb
#                                         validate it (exit 2 with file:line: message on errors);
#                                         --no-env: the app and secrets are /etc/default/raptor's
#   systemctl reload raptor               apply it without dropping connections
# Every directive: /usr/share/doc/raptor/docs/configuration.md. A fuller example with hooks:
# /usr/share/doc/raptor/examples/raptor.rb.
#
# The app: the package made one with fresh credentials in /etc/default/raptor (RAPTOR_APP_ID,
# RAPTOR_APP_KEY, RAPTOR_APP_SECRET), which the service reads at start. Give those to your
# app's Pusher SDK. This file defines no app, so that one is served; see below to define apps
# here instead.

# Where clients and the HTTP API connect. Loopback only: put a TLS proxy in front, or listen on
# "0.0.0.0" (and consider `tls`) to take connections from other machines.
listen "127.0.0.1", port: 6001
# tls cert: "/etc/raptor/cert.pem", key: "/etc/raptor/key.pem"
#     min_version: "1.2" (or "1.3") and ciphers: "…" (TLS 1.2) may follow; `systemctl reload
#     raptor` after a renewal serves the new certificate without dropping connections

# workers 4                 # event-loop threads (default: one per core)
# drain_seconds 10          # on stop/restart/upgrade, seconds to close clients with 4200
#                           # (keep the unit's TimeoutStopSec above drain_seconds + 20)
activity_timeout 120        # seconds of client silence before a ping
pong_timeout 30             # seconds to answer it
max_send_queue 1_048_576    # bytes a slow client may hold unsent
max_message_size 65_536     # largest message a client may send
# redis "redis://127.0.0.1:6379/0"   # one node of a cluster sharing this Redis

# Apps defined here replace the one of /etc/default/raptor (the first app here becomes the
# default app). Keep secrets out of this file: env() reads RAPTOR_* variables, which you add to
# /etc/default/raptor.
#
# app "my-app", key: "my-key", secret: env("RAPTOR_MY_APP_SECRET"),
#     client_events: true,
#     max_presence_members: 100 do |app|
#   app.webhook "http://127.0.0.1:3000/pusher/webhooks"
#   app.admit do |connection|
#     connection.origin == "https://www.example.com" || deny("unknown origin")
#   end
# end
