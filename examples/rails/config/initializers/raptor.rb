# One app in Raptor's examples/gallery.rb: its id and key, and its secret from the environment
# (the same RAPTOR_GALLERY_SECRET raptor reads). RAPTOR_URL is where Rails reaches Raptor's HTTP
# API; RAPTOR_PUBLIC_URL where browsers reach its WebSockets (the same on one machine).
#
# The signers are examples/raptor_api.rb and examples/auth_signer.rb (Ruby's standard library
# only; copy them to lib/ in your app). With the `pusher` gem in your Gemfile instead:
#   RAPTOR = Pusher::Client.new(app_id: "gallery", key: "gallery-key", secret: …, host:, port:, scheme:)
# which has the same trigger, send_to_user, get and webhook, and signs subscriptions with
# RAPTOR.authenticate(channel, socket_id, data) and sign-ins with RAPTOR.authenticate_user.
require Rails.root.join("../raptor_api").to_s
require Rails.root.join("../auth_signer").to_s

Rails.application.configure do
  config.x.raptor.url = ENV.fetch("RAPTOR_URL", "http://127.0.0.1:6001")
  config.x.raptor.public_url = ENV.fetch("RAPTOR_PUBLIC_URL", config.x.raptor.url)
  config.x.raptor.app_key = "gallery-key"
end

secret = ENV.fetch("RAPTOR_GALLERY_SECRET") # no default: a made-up secret would sign nothing Raptor accepts
RAPTOR = RaptorApi.new(app_id: "gallery", key: "gallery-key", secret: secret, url: Rails.configuration.x.raptor.url)
SIGNER = AuthSigner.new(key: "gallery-key", secret: secret)
