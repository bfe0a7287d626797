#!/usr/bin/env ruby
# Publishes an event to Raptor with Ruby's standard library only, signed exactly as the
# `pusher` gem signs it (examples/raptor_api.rb). With the gem the same is:
#   Pusher::Client.new(app_id:, key:, secret:, host: '127.0.0.1', port: 6001, scheme: 'http')
#     .trigger('orders', 'created', { id: 42 })
# Usage: ruby examples/publish.rb [channel] [event] [json-data]
#   The channel may also be a Raptor URL resource, posted to that address:
#   ruby examples/publish.rb /channels/private/galleries/123/comments comment-added '{"text":"Nice"}'
# It signs as the app RAPTOR_APP_ID / RAPTOR_APP_KEY / RAPTOR_APP_SECRET (default: the development
# app, app-id / app-key / app-secret) and posts to RAPTOR_HOST:RAPTOR_PORT (127.0.0.1:6001).
require_relative 'raptor_api'

api = RaptorApi.new(app_id: ENV.fetch('RAPTOR_APP_ID', 'app-id'), key: ENV.fetch('RAPTOR_APP_KEY', 'app-key'),
                    secret: ENV.fetch('RAPTOR_APP_SECRET', 'app-secret'),
                    url: "http://#{ENV.fetch('RAPTOR_HOST', '127.0.0.1')}:#{Integer(ENV.fetch('RAPTOR_PORT', '6001'))}")

channel, event, data = ARGV[0] || 'orders', ARGV[1] || 'created', ARGV[2] || '{"id":42}'
response = if channel.start_with?('/channels/')
             # The address names the channel (and, by the key, the app).
             api.request('POST', channel, body: JSON.generate(name: event, data: data))
           else
             api.request('POST', "/apps/#{api.app_id}/events",
                         body: JSON.generate(name: event, channels: [channel], data: data))
           end
puts "#{response.code} #{response.body}"
exit(response.is_a?(Net::HTTPSuccess) ? 0 : 1)
