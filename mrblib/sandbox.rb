# Closes what Debian's mruby compiles in and a policy script must never reach: files, sockets,
# processes, the terminal, and code compiled at run time (which the time budget cannot see).
# The gems for most of it are never started (src/script/interpreter.cpp); this closes what core
# mruby and the started gems define, and would close the rest too if those gems were started.
# Runs first in every VM, before the operator's raptor.rb; test_script_vm.cpp checks each hole.
module Kernel
  # Removed from both places a module function lives: the instance method (eval("...")) and the
  # copy on Kernel itself (Kernel.eval("..."), Kernel.send(:eval, ...), Kernel.method(:eval)).
  # method_defined? is the check undef_method makes before raising NameError (not compiled in,
  # or not a module function): asked first, no exception is built in every new VM.
  %i[` open gets system exec spawn fork exit exit! abort sleep syscall eval __printstr__].each do |name|
    [self, singleton_class].each do |owner|
      owner.send(:undef_method, name) if owner.method_defined?(name)
    end
  end

  # print/puts/p go to Raptor's log rather than a file descriptor.
  def print(*args)
    Raptor.log(args.join)
  end

  def puts(*args)
    Raptor.log(args.empty? ? "" : args.join("\n"))
  end

  def p(*args)
    Raptor.log(args.map(&:inspect).join(", ")) unless args.empty?
    args.size <= 1 ? args.first : args
  end
end

# The string forms of *_eval compile code outside the guarded region; the block forms stay.
class BasicObject
  def instance_eval(*args, &block)
    ::Kernel.raise ::NotImplementedError, "instance_eval with a string is not available in raptor scripts" if block.nil? || !args.empty?
    instance_exec(self, &block)
  end
end

class Module
  def module_eval(*args, &block)
    raise NotImplementedError, "module_eval with a string is not available in raptor scripts" if block.nil? || !args.empty?
    module_exec(self, &block)
  end
  alias class_eval module_eval
end

# IO and its subclasses (File, the sockets) stay alive in the heap for the interpreter's own
# standard streams; strip their class methods too so no reference found later can open anything.
%i[IO File FileTest BasicSocket Socket IPSocket TCPSocket TCPServer UDPSocket UNIXSocket UNIXServer
   Addrinfo].each do |name|
  next unless Object.const_defined?(name)
  klass = Object.const_get(name)
  klass.singleton_methods.each { |m| klass.singleton_class.send(:undef_method, m) rescue nil }
  Object.send(:remove_const, name)
end
%i[STDIN STDOUT STDERR ObjectSpace Fiber].each do |name|
  Object.send(:remove_const, name) if Object.const_defined?(name)
end
$stdin = $stdout = $stderr = nil
