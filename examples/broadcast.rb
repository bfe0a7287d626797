# A broadcast channel: an auction room whose bidders all receive what the auctioneers announce,
# where only moderators may publish client events (others get pusher:error 4306) and only members
# the app signed with a paddle number or the moderator role may join.
#   raptor check examples/broadcast.rb
#   RAPTOR_AUCTION_SECRET=… raptor --config examples/broadcast.rb

listen "127.0.0.1", port: 6001

app "auction", key: "auction-key", secret: env("RAPTOR_AUCTION_SECRET"), client_events: true do |auction|
  auction.channel "presence-auction.*" do |room|
    moderator = ->(info) { info.is_a?(Hash) && info["role"] == "moderator" }

    room.subscribe do |subscription|
      info = subscription.user_info
      moderator.(info) || (info.is_a?(Hash) && info["paddle"].is_a?(Integer)) || deny("a bidder needs a paddle number")
    end

    room.client_events do |event|
      moderator.(event.user_info) || deny("only moderators may publish in #{event.channel}")
    end
  end
end
