class GalleriesController < ApplicationController
  before_action :find_gallery

  def show
    @comments = Comment.for(@gallery)
  end

  # What Raptor's webhooks reported on the gallery's channels: channel_occupied, member_added, …
  def activity
    return head :forbidden unless @gallery.owned_by?(current_user)

    render json: { events: WebhookLog.on(@gallery.channels) }
  end

  private

  def find_gallery
    @gallery = Gallery.find(params[:id])
    head :not_found unless @gallery&.visible_to?(current_user)
  end
end
