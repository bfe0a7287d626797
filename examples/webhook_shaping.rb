# Shaping webhooks before they are signed and sent: each webhook event of the app passes through
# shape_webhook, which may send it as it is, drop it, or change it. Here:
#   - channels named private-internal-… never reach the receiver;
#   - typing indicators (client-typing) are not worth a POST;
#   - client events lose their "client-" prefix ("client-order-placed" arrives as "order-placed");
#   - presence members arrive with their display name from a table kept here.
# The receiver validates the bodies with its Pusher SDK as usual: they are signed after shaping.
# docs/configuration.md#shape_webhook--event--; check it: RAPTOR_SHOP_SECRET=x raptor check examples/webhook_shaping.rb

STAFF = { "1" => "Ada Lovelace", "2" => "Grace Hopper" }.freeze

app "shop", key: "shop-key", secret: env("RAPTOR_SHOP_SECRET") do |app|
  app.webhook env("RAPTOR_SHOP_WEBHOOK", "http://127.0.0.1:3000/pusher/webhooks"),
              events: %i[channel_occupied channel_vacated member_added member_removed client_event]

  app.shape_webhook do |event|
    next drop if event.channel.start_with?("private-internal-")

    case event.name
    when "client_event"
      next drop if event.event == "client-typing"
      event["event"] = event.event.sub("client-", "")
      event
    when "member_added", "member_removed"
      event["user_name"] = STAFF.fetch(event.user_id, "guest")
      event
    else
      pass
    end
  end
end
