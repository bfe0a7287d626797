# What a hook is handed: the connection, subscription or client event being decided on. Built
# by the server from plain values (see script/ruby_policy.cpp); every attribute is read-only.
module Raptor
  # Shared by all three: the WebSocket handshake the connection opened with.
  module Handshake
    # app_id; origin ("" when absent); remote_address; path ("/app/KEY"); params: the query
    # string as a Hash of Strings; headers: Hash with lower-case names.
    attr_reader :app_id, :origin, :remote_address, :path, :params, :headers

    # Sets @name from fields["name"] for each name, and the handshake's attributes.
    def read(fields, *names)
      (%i[app_id origin remote_address path params headers] + names).each do |name|
        instance_variable_set(:"@#{name}", fields[name.to_s])
      end
    end
  end

  # admit { |connection| … }
  class Connection
    include Handshake

    def initialize(fields)
      read(fields)
    end
  end

  # authorize { |subscription| … }, and a channel rule's subscribe { … } and roster { … }
  class Subscription
    include Handshake
    # socket_id; channel; channel_data: the Hash the client sent for a presence channel (nil
    # otherwise); user_id/user_info: from channel_data when it is signed, else nil; in a channel
    # rule, the member the subscription joins as (signed or from authorize).
    attr_reader :socket_id, :channel, :channel_data, :user_id, :user_info

    def initialize(fields)
      read(fields, :socket_id, :channel, :signed, :channel_data)
      signed_data = @signed && @channel_data.is_a?(Hash) ? @channel_data : {}
      member = fields.key?("user_id") ? fields : signed_data
      @user_id = member["user_id"]&.to_s
      @user_info = member["user_info"]
      @privileged = fields.key?("privileged") ? fields["privileged"] : signed_data["privileged"] == true
    end

    # Presence: the member's privilege, from the signed channel_data in authorize; in a channel
    # rule, as decided so far (signed channel_data, authorize's privileged:, the channel type).
    def privileged?
      @privileged
    end

    # The client's auth string is a valid signature from the app's auth endpoint.
    def signed?
      @signed
    end

    def presence?
      channel.start_with?("presence-")
    end

    def private?
      channel.start_with?("private-")
    end

    def public?
      !presence? && !private?
    end
  end

  # filter_client_events { |event| … }
  class ClientEvent
    include Handshake
    # socket_id; channel; event ("client-…"); data: the parsed JSON the client sent;
    # user_id: the sender's presence user id on that channel (nil on private channels);
    # user_info: its presence user_info (in a channel rule's client_events, else nil).
    attr_reader :socket_id, :channel, :event, :data, :user_id, :user_info

    def initialize(fields)
      read(fields, :socket_id, :channel, :event, :data, :user_id, :user_info, :privileged)
    end

    # The sender is a privileged presence member (in a channel rule's client_events).
    def privileged?
      @privileged == true
    end
  end

  # shape_webhook { |event| … }: one webhook event before it is signed and sent, as a receiver
  # would get it. Read it like a Hash of its JSON fields, by String or Symbol: "name",
  # "channel", and those of its type ("user_id"; client_event: "event", "data" (a String, as
  # Pusher sends it), "socket_id"; subscription_count: "subscription_count"), or through the
  # readers below. Change it in place ([]=, delete, merge!) and return it, or return a Hash.
  class WebhookEvent
    # The app the event belongs to.
    attr_reader :app_id

    def initialize(fields)
      @app_id = fields["app_id"]
      @fields = fields["event"]
    end

    %w[name channel user_id event data socket_id subscription_count].each do |field|
      define_method(field) { @fields[field] }
    end

    def [](key)
      @fields[key.to_s]
    end

    def []=(key, value)
      @fields[key.to_s] = value
    end

    def delete(key)
      @fields.delete(key.to_s)
    end

    def key?(key)
      @fields.key?(key.to_s)
    end

    def merge!(other)
      other.each { |key, value| self[key] = value }
      self
    end

    def to_h
      @fields.dup
    end

    def inspect
      "#<Raptor::WebhookEvent #{@fields.inspect}>"
    end
  end
end
