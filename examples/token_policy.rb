# Authorization without an auth endpoint: the app server hands each browser a signed token,
# the browser puts it in the WebSocket URL (?token=…), and Raptor checks it itself.
#
#   token = "#{user_id}.#{expires_at}.#{hmac_sha256_hex(TOKEN_SECRET, "#{user_id}.#{expires_at}")}"
#
# (examples/token.rb makes one in Ruby; docs/configuration.md shows the pusher-js side.)
#   - connections without a valid token are refused (close code 4009);
#   - presence channels need no channel_data signature: the member is the token's user;
#   - private-user-{id} channels admit only that user; other private channels need the usual
#     signature from the app's auth endpoint.

listen "127.0.0.1", port: 6001
TOKEN_SECRET = env("RAPTOR_TOKEN_SECRET")

# The user id a query string's token vouches for, or nil.
def token_user(params)
  user_id, expires_at, signature = params["token"].to_s.split(".")
  return nil unless user_id && expires_at && signature
  return nil if expires_at.to_i < Time.now.to_i
  expected = Raptor.hmac_sha256(TOKEN_SECRET, "#{user_id}.#{expires_at}")
  Raptor.secure_compare(expected, signature) ? user_id : nil
end

app "chat", key: "chat-key", secret: env("RAPTOR_CHAT_SECRET"), client_events: true do |chat|
  chat.admit do |connection|
    token_user(connection.params) ? true : deny("a valid token is required")
  end

  chat.authorize do |subscription|
    user = token_user(subscription.params)
    if subscription.presence?
      # The token says who this is; whatever channel_data the client sent is ignored.
      allow user_id: user, user_info: { name: "user #{user}", verified: true }
    elsif subscription.channel.start_with?("private-user-")
      subscription.channel == "private-user-#{user}"
    else
      pass # the usual rules: a signature for private channels, nothing for public ones
    end
  end
end
