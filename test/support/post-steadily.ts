import type { ChatApi, StoredMessage } from './chat-api';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Posts `count` messages (`#0`, `#1`, ...) at about `perSecond`, open loop: without waiting for each answer before
 * the next. Resolves with what the service stored, in posting order.
 */
export async function postSteadily(
  api: ChatApi,
  room: string,
  count: number,
  perSecond: number,
): Promise<StoredMessage[]> {
  const posts: Array<Promise<StoredMessage>> = [];
  const started = Date.now();
  for (let n = 0; n < count; n++) {
    const due = started + (n * 1000) / perSecond;
    if (due > Date.now()) await sleep(due - Date.now());
    posts.push(api.post(room, `#${n}`));
  }
  return Promise.all(posts);
}

/** Every message of a room, oldest first, page by page. */
export async function listAll(api: ChatApi, room: string): Promise<StoredMessage[]> {
  const all: StoredMessage[] = [];
  for (;;) {
    const page = await api.list(room, all.at(-1)?.id, 500);
    all.push(...page);
    if (page.length < 500) return all;
  }
}
