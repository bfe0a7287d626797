# The directives of raptor.rb. Each checks its arguments where it is called, so a mistake is
# reported at the line that made it ("raptor.rb:7: listen: port must be ..."). The server reads
# the result through Raptor.settings, looks each hook up once through Raptor.hook, calls it and
# checks its answer with Raptor::Verdict.normalize (script/ruby_policy.cpp).
module Raptor
  # The hooks of an app block or the top level (the others are channel rules' permissions).
  HOOKS = HOOK_TABLE.reject { |row| row[1] }.map(&:first).freeze
  APP_OPTIONS = %i[client_events client_events_per_second max_presence_members
                   user_authentication_timeout cache_ttl subscription_count
                   max_connections allowed_origins api_events_per_second].freeze

  # Argument checks shared by the directives.
  module Check
    def self.integer(where, value, range)
      return value if value.is_a?(Integer) && range.include?(value)
      raise ArgumentError, "#{where} must be an Integer from #{range.first} to #{range.last}, not #{value.inspect}"
    end

    def self.string(where, value)
      return value if value.is_a?(String) && !value.empty?
      raise ArgumentError, "#{where} must be a non-empty String, not #{value.inspect}"
    end

    def self.boolean(where, value)
      return value if value == true || value == false
      raise ArgumentError, "#{where} must be true or false, not #{value.inspect}"
    end

    # An Origin allow-list: "https://app.example.com", "http://localhost:3000" or
    # "https://*.example.com" (its subdomains), as browsers send the Origin header.
    def self.origins(where, value)
      unless value.is_a?(Array) && value.all? { |o| o.is_a?(String) }
        raise ArgumentError, "#{where} must be an Array of origins, not #{value.inspect}"
      end
      value.each do |origin|
        next if origin?(origin)
        raise ArgumentError, "#{where}: #{origin.inspect} is not an origin (scheme://host[:port], " \
                             "e.g. \"https://app.example.com\" or \"https://*.example.com\")"
      end
      value
    end

    HOST_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-"

    def self.origin?(origin)
      scheme = ["https://", "http://"].find { |s| origin.index(s) == 0 }
      return false unless scheme
      host, port = origin[scheme.size..-1].split(":", 2)
      host = host[2..-1] if host && host.index("*.") == 0
      return false if host.nil? || host.empty? || host.split("").any? { |ch| !HOST_CHARS.include?(ch) }
      port.nil? || (!port.empty? && port.size <= 5 && port.split("").all? { |ch| "0123456789".include?(ch) })
    end

    def self.block(where, block)
      raise ArgumentError, "#{where} needs a block" unless block
      block
    end
  end

  # Hooks declared at the top level (for every app) or inside an app block (for that app).
  class HookSet
    def initialize(scope)
      @scope = scope
      @hooks = {}
    end

    def define(name, block)
      Check.block("#{name}", block)
      if @hooks[name]
        file, line = @hooks[name].source_location
        raise ArgumentError, "#{name} is already defined for #{@scope} (at #{file}:#{line})"
      end
      @hooks[name] = block
    end

    def [](name)
      @hooks[name]
    end
  end

  # `app "id", key: …, secret: … do |app| … end`: yields this, which takes the app's hooks.
  class AppDefinition
    attr_reader :settings, :hooks

    def initialize(settings)
      @settings = settings
      @hooks = HookSet.new("app #{settings[:id]}")
    end

    # app.admit { … }, app.authorize { … }, …: one method per hook.
    HOOKS.each do |name|
      define_method(name) { |&block| @hooks.define(name, block) }
    end

    # app.webhook "http://127.0.0.1:3000/pusher/webhooks", events: %i[channel_occupied channel_vacated],
    #             prefix: "presence-", suffix: nil, headers: { "Authorization" => "Bearer …" }
    # A receiver of this app's webhooks, checked as --webhook is (docs/webhooks.md). https://
    # only: ca: "/etc/raptor/hooks-ca.pem" trusts that CA bundle instead of the system's;
    # verify_tls: false does not check the receiver's certificate (logged as a warning).
    def webhook(url, events: [], prefix: "", suffix: "", headers: {}, ca: nil, verify_tls: true)
      where = "app #{@settings[:id]}: webhook"
      Check.string("#{where} URL", url)
      Check.string("#{where} ca", ca) unless ca.nil?
      Check.boolean("#{where} verify_tls", verify_tls)
      raise ArgumentError, "#{where}: events must be an Array of Symbols" unless events.is_a?(Array)
      raise ArgumentError, "#{where}: headers must be a Hash of Strings" unless headers.is_a?(Hash)
      names = events.map(&:to_s)
      lines = headers.map { |name, value| "#{name}: #{value}" }
      [prefix, suffix].each { |p| raise ArgumentError, "#{where}: prefix and suffix must be Strings" unless p.is_a?(String) }
      if names.any? { |n| n.include?("\n") } || lines.any? { |l| l.include?("\n") }
        raise ArgumentError, "#{where}: no line breaks in events or headers"
      end
      why = Raptor.webhook_error(url, names.join("\n"), prefix, suffix, lines.join("\n"), ca || "", verify_tls)
      raise ArgumentError, "#{where} #{url.split('/')[0, 3].join('/')}: #{why}" if why
      (@settings[:webhooks] ||= []) << { url: url, events: names, prefix: prefix, suffix: suffix, headers: lines,
                                         ca: ca || "", verify_tls: verify_tls }
    end
  end

  class << self
    def settings
      @settings ||= {}
    end

    def apps
      @apps ||= []
    end

    def global_hooks
      @global_hooks ||= HookSet.new("all apps")
    end

    # What the file set, as plain values: the server's Config is filled from it.
    def configuration
      settings.merge(apps: apps.map(&:settings))
    end

    # The hooks that apply to `app_id`: its own, else the top-level ones.
    def hook(name, app_id)
      definition = apps.find { |a| a.settings[:id] == app_id }
      (definition && definition.hooks[name]) || global_hooks[name]
    end

    # The hooks and channel-rule permissions that apply to `app_id`, by name.
    def hooks_for(app_id)
      rules = channel_rules(app_id)
      HOOKS.select { |name| hook(name, app_id) } + PERMISSIONS.select { |name| rules.any? { |rule| rule[name] } }
    end

    # The names raptor.rb calls: the directives and the methods of an app or channel block, for
    # "did you mean" after a typo.
    def directives
      names = Object.instance_methods(false) + AppDefinition.instance_methods(false) +
              ChannelRule.instance_methods(false)
      names.map(&:to_s).uniq.sort
    end
  end
