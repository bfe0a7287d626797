Rails.application.configure do
  config.cache_classes = true
  config.eager_load = true
  config.consider_all_requests_local = false
  config.cache_store = :memory_store
  # Behind a reverse proxy that serves public/ itself, leave RAILS_SERVE_STATIC_FILES unset.
  config.public_file_server.enabled = ENV["RAILS_SERVE_STATIC_FILES"].present?
  # Behind a TLS-terminating proxy: RAILS_FORCE_SSL=1 (secure cookies, HSTS, redirects).
  config.force_ssl = ENV["RAILS_FORCE_SSL"].present?
  config.log_level = :info
  config.log_tags = [:request_id]
  if ENV["RAILS_LOG_TO_STDOUT"].present?
    config.logger = ActiveSupport::TaggedLogging.new(ActiveSupport::Logger.new($stdout))
  end
end
