Rails.application.routes.draw do
  root to: redirect("/galleries/123")

  get "/sign_in", to: "sessions#new", as: :sign_in
  post "/sign_in", to: "sessions#create"
  delete "/sign_out", to: "sessions#destroy", as: :sign_out

  resources :galleries, only: :show do
    get :activity, on: :member            # the owner's view of what Raptor's webhooks told
    resources :comments, only: :create
  end

  # pusher-js asks these to sign subscriptions (channelAuthorization) and sign-ins (userAuthentication).
  post "/pusher/auth", to: "pusher#auth"
  post "/pusher/user-auth", to: "pusher#user_auth"
  # Raptor posts its webhooks here (raptor --webhook http://127.0.0.1:3000/pusher/webhooks).
  post "/pusher/webhooks", to: "webhooks#create"
end
