class ApplicationController < ActionController::Base
  before_action :require_sign_in
  helper_method :current_user

  private

  def current_user
    @current_user ||= User.find(session[:user_id])
  end

  # Pages send a visitor to the sign-in page; pusher-js's requests get a plain 403.
  def require_sign_in
    return if current_user

    request.get? ? redirect_to(sign_in_path) : head(:forbidden)
  end
end
