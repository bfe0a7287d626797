# A photo gallery (the Rails example of docs/rails.md): everyone looking at gallery 123 joins
# presence-privileged-gallery.123 (pusher-js: subscribe; Echo: join('privileged-gallery.123')),
# but only the gallery's owners see who is visiting, hear visitors come and go, and may send
# client events. Visitors see only themselves and just receive. Comments are published by the
# Rails app to /channels/private/galleries/123/comments (private-galleries.123.comments).
#   raptor check examples/gallery.rb
#   RAPTOR_GALLERY_SECRET=… raptor --config examples/gallery.rb

listen "127.0.0.1", port: 6001

app "gallery", key: "gallery-key", secret: env("RAPTOR_GALLERY_SECRET") do |gallery|
  # Privilege from the user_info the Rails app signed: owners see the visitors. Anyone else keeps
  # what the app signed (`pass`): "privileged": true in channel_data still makes a member privileged.
  gallery.channel "presence-privileged-gallery.*" do |visits|
    visits.roster { |member| (member.user_info.is_a?(Hash) && member.user_info["role"] == "owner") || pass }
  end

  # Comments are posted through the Rails app, which publishes them; browsers only listen.
  gallery.channel "private-galleries.*.comments" do |comments|
    comments.client_events { |_event| deny("comments are posted through the app") }
  end
end
