# raptor.rb: the whole configuration of a Raptor server, in Ruby.
#   raptor check /etc/raptor/raptor.rb     validate it (exit 2 with file:line: message on errors)
#   raptor --config /etc/raptor/raptor.rb  serve with it; flags and RAPTOR_* variables override it
# docs/configuration.md describes every directive.

listen "0.0.0.0", port: 6001
# tls cert: "/etc/raptor/cert.pem", key: "/etc/raptor/key.pem"
workers 2
activity_timeout 120
pong_timeout 30
max_send_queue 1_048_576
max_message_size 65_536
hook_time_budget 50        # milliseconds per hook call
script_memory_limit 64     # megabytes per worker's Ruby VM

# Secrets stay out of this file: env reads RAPTOR_* variables only (e.g. from
# /etc/default/raptor, which the systemd unit loads); raptor does not start while one is unset.
# (env also takes a default, env("RAPTOR_X", "value"), but never give a secret one: a placeholder
# such as "change-me" is refused off loopback.) Check the file without the secrets set:
#   raptor check --no-env examples/raptor.rb
app "my-app", key: "my-key", secret: env("RAPTOR_MY_APP_SECRET"),
    client_events: true,
    user_authentication_timeout: 0,   # seconds to sign in or join a private channel (0: off)
    cache_ttl: 1800,
    subscription_count: false,
    max_presence_members: 100,
    client_events_per_second: 10

app "dashboard", key: "dashboard-key", secret: env("RAPTOR_DASHBOARD_SECRET"),
    client_events: false do |dashboard|
  # Only the company's own pages may connect to this app.
  dashboard.admit do |connection|
    connection.origin == "https://dashboard.example.com" || deny("unknown origin")
  end
end
