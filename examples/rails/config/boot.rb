# No Bundler: the app runs on Debian's packaged gems (ruby-rails, puma), which Ruby finds as
# installed gems. With a Gemfile instead, `require "bundler/setup"` here as usual.
