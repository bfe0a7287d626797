# Channel rules: `channel "pattern" do … end`, in an app block (for that app) or at the top level
# (for every app). Per channel name or wildcard pattern (`*` one segment, `**` last for the rest),
# who may subscribe, who may send client events, and who sees a presence channel's roster.
#
#   app.channel "presence-privileged-gallery.*" do |gallery|
#     gallery.roster { |member| member.user_info["role"] == "owner" }
#   end
#
# The server matches the patterns (core/wildcard_index.h) and asks only the rules whose pattern
# matches the channel, an app's own rules first, then the top-level ones, each in the order
# declared: the first answer that is not `pass` decides.
module Raptor
  # subscribe { |subscription| … }: may this subscription (already signed or authorized) go ahead?
  # client_events { |event| … }: may this member send this client event?
  # roster { |member| … }: does this presence member see the roster (is it privileged)?
  PERMISSIONS = HOOK_TABLE.select { |row| row[1] }.map(&:first).freeze

  class ChannelRule
    attr_reader :pattern

    def initialize(pattern, scope)
      Check.string("channel", pattern)
      why = Raptor.channel_pattern_error(pattern)
      raise ArgumentError, "channel #{pattern.inspect}: #{why}" if why
      @pattern = pattern
      @scope = scope
      @blocks = {}
    end

    PERMISSIONS.each do |permission|
      define_method(permission) { |&block| define(permission, block) }
    end

    def [](permission)
      @blocks[permission]
    end

    def permissions
      @blocks.keys
    end

    private

    def define(permission, block)
      where = "channel #{@pattern.inspect} (#{@scope}): #{permission}"
      Check.block(where, block)
      raise ArgumentError, "#{where} is already defined" if @blocks[permission]
      @blocks[permission] = block
    end
  end

  # Declares a rule: yields it (or evaluates the block in it) so it takes its permissions.
  def self.channel_rule(rules, pattern, scope, block)
    rule = ChannelRule.new(pattern, scope)
    Check.block("channel #{pattern.inspect}", block)
    block.arity == 1 ? block.call(rule) : rule.instance_eval(&block)
    raise ArgumentError, "channel #{pattern.inspect} (#{scope}) states no rule: use subscribe, client_events or roster" if rule.permissions.empty?
    rules << rule
    rule
  end

  class AppDefinition
    def channel_rules
      @channel_rules ||= []
    end

    # app.channel "pattern" do |rule| … end
    def channel(pattern, &block)
      Raptor.channel_rule(channel_rules, pattern, "app #{@settings[:id]}", block)
    end
  end

  class << self
    def global_channel_rules
      @global_channel_rules ||= []
    end

    # The rules that apply to `app_id`: its own, then the top-level ones.
    def channel_rules(app_id)
      definition = apps.find { |a| a.settings[:id] == app_id }
      (definition ? definition.channel_rules : []) + global_channel_rules
    end

    # For the server's matcher: [[pattern, ["subscribe", …]], …], in the order of channel_rules.
    def channel_patterns(app_id)
      channel_rules(app_id).map { |rule| [rule.pattern, rule.permissions.map(&:to_s)] }
    end

    # Called by the server with the positions (in channel_rules order) of the rules that match
    # the channel and state `permission`: the first answer that is not pass, as [kind, detail].
    def run_channel_rules(permission, app_id, positions, request)
      rules = channel_rules(app_id)
      positions.each do |i|
        block = rules[i][permission]
        answer = Verdict.normalize(permission, block.call(request), block)
        return answer unless answer == ["pass"]
      end
      ["pass"]
    end
  end
end

# channel "pattern" do … end at the top level: a rule for every app (after the app's own rules).
def channel(pattern, &block)
  Raptor.channel_rule(Raptor.global_channel_rules, pattern, "all apps", block)
end
