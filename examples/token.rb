# Makes a connection token for examples/token_policy.rb, as an app server would:
#   RAPTOR_TOKEN_SECRET=… ruby examples/token.rb USER_ID [SECONDS]
require "openssl"

secret = ENV.fetch("RAPTOR_TOKEN_SECRET")
user_id = ARGV.fetch(0)
expires_at = Time.now.to_i + Integer(ARGV.fetch(1, "3600"))
payload = "#{user_id}.#{expires_at}"
puts "#{payload}.#{OpenSSL::HMAC.hexdigest('SHA256', secret, payload)}"
