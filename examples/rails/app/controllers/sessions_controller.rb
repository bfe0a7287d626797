class SessionsController < ApplicationController
  skip_before_action :require_sign_in

  def new
    @users = User.all
  end

  def create
    user = User.find(params.require(:user_id))
    return head :unprocessable_entity unless user

    reset_session
    session[:user_id] = user.id
    redirect_to root_path
  end

  def destroy
    reset_session
    redirect_to sign_in_path
  end
end
