// The gallery page: comments arrive live (published by Rails), the visitors list follows the
// presence channel, the owner nudges visitors with a client event on the privileged channel, and
// the owner hears of new comments as a user event wherever signed in. pusher-js is the plain
// browser build (public/pusher.min.js); every signature comes from the Rails app.
(() => {
  const page = document.getElementById('gallery');
  const { raptorUrl, raptorKey, gallery } = page.dataset;
  const owner = page.dataset.owner === 'true';
  const csrf = { 'X-CSRF-Token': document.querySelector('meta[name=csrf-token]').content };
  const raptor = new URL(raptorUrl);
  const tls = raptor.protocol === 'https:';
  const port = Number(raptor.port || (tls ? 443 : 80));

  const pusher = new Pusher(raptorKey, {
    wsHost: raptor.hostname, wsPort: port, wssPort: port, forceTLS: tls,
    enabledTransports: ['ws', 'wss'], cluster: 'raptor', disableStats: true, // cluster: required, unused
    channelAuthorization: { endpoint: '/pusher/auth', headers: csrf },
    userAuthentication: { endpoint: '/pusher/user-auth', headers: csrf },
  });
  pusher.connection.bind('state_change', ({ current }) => { page.dataset.state = current; });

  const item = (parent, text, attributes = {}) => {
    const li = document.createElement('li');
    li.textContent = text;
    for (const [name, value] of Object.entries(attributes)) li.setAttribute(name, value);
    parent.append(li);
  };

  // Comments: private channel, Rails publishes, nobody else may (examples/gallery.rb).
  const comments = pusher.subscribe(`private-galleries.${gallery}.comments`);
  comments.bind('comment-added', ({ id, author, text }) => {
    if (!document.querySelector(`[data-comment="${id}"]`)) item(document.getElementById('comments'), `${author}: ${text}`, { 'data-comment': id });
  });

  // Who is here: a presence channel, every member sees every other.
  const visitors = pusher.subscribe(`presence-gallery.${gallery}`);
  const showVisitors = () => {
    const list = document.getElementById('visitors');
    list.replaceChildren();
    visitors.members.each(({ id, info }) => item(list, info.name, { 'data-user': id }));
  };
  for (const event of ['pusher:subscription_succeeded', 'pusher:member_added', 'pusher:member_removed']) visitors.bind(event, showVisitors);

  // The owner's channel: privileged for the owner only, who alone may send client events.
  const ownerChannel = pusher.subscribe(`presence-privileged-gallery.${gallery}`);
  ownerChannel.bind('client-nudge', ({ text }) => { document.getElementById('nudges').textContent = text; });
  if (owner) {
    document.getElementById('nudge').addEventListener('click', () => ownerChannel.trigger('client-nudge', { text: 'The new photos are up' }));
  }

  // Signed in as the Rails user: Rails tells a gallery's owner of each comment by someone else.
  pusher.signin();
  pusher.user.bind('comment-notice', ({ author, gallery: title }) => item(document.getElementById('notices'), `${author} commented on ${title}`));

  document.getElementById('comment-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.target;
    const response = await fetch(form.action, {
      method: 'POST', headers: { ...csrf, 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: form.elements.text.value }),
    });
    if (response.ok) form.reset();
    else alert((await response.json()).error);
  });
})();
