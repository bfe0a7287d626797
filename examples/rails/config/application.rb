require_relative "boot"

require "rails"
# Only what the app uses: controllers and views. No database, no asset pipeline.
require "action_controller/railtie"
require "action_view/railtie"

module GalleryApp
  class Application < Rails::Application
    config.load_defaults 6.1
    config.time_zone = "UTC"
  end
end
