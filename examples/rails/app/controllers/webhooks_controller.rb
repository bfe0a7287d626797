# Raptor's webhooks. Not an ApplicationController: no session, no sign-in, and no CSRF token
# (Rails would answer 422, and Raptor drops a batch answered with a 4xx at once). What
# authenticates a POST is its X-Pusher-Signature, the HMAC of the body with the app's secret,
# checked by the app's own client (RAPTOR, not the gem's global Pusher).
class WebhooksController < ActionController::Base
  skip_forgery_protection

  def create
    webhook = RAPTOR.webhook(request)
    return head :unauthorized unless webhook.valid?

    events = webhook.events
    events.each { |e| logger.info("webhook #{e['name']} #{e['channel']} #{e['user_id']}".strip) }
    WebhookLog.record(events)
    head :ok
  rescue JSON::ParserError, KeyError, TypeError
    head :bad_request
  end
end
