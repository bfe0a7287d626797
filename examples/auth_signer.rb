#!/usr/bin/env ruby
# Signs private and presence subscriptions for an app's auth endpoint, and user sign-ins for its
# user-authentication endpoint, with Ruby's standard library only: for what the pusher gem will
# not sign (wildcard patterns such as private-users.42.*, addresses such as /channels/private/…)
# or in its place.
#
# It refuses a socket_id that is not two integers joined by a dot, and a channel that is not a
# private or presence name or address, before signing. The app secret that signs
# "socket_id:channel" also signs HTTP API requests, so an endpoint that signs whatever a browser
# sends as socket_id signs API requests for it (docs/security.md#auth-endpoints).
#
#   SIGNER = AuthSigner.new(key: ENV.fetch("RAPTOR_APP_KEY"), secret: ENV.fetch("RAPTOR_APP_SECRET"))
#   render json: SIGNER.authorize(params[:socket_id], params[:channel_name])
#   render json: SIGNER.authorize(params[:socket_id], channel, { user_id: "42", user_info: { name: "Ann" } })
#   render json: SIGNER.authenticate_user(params[:socket_id], { id: "42", user_info: { name: "Ann" } })
#   rescue AuthSigner::Refused then head :bad_request
#
# As a command: RAPTOR_APP_KEY=… RAPTOR_APP_SECRET=… ruby examples/auth_signer.rb SOCKET_ID CHANNEL [CHANNEL_DATA]
# prints {"auth":…} (and "channel_data"), or the refusal on stderr with exit status 2.
require "json"
require "openssl"

class AuthSigner
  class Refused < ArgumentError; end

  SOCKET_ID = /\A\d+\.\d+\z/
  # Pusher's channel-name characters (A-Z a-z 0-9 _ - = @ , . ;), * for patterns, / in addresses.
  CHANNEL = %r{\A(?:(?:private|presence)-[A-Za-z0-9_\-=@,.;*]+|/channels/(?:private|presence|privileged)/[A-Za-z0-9_\-=@,.;*/]+)\z}
  MAX_CHANNEL_LENGTH = 200

  def initialize(key:, secret:)
    @key = key
    @secret = secret
  end

  # {auth:} for a private channel or pattern; {auth:, channel_data:} when given channel_data (a
  # Hash, or the JSON text), as presence channels take it.
  def authorize(socket_id, channel, channel_data = nil)
    check_socket_id(socket_id)
    unless channel.is_a?(String) && channel.size <= MAX_CHANNEL_LENGTH && CHANNEL.match?(channel)
      raise Refused, "channel must be a private- or presence- name or address of A-Z a-z 0-9 _ - = @ , . ; *"
    end

    data = channel_data.is_a?(String) || channel_data.nil? ? channel_data : JSON.generate(channel_data)
    text = [socket_id, channel, data].compact.join(":")
    result = { auth: sign(text) }
    result[:channel_data] = data if data
    result
  end

  # {auth:, user_data:} for pusher-js signin(), as the gem's authenticate_user: user_data a Hash
  # with the user's "id" (and optional user_info, watchlist), signed as "socket_id::user::JSON".
  def authenticate_user(socket_id, user_data)
    check_socket_id(socket_id)
    id = user_data[:id] || user_data["id"]
    raise Refused, "user_data needs an id" unless id.is_a?(String) && !id.empty?

    data = JSON.generate(user_data)
    { auth: sign("#{socket_id}::user::#{data}"), user_data: data }
  end

  private

  def check_socket_id(socket_id)
    raise Refused, "socket_id must look like 123.456" unless socket_id.is_a?(String) && SOCKET_ID.match?(socket_id)
  end

  def sign(text)
    "#{@key}:#{OpenSSL::HMAC.hexdigest('SHA256', @secret, text)}"
  end
end

if __FILE__ == $PROGRAM_NAME
  signer = AuthSigner.new(key: ENV.fetch("RAPTOR_APP_KEY"), secret: ENV.fetch("RAPTOR_APP_SECRET"))
  begin
    puts JSON.generate(signer.authorize(ARGV[0], ARGV[1], ARGV[2]))
  rescue AuthSigner::Refused => e
    warn e.message
    exit 2
  end
end