end

# ---- directives ------------------------------------------------------------------------------

# listen "0.0.0.0", port: 6001
def listen(host = nil, port: nil)
  Raptor.settings[:host] = Raptor::Check.string("listen: the address", host) unless host.nil?
  Raptor.settings[:port] = Raptor::Check.integer("listen: port", port, 1..65_535) unless port.nil?
  raise ArgumentError, "listen needs an address, a port: or both" if host.nil? && port.nil?
end

# tls cert: "/etc/raptor/cert.pem", key: "/etc/raptor/key.pem", min_version: "1.2", ciphers: "ECDHE-…"
# cert: and key: go together (or come from --tls-cert/--tls-key); min_version: "1.2" (the
# default) or "1.3"; ciphers: the TLS 1.2 ciphers, ':'-separated OpenSSL names
# (docs/security.md#tls). A reload (SIGHUP) reads the certificate and key again.
def tls(cert: nil, key: nil, min_version: nil, ciphers: nil)
  if cert.nil? != key.nil?
    raise ArgumentError, "tls: cert: and key: go together"
  end
  if [cert, min_version, ciphers].all?(&:nil?)
    raise ArgumentError, "tls needs cert: and key:, min_version: or ciphers:"
  end
  unless min_version.nil? || ["1.2", "1.3"].include?(min_version)
    raise ArgumentError, "tls: min_version must be \"1.2\" or \"1.3\", not #{min_version.inspect}"
  end
  unless ciphers.nil?
    why = Raptor.tls_ciphers_error(Raptor::Check.string("tls: ciphers", ciphers))
    raise ArgumentError, "tls: ciphers: #{why}" if why
  end
  Raptor.settings[:tls_cert] = Raptor::Check.string("tls: cert", cert) unless cert.nil?
  Raptor.settings[:tls_key] = Raptor::Check.string("tls: key", key) unless key.nil?
  Raptor.settings[:tls_min_version] = min_version unless min_version.nil?
  Raptor.settings[:tls_ciphers] = ciphers unless ciphers.nil?
