# pusher-js posts socket_id (and channel_name) here, with the page's CSRF token in a header. The
# app decides who may subscribe or sign in, and signs only for the socket_id that asked.
class PusherController < ApplicationController
  def auth
    socket_id, channel = params.require(:socket_id), params.require(:channel_name)
    gallery = Gallery.of_channel(channel)
    return head :forbidden unless gallery&.visible_to?(current_user)

    case channel
    when gallery.comments_channel
      render json: SIGNER.authorize(socket_id, channel)
    when gallery.visitors_channel
      render json: SIGNER.authorize(socket_id, channel, current_user.member)
    when gallery.owner_channel
      # Signed, so a browser cannot grant itself privilege: only the owner's is true.
      render json: SIGNER.authorize(socket_id, channel, current_user.member.merge(privileged: gallery.owned_by?(current_user)))
    else
      head :forbidden
    end
  rescue AuthSigner::Refused => e # a socket_id not like 123.456: never sign it (docs/security.md)
    render plain: e.message, status: :bad_request
  end

  # pusher.signin(): the connection becomes current_user's, and gets its user events.
  def user_auth
    render json: SIGNER.authenticate_user(params.require(:socket_id), { id: current_user.id, user_info: { name: current_user.name } })
  rescue AuthSigner::Refused => e
    render plain: e.message, status: :bad_request
  end
end
