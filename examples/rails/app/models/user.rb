# The app's users. A real app keeps them in its database and signs them in with a password
# (has_secure_password, Devise); here three made-up people, picked on the sign-in page.
class User
  attr_reader :id, :name

  def initialize(id, name)
    @id, @name = id, name
  end

  ALL = [new("1", "Ann"), new("2", "Bob"), new("3", "Cleo")].to_h { |user| [user.id, user] }.freeze

  def self.all = ALL.values
  def self.find(id) = ALL[id.to_s]

  # What the other members of a presence channel see of this user.
  def member = { user_id: id, user_info: { name: name } }
end
