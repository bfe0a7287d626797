# Client events checked in the server before anyone receives them: typing notices pass as they
# are, chat messages are trimmed and stamped, spam is dropped silently, and anything else is
# refused with an error (pusher:error 4306) to the sender.

listen "127.0.0.1", port: 6001

app "chat", key: "chat-key", secret: env("RAPTOR_CHAT_SECRET"), client_events: true

filter_client_events do |event|
  case event.event
  when "client-typing"
    true
  when "client-message"
    text = event.data["text"]
    if !text.is_a?(String)
      deny("a message needs a text")
    elsif text.include?("buy now")
      drop
    else
      rewrite(event.data.merge("text" => text[0, 200], "from" => event.user_id, "checked" => true))
    end
  else
    deny("#{event.event} is not allowed here")
  end
end
