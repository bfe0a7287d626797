class CommentsController < ApplicationController
  def create
    gallery = Gallery.find(params[:gallery_id])
    return head :not_found unless gallery&.visible_to?(current_user)

    comment = Comment.post(gallery: gallery, author: current_user, text: params.require(:text))
    render json: comment, status: :created
  rescue Comment::Invalid => e
    render json: { error: e.message }, status: :unprocessable_entity
  rescue RaptorApi::Error, SystemCallError, Net::OpenTimeout, Net::ReadTimeout => e
    # Saved, but not delivered live: open pages show it on their next load.
    logger.error("raptor did not take comment #{comment&.id}: #{e.message}")
    render json: { error: "saved, but not delivered live: #{e.message}" }, status: :bad_gateway
  end
end
