# Comments, kept in memory (a real app: an ActiveRecord model and `after_create_commit`). Each new
# one is published to the gallery's comments channel, where every open page shows it, and sent to
# the gallery's owner as a user event (pusher-js signin()), wherever the owner is signed in.
class Comment
  MAX_LENGTH = 500
  class Invalid < ArgumentError; end

  attr_reader :id, :gallery, :author, :text

  @all = []
  @lock = Mutex.new

  def self.for(gallery) = @lock.synchronize { @all.select { |c| c.gallery == gallery } }

  def self.post(gallery:, author:, text:)
    text = text.to_s.strip
    raise Invalid, "a comment is 1 to #{MAX_LENGTH} characters" unless text.length.between?(1, MAX_LENGTH)

    comment = @lock.synchronize { new(@all.size + 1, gallery, author, text).tap { |c| @all << c } }
    comment.publish
    comment
  end

  def initialize(id, gallery, author, text)
    @id, @gallery, @author, @text = id, gallery, author, text
  end

  def as_json(*) = { id: id, author: author.name, text: text }

  def publish
    RAPTOR.trigger(gallery.comments_channel, "comment-added", as_json)
    return if gallery.owned_by?(author)

    RAPTOR.send_to_user(gallery.owner.id, "comment-notice", { gallery: gallery.title, author: author.name })
  end
end
