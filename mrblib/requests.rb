# What a hook is handed: the connection, subscription or client event being decided on, or the
# webhook event to shape. Every attribute of the first three is read-only.
module Raptor
  # The server defines the classes of Connection, Subscription and ClientEvent, and their
  # readers, from Raptor::HOOK_TABLE (core/policy_hooks.h); each reads the server's request when
  # first asked (script/hook_request.cpp). What they read:
  #   app_id; origin ("" when absent); remote_address; path ("/app/KEY"); params: the query
  #   string as a Hash of Strings; headers: Hash with lower-case names.
  # Subscription: socket_id; channel; channel_data: the Hash the client sent for a presence
  #   channel (nil otherwise); signed?: the client's auth string is a valid signature from the
  #   app's auth endpoint; user_id/user_info/privileged?: from channel_data when it is signed, else
  #   nil (false); in a channel rule, the member the subscription joins as (signed or from
  #   authorize) and its privilege as decided so far.
  # ClientEvent: socket_id; channel; event ("client-…"); data: the parsed JSON the client sent;
  #   user_id: the sender's presence user id on that channel (nil on private channels);
  #   user_info, privileged?: its presence user_info and privilege (in a channel rule's
  #   client_events; else nil and false).

  # admit { |connection| … }
  class Connection
  end

  # authorize { |subscription| … }, and a channel rule's subscribe { … } and roster { … }
  # presence?, private? (private- and private-encrypted-), public?: the channel's kind.
  class Subscription
  end

  # filter_client_events { |event| … }
  class ClientEvent
  end

  # shape_webhook { |event| … }: one webhook event before it is signed and sent, as a receiver
  # would get it. Read it like a Hash of its JSON fields, by String or Symbol: "name",
  # "channel", and those of its type ("user_id"; client_event: "event", "data" (a String, as
  # Pusher sends it), "socket_id"; subscription_count: "subscription_count"), or through the
  # readers below. Change it in place ([]=, delete, merge!) and return it, or return a Hash.
  class WebhookEvent
    # The app the event belongs to.
    attr_reader :app_id

    def initialize(app_id, fields)
      @app_id = app_id
      @fields = fields
    end

    (HOOK_TABLE.find { |row| row[2] == "WebhookEvent" }[3] - ["app_id"]).each do |field|
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
