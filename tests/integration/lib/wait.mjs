// Waiting without sleeping: every wait is for an event, bounded by a timeout that names what was
// awaited, so a hung server fails a test with a readable message instead of hanging the run.

export const TIMEOUT_MS = Number(process.env.RAPTOR_TEST_TIMEOUT_MS || 5000);

export function withTimeout(promise, what, ms = TIMEOUT_MS) {
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

// A mailbox of things that arrive (frames, client-library events). take() finds the first
// matching item whether it already arrived or arrives later, and removes it, so a test never
// races the network; pending() looks at what arrived and was not taken.
export class Inbox {
  #items = [];
  #waiters = [];

  push(item) {
    const i = this.#waiters.findIndex((w) => w.match(item));
    if (i >= 0) this.#waiters.splice(i, 1)[0].resolve(item);
    else this.#items.push(item);
  }

  take(match = () => true, what = 'a matching item', ms = TIMEOUT_MS) {
    const i = this.#items.findIndex(match);
    if (i >= 0) return Promise.resolve(this.#items.splice(i, 1)[0]);
    const waiter = { match };
    const arrived = new Promise((resolve) => { waiter.resolve = resolve; });
    this.#waiters.push(waiter);
    return withTimeout(arrived, what, ms).catch((err) => {
      const at = this.#waiters.indexOf(waiter);
      if (at >= 0) this.#waiters.splice(at, 1);
      err.message += `; not taken: ${describe(this.#items)}`;
      throw err;
    });
  }

  pending(match = () => true) {
    return this.#items.filter(match);
  }
}

function describe(items) {
  const text = JSON.stringify(items.slice(-5), (k, v) => (typeof v === 'string' && v.length > 200 ? `${v.slice(0, 200)}…` : v));
  return items.length > 5 ? `…${items.length - 5} more, ${text}` : text;
}

// Resolves with the arguments of the next `event` an EventEmitter emits.
export function nextEmit(emitter, event, what = event, ms = TIMEOUT_MS) {
  return withTimeout(new Promise((resolve) => emitter.once(event, (...args) => resolve(args))), what, ms);
}

// Polls `probe` (sync or async) every 50 ms until it returns something truthy, which it resolves
// with; fails after `ms`. For states the server only shows in its output or by serving again.
export async function waitFor(probe, what, ms = TIMEOUT_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