end

# Directives that take one Integer, with their ranges:
#   workers 4                    event-loop threads
#   activity_timeout 120         seconds of client silence before a ping
#   pong_timeout 30              seconds to answer it before the close (4201)
#   max_send_queue 1_048_576     bytes a client may have waiting before the close (4100)
#   max_send_queue_total 268_435_456  bytes all clients together may have waiting (4100; 0: none)
#   max_message_size 65_536      bytes of one incoming WebSocket message
#   hook_time_budget 50          milliseconds of CPU time each hook call may use
#   script_memory_limit 64       megabytes each worker's Ruby VM may use
#   drain_seconds 10             on SIGTERM, seconds over which clients are closed with 4200
#   max_connections_per_ip 1000  connections one client address may hold (4101; 0: no limit)
#   connects_per_second_per_ip 20  connects a second from one client address (4102; 0: no limit)
{
  workers: 1..64, activity_timeout: 1..3600, pong_timeout: 1..3600, max_send_queue: 1024..(1 << 30),
  max_message_size: 1024..(16 << 20), hook_time_budget: 1..10_000, script_memory_limit: 8..4096,
  drain_seconds: 0..3600, max_send_queue_total: 0..(1 << 40), max_connections_per_ip: 0..10_000_000, connects_per_second_per_ip: 0..1_000_000,
}.each do |name, range|
  Object.send(:define_method, name) do |value|
    Raptor.settings[name] = Raptor::Check.integer(name.to_s, value, range)
  end
end

# event_loop :epoll   (or :poll)
def event_loop(kind)
  raise ArgumentError, "event_loop must be :epoll or :poll, not #{kind.inspect}" unless %i[epoll poll].include?(kind)
  Raptor.settings[:event_loop] = kind.to_s
end

# redis "redis://10.0.0.5:6379/0", prefix: "raptor:", node_id: "web-1", node_timeout: 5, startup_wait: 10
# Runs this server as one node of a cluster sharing that Redis (docs/cluster.md); prefix,
# node_id, node_timeout and startup_wait (seconds) are optional (default "raptor:", a generated
# id, 5 and 10).
def redis(url, prefix: nil, node_id: nil, node_timeout: nil, startup_wait: nil)
  Raptor::Check.string("redis: the URL", url)
  Raptor::Check.string("redis: prefix", prefix) unless prefix.nil?
  Raptor::Check.string("redis: node_id", node_id) unless node_id.nil?
  { node_timeout: node_timeout, startup_wait: startup_wait }.each do |name, seconds|
    unless seconds.nil? || seconds.is_a?(Integer)
      raise ArgumentError, "redis: #{name} must be an Integer (seconds), not #{seconds.inspect}"
    end
  end
  why = Raptor.redis_error(url, prefix || "", node_id || "", node_timeout.nil? ? "" : node_timeout.to_s,
                           startup_wait.nil? ? "" : startup_wait.to_s)
  raise ArgumentError, "redis: #{why}" if why
  Raptor.settings[:redis] = url
  Raptor.settings[:redis_prefix] = prefix if prefix
  Raptor.settings[:node_id] = node_id if node_id
  Raptor.settings[:node_timeout] = node_timeout if node_timeout
  Raptor.settings[:startup_wait] = startup_wait if startup_wait
end

# admin_token ENV.fetch("RAPTOR_ADMIN_TOKEN")   (16 characters or more)
# The token that opens /metrics and the dashboard (sent as Authorization: Bearer <token>);
# without one they are off. docs/metrics.md#access.
def admin_token(token)
  Raptor::Check.string("admin_token", token)
  raise ArgumentError, "admin_token must be at least 16 characters" if token.length < 16
  Raptor.settings[:admin_token] = token
end

