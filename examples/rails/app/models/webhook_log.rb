# The webhook events Raptor sent, in memory, newest last (a real app would count visits in its
# database). Bounded: only the last LIMIT are kept.
class WebhookLog
  LIMIT = 1000

  @events = []
  @lock = Mutex.new

  def self.record(events)
    @lock.synchronize { @events = (@events + events).last(LIMIT) }
  end

  def self.on(channels) = @lock.synchronize { @events.select { |e| channels.include?(e["channel"]) } }
end
