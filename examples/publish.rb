#!/usr/bin/env ruby
# Publishes an event to Raptor with Ruby's standard library only, signed exactly as the
# `pusher` gem signs it. With the gem the same is:
#   Pusher::Client.new(app_id:, key:, secret:, host: '127.0.0.1', port: 6001, scheme: 'http')
#     .trigger('orders', 'created', { id: 42 })
# Usage: ruby examples/publish.rb [channel] [event] [json-data]
#   The channel may also be a Raptor URL resource, posted to that address:
#   ruby examples/publish.rb /channels/private/galleries/123/comments comment-added '{"text":"Nice"}'
require 'json'
require 'net/http'
require 'openssl'
require 'digest/md5'

APP_ID = ENV.fetch('RAPTOR_APP_ID', 'app-id')
KEY    = ENV.fetch('RAPTOR_APP_KEY', 'app-key')
SECRET = ENV.fetch('RAPTOR_APP_SECRET', 'app-secret')
HOST   = ENV.fetch('RAPTOR_HOST', '127.0.0.1')
PORT   = Integer(ENV.fetch('RAPTOR_PORT', '6001'))

channel, event, data = ARGV[0] || 'orders', ARGV[1] || 'created', ARGV[2] || '{"id":42}'
if channel.start_with?('/channels/')
  body = JSON.generate(name: event, data: data)  # the address names the channel (and, by the key, the app)
  path = channel
else
  body = JSON.generate(name: event, channels: [channel], data: data)
  path = "/apps/#{APP_ID}/events"
end
params = { 'auth_key' => KEY, 'auth_timestamp' => Time.now.to_i.to_s, 'auth_version' => '1.0',
           'body_md5' => Digest::MD5.hexdigest(body) }
to_sign = ['POST', path, params.sort.map { |k, v| "#{k}=#{v}" }.join('&')].join("\n")
params['auth_signature'] = OpenSSL::HMAC.hexdigest('SHA256', SECRET, to_sign)

uri = URI::HTTP.build(host: HOST, port: PORT, path: path, query: URI.encode_www_form(params))
response = Net::HTTP.post(uri, body, 'Content-Type' => 'application/json')
puts "#{response.code} #{response.body}"
exit(response.is_a?(Net::HTTPSuccess) ? 0 : 1)
