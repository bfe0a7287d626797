# What a hook may answer, and how each answer reaches the server. A hook returns:
#   true / allow(...)  — allow           false / nil / deny("why") — refuse
#   pass               — apply the usual rules, as if there were no hook
#   drop               — (client events) discard silently
#   rewrite(data) or a Hash — (client events) send this data instead
#   allow(user_id:, user_info:) or a Hash — (presence subscriptions) join as this member
#   allow(privileged: true/false) — (presence subscriptions) the member's privilege
# Channel rules (mrblib/channels.rb) answer true / allow, false / nil / deny("why") or pass.
# shape_webhook reads them as: true / allow / pass — send the event as it is; false / nil /
# deny / drop — do not send it; the event (changed in place), a Hash or rewrite(hash) — send
# this event instead (it needs a "name").
# Anything else is an error: the action is refused and the hook's location logged.
module Raptor
  class Verdict
    attr_reader :kind, :reason, :user_id, :user_info, :privileged, :data

    def initialize(kind, reason: nil, user_id: nil, user_info: nil, privileged: nil, data: nil)
      @kind = kind
      @reason = reason
      @user_id = user_id
      @user_info = user_info
      @privileged = privileged
      @data = data
    end

    PASS = new(:pass).freeze  # one for all: the server reads it without a call into Ruby

    ALLOWED = HOOK_TABLE.map { |row| [row[0], row[4]] }.to_h.freeze

    # The answer of `hook` as the server reads it: [kind, detail, detail] of Strings or nil.
    def self.normalize(hook_name, answer, hook)
      verdict = from(hook_name, answer)
      unless verdict && ALLOWED[hook_name].include?(verdict.kind)
        raise TypeError, "#{where(hook)}#{hook_name} hook returned #{answer.inspect[0, 80]} (#{answer.class}); " \
                         "expected #{expected(hook_name)}"
      end
      if hook_name == :shape_webhook && verdict.kind == :rewrite
        event = verdict.data
        event = event.to_h if event.is_a?(WebhookEvent)
        name = event["name"] || event[:name] if event.is_a?(Hash)
        unless name.is_a?(String) && !name.empty?
          raise TypeError, "#{where(hook)}shape_webhook hook returned an event without a \"name\" String " \
                           "(#{event.inspect[0, 80]})"
        end
        return ["rewrite", JSON.generate(event)]
      end
      begin
        verdict.to_wire
      rescue TypeError => e # raised here, after the hook returned: name the hook's line
        raise TypeError, "#{where(hook)}#{hook_name} hook: #{e.message}"
      end
    end

    def self.from(hook_name, answer)
      case answer
      when Verdict then answer
      when true then Verdict.new(:allow)
      when false, nil then Verdict.new(:deny)
      when WebhookEvent then Verdict.new(:rewrite, data: answer) if hook_name == :shape_webhook
      when Hash
        if hook_name == :filter_client_events || hook_name == :shape_webhook
          Verdict.new(:rewrite, data: answer)
        elsif hook_name == :authorize
          privileged = answer.key?(:privileged) ? answer[:privileged] : answer["privileged"]
          Verdict.new(:allow, user_id: answer[:user_id] || answer["user_id"],
                              user_info: answer[:user_info] || answer["user_info"], privileged: privileged)
        end
      end
    end

    def self.expected(hook_name)
      words = { allow: "true", deny: "false, nil or deny(\"why\")", pass: "pass", drop: "drop",
                rewrite: hook_name == :shape_webhook ? "the event, a Hash or rewrite(hash)" : "rewrite(data) or a Hash" }
      list = ALLOWED[hook_name].map { |k| words[k] }
      list << "allow(user_id:, user_info:, privileged:) or a Hash" if hook_name == :authorize
      list.join(", ")
    end

    def self.where(hook)
      file, line = hook.source_location
      file ? "#{file}:#{line}: " : ""
    end

    def to_wire
      case kind
      when :allow
        info = user_info.nil? ? nil : JSON.generate(user_info)
        id = user_id
        id = id.to_s if id.is_a?(Integer)
        raise TypeError, "user_id must be a String or Integer, not #{id.class}" unless id.nil? || id.is_a?(String)
        unless [nil, true, false].include?(privileged)
          raise TypeError, "privileged must be true or false, not #{privileged.inspect}"
        end
        ["allow", id, info, privileged.nil? ? nil : privileged.to_s]
      when :deny then ["deny", reason.nil? ? nil : reason.to_s]
      when :rewrite then ["rewrite", JSON.generate(data)]
      else [kind.to_s]
      end
    end
  end
end

# Verdict helpers for hooks; see the table above.
def allow(user_id: nil, user_info: nil, privileged: nil)
  Raptor::Verdict.new(:allow, user_id: user_id, user_info: user_info, privileged: privileged)
end

def deny(reason = nil)
  Raptor::Verdict.new(:deny, reason: reason)
end

def pass
  Raptor::Verdict::PASS
end

def drop
  Raptor::Verdict.new(:drop)
end

def rewrite(data)
  Raptor::Verdict.new(:rewrite, data: data)
end