# log_level :warn   (:error, :warn, :info (the default) or :debug): the least severe log lines
# written; --log-level and RAPTOR_LOG_LEVEL override it.
def log_level(level)
  unless %i[error warn info debug].include?(level)
    raise ArgumentError, "log_level must be :error, :warn, :info or :debug, not #{level.inspect}"
  end
  Raptor.settings[:log_level] = level.to_s
end

# trusted_proxies "127.0.0.1/32", "10.0.0.0/8"
# Reverse proxies (addresses or networks) whose forwarded header gives the client's address that
# hooks see as remote_address and the logs show (docs/reverse-proxy.md); --trusted-proxy adds more.
def trusted_proxies(*ranges)
  ranges.each { |range| Raptor::Check.string("trusted_proxies", range) }
  Raptor.settings[:trusted_proxies] = ranges
end

# forwarded_header :forwarded   (:x_forwarded_for, the default, or :forwarded, RFC 7239): the
# header the trusted proxies name the client in; --forwarded-header overrides it.
def forwarded_header(header)
  unless %i[x_forwarded_for forwarded].include?(header)
    raise ArgumentError, "forwarded_header must be :x_forwarded_for or :forwarded, not #{header.inspect}"
  end
  Raptor.settings[:forwarded_header] = header.to_s.tr("_", "-")
end

# proxy_protocol true
# Every connection begins with a PROXY protocol header (v1 or v2), as a TCP load balancer such as
# HAProxy (send-proxy) or nginx's stream proxy (proxy_protocol on) writes it; its client address
# is believed from the trusted_proxies only (docs/reverse-proxy.md#proxy-protocol).
def proxy_protocol(enabled)
  Raptor.settings[:proxy_protocol] = Raptor::Check.boolean("proxy_protocol", enabled)
end

# compression true
def compression(enabled)
  Raptor.settings[:compression] = Raptor::Check.boolean("compression", enabled)
end

# app "my-app", key: "my-key", secret: env("RAPTOR_MY_APP_SECRET"), client_events: true do |app|
#   app.authorize { |subscription| … }
# end
def app(id, key:, secret:, **options, &block)
  settings = {
    id: Raptor::Check.string("app: the id", id),
    key: Raptor::Check.string("app #{id}: key", key),
    secret: Raptor::Check.string("app #{id}: secret", secret),
  }
  options.each do |name, value|
    where = "app #{id}: #{name}"
    settings[name] =
      case name
      when :client_events, :subscription_count then Raptor::Check.boolean(where, value)
      when :client_events_per_second then Raptor::Check.integer(where, value, 1..1000)
      when :max_presence_members then Raptor::Check.integer(where, value, 1..100_000)
      when :user_authentication_timeout then Raptor::Check.integer(where, value, 0..3600)
      when :cache_ttl then Raptor::Check.integer(where, value, 1..86_400)
      when :max_connections then Raptor::Check.integer(where, value, 1..10_000_000)
      when :allowed_origins then Raptor::Check.origins(where, value)
      when :api_events_per_second then Raptor::Check.integer(where, value, 1..10_000_000)
      else raise ArgumentError, "app #{id}: unknown option #{name}: (known: #{Raptor::APP_OPTIONS.join(', ')})"
      end
  end
  Raptor.apps.each do |other|
    raise ArgumentError, "app #{id}: the id is already used by another app" if other.settings[:id] == id
    raise ArgumentError, "app #{id}: the key is already used by app #{other.settings[:id]}" if other.settings[:key] == key
  end
  definition = Raptor::AppDefinition.new(settings)
  Raptor.apps << definition
  if block
    block.arity == 1 ? block.call(definition) : definition.instance_eval(&block)
  end
  definition
end

# Top-level hooks (admit { … }, authorize { … }, …) apply to every app that does not define its
# own. shape_webhook sees each webhook event of the apps that have receivers, before it is
# signed and sent.
Raptor::HOOKS.each do |name|
  Object.send(:define_method, name) { |&block| Raptor.global_hooks.define(name, block) }
end

# env("RAPTOR_MY_APP_SECRET") or env("RAPTOR_X", "default"): only RAPTOR_* variables.
def env(name, *default)
  Raptor.env(name, *default)
end
