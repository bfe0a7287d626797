# A photo gallery and its three channels (examples/gallery.rb holds Raptor's rules for them):
#   private-galleries.ID.comments    comments, published by this app; browsers only listen
#   presence-gallery.ID              who is looking: every visitor sees every other
#   presence-privileged-gallery.ID   the owner's channel: only the owner is privileged, so only
#                                    the owner sends client events (nudges) to the visitors
class Gallery
  attr_reader :id, :title, :owner

  def initialize(id, title, owner)
    @id, @title, @owner = id, title, owner
  end

  ALL = [new("123", "Lighthouses of Brittany", User.find("1"))].to_h { |gallery| [gallery.id, gallery] }.freeze

  def self.find(id) = ALL[id.to_s]

  # The gallery a channel name belongs to, whichever of its channels it names.
  def self.of_channel(name) = find(name[/\A(?:private-galleries|presence-gallery|presence-privileged-gallery)\.(\d+)/, 1].to_s)

  def to_param = id

  def comments_channel = "private-galleries.#{id}.comments"
  def visitors_channel = "presence-gallery.#{id}"
  def owner_channel = "presence-privileged-gallery.#{id}"
  def channels = [comments_channel, visitors_channel, owner_channel]

  def owned_by?(user) = owner.id == user.id
  def visible_to?(user) = !user.nil? # a private gallery would check its guest list here
end
