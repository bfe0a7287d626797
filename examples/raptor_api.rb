# Raptor's HTTP API from Ruby's standard library only, signed exactly as the `pusher` gem signs
# it, with the gem's method names: where the gem is installed, Pusher::Client.new(app_id:, key:,
# secret:, host:, port:, scheme:) does the same. examples/publish.rb is a command on top of it;
# examples/rails/ publishes comments and checks webhooks with it.
#
#   RAPTOR = RaptorApi.new(app_id: "gallery", key: "gallery-key", secret: ENV.fetch("RAPTOR_GALLERY_SECRET"),
#                          url: "http://127.0.0.1:6001")
#   RAPTOR.trigger("private-galleries.123.comments", "comment-added", { text: "Nice shot" })
#   RAPTOR.send_to_user("42", "notice", { text: "…" })
#   RAPTOR.get("/channels/presence-gallery.123/users")      # => {"users" => [{"id" => "7"}, …]}
#   RAPTOR.webhook(request).valid?                           # a webhook POST, signed with the secret
require "digest/md5"
require "json"
require "net/http"
require "openssl"

class RaptorApi
  # A non-2xx answer (the gem raises Pusher::Error): the status and Raptor's JSON error.
  class Error < StandardError
    attr_reader :status

    def initialize(status, body)
      @status = status
      super("#{status} #{body}")
    end
  end

  TIMEOUT_SECONDS = 5 # as the gem's connect/send/receive timeouts

  attr_reader :app_id

  def initialize(app_id:, key:, secret:, url: "http://127.0.0.1:6001")
    @app_id, @key, @secret = app_id, key, secret
    @base = URI(url)
  end

  # An event on 1 to 10 channels; data that is not a String is sent as its JSON, as the gem does.
  def trigger(channels, event, data)
    post("/apps/#{@app_id}/events", { name: event, channels: Array(channels), data: encode(data) })
  end

  # To every connection signed in as user_id (pusher-js signin()).
  def send_to_user(user_id, event, data)
    trigger("#server-to-user-#{user_id}", event, data)
  end

  # GET a path under /apps/{id}, e.g. "/channels/presence-gallery.123/users", as the gem's get.
  def get(path, params = {})
    answer(request("GET", "/apps/#{@app_id}#{path}", params: params))
  end

  # POST a JSON body to any path of the API (/apps/{id}/… or a URL resource /channels/…).
  def post(path, body)
    answer(request("POST", path, body: JSON.generate(body)))
  end

  # The signed request itself, answered with the Net::HTTPResponse whatever its status.
  def request(method, path, params: {}, body: nil)
    query = params.transform_keys(&:to_s).merge("auth_key" => @key, "auth_timestamp" => Time.now.to_i.to_s,
                                                "auth_version" => "1.0")
    query["body_md5"] = Digest::MD5.hexdigest(body) if body
    to_sign = [method, path, query.sort.map { |k, v| "#{k}=#{v}" }.join("&")].join("\n")
    query["auth_signature"] = OpenSSL::HMAC.hexdigest("SHA256", @secret, to_sign)

    uri = @base.dup
    uri.path, uri.query = path, URI.encode_www_form(query)
    Net::HTTP.start(uri.host, uri.port, use_ssl: uri.scheme == "https", open_timeout: TIMEOUT_SECONDS,
                                        read_timeout: TIMEOUT_SECONDS, write_timeout: TIMEOUT_SECONDS) do |http|
      type = body ? { "Content-Type" => "application/json" } : {}
      http.send_request(method, uri.request_uri, body, type)
    end
  end

  # A webhook POST as the gem's client.webhook(request) reads it: a Rack request (Rails' own) or
  # a Hash of :key, :signature and :body.
  def webhook(request)
    WebHook.new(request, key: @key, secret: @secret)
  end

  class WebHook
    def initialize(request, key:, secret:)
      if request.is_a?(Hash)
        @key, @signature, @body = request.values_at(:key, :signature, :body)
      else
        @key, @signature = request.env["HTTP_X_PUSHER_KEY"], request.env["HTTP_X_PUSHER_SIGNATURE"]
        @body = request.body.read.tap { request.body.rewind }
      end
      @app_key, @secret = key, secret
    end

    # The app's key, and the body's HMAC-SHA256 with the app's secret (compared in constant time).
    def valid?
      return false unless @key == @app_key && @signature.is_a?(String)

      expected = OpenSSL::HMAC.hexdigest("SHA256", @secret, @body)
      expected.bytesize == @signature.bytesize && OpenSSL.fixed_length_secure_compare(expected, @signature)
    end

    # [{"name" => "member_added", "channel" => …, "user_id" => …}, …]; only after valid?.
    def events
      JSON.parse(@body).fetch("events")
    end
  end

  private

  def encode(data)
    data.is_a?(String) ? data : JSON.generate(data)
  end

  def answer(response)
    raise Error.new(response.code.to_i, response.body) unless response.is_a?(Net::HTTPSuccess)

    JSON.parse(response.body)
  end
end
