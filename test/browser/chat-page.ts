import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';

/** Long enough for a loaded 2-core CI machine, short enough that a hang fails the test well within Jest's 60 s. */
export const UI_TIMEOUT_MS = 15_000;

/** What happened on a page, in order: `typing:<text>` for each change of #typing, `message:<user>:<text>` per item. */
export type PageLog = string[];

/**
 * The demo page as one user sees it, in a browser context of its own (no shared storage between users). A page
 * script records every change of the typing line and the message list, so the test can assert what was shown at
 * any time (a stale "is typing" that flashed and went away), not only what is shown at the end.
 */
export class ChatPage {
  /** Uncaught exceptions and console errors of the page, shown when the test fails. */
  readonly problems: string[] = [];

  private constructor(
    readonly user: string,
    readonly page: Page,
    private readonly context: BrowserContext,
  ) {
    page.on('pageerror', (error) => this.problems.push(`${user}: uncaught ${error.message}`));
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      this.problems.push(`${user}: console ${message.text()} (${message.location().url})`);
    });
    page.on('response', (response) => {
      if (response.status() >= 400) this.problems.push(`${user}: ${response.status()} ${response.url()}`);
    });
  }

  /** Opens the page in a browser context of its own; `prepare` runs first (to slow down requests, say). */
  static async open(
    browser: Browser,
    baseUrl: string,
    user: string,
    prepare?: (page: Page) => Promise<unknown>,
  ): Promise<ChatPage> {
    const context = await browser.newContext();
    const chat = new ChatPage(user, await context.newPage(), context);
    await prepare?.(chat.page);
    await chat.page.goto(baseUrl);
    return chat;
  }

  /** Joins `room` as the page's user, with a development token, and waits until the hub is connected. */
  /** Joins `room`; `protocol` and `transport` are the page's choices (JSON, whatever negotiate gives, by default). */
  async join(
    room: string,
    choice: { protocol?: 'json' | 'messagepack'; transport?: 'WebSockets' | 'ServerSentEvents' | 'LongPolling' } = {},
  ): Promise<void> {
    await this.page.locator('#user').fill(this.user);
    await this.page.locator('#room').fill(room);
    await this.page.locator('#protocol').selectOption(choice.protocol ?? 'json');
    await this.page.locator('#transport-choice').selectOption(choice.transport ?? '');
    await this.page.locator('#connect').click();
    // Wait for any outcome, then name it: a failed join leaves its error in #status, which beats a bare timeout.
    await this.page
      .locator('#status:not([data-state="disconnected"]):not([data-state="connecting"])')
      .waitFor({ state: 'attached', timeout: UI_TIMEOUT_MS });
    const status = await this.status();
    if (status !== 'connected') throw new Error(`${this.user} did not connect: #status says "${status}"`);
    await this.page.evaluate(recordChanges);
  }

  get typing(): Locator {
    return this.page.locator('#typing');
  }

  get latency(): Locator {
    return this.page.locator('#latency');
  }

  /** Items of #messages whose text is exactly `text`. */
  message(text: string): Locator {
    return this.page
      .locator('#messages li')
      .filter({ has: this.page.locator('.text', { hasText: new RegExp(`^${escapeRegExp(text)}$`) }) });
  }

  /** What the page says it got, e.g. `messagepack over WebSockets`. */
  async transport(): Promise<string> {
    return (await this.page.locator('#transport').textContent()) ?? '';
  }

  async status(): Promise<string | undefined> {
    return (await this.page.locator('#status').getAttribute('data-state')) ?? undefined;
  }

  /** Every message shown, as `<user>: <text>`, from the DOM. */
  async messages(): Promise<string[]> {
    return this.page
      .locator('#messages li')
      .evaluateAll((items) => items.map((li: any) => `${li.dataset.user}: ${li.querySelector('.text')?.textContent}`));
  }

  /** Types like a person (one input event per key), without sending. */
  async type(text: string): Promise<void> {
    await this.page.locator('#text').pressSequentially(text, { delay: 40 });
  }

  /** Sends what is in the composer with the Enter key, as a person would right after the last keystroke. */
  async pressEnter(): Promise<void> {
    await this.page.locator('#text').press('Enter');
  }

  /** The recorded changes, consecutive repeats folded (the page re-renders the typing line every second). */
  async log(): Promise<PageLog> {
    const log: PageLog = await this.page.evaluate(() => (globalThis as any).demoPageLog);
    return log.filter((entry, i) => entry !== log[i - 1]);
  }

  async screenshot(path: string): Promise<void> {
    await this.page.screenshot({ path, fullPage: true });
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}

/**
 * Runs in the page (DOM types are not in this project's lib, hence `any`). One observer for both elements, so the
 * records keep the order of the changes: a message shown, then the typing line cleared by it.
 */
function recordChanges(): void {
  const doc = (globalThis as any).document;
  const typing = doc.getElementById('typing');
  const messages = doc.getElementById('messages');
  const log: string[] = [];
  (globalThis as any).demoPageLog = log;
  const observer = new (globalThis as any).MutationObserver((records: any[]) => {
    for (const record of records) {
      if (typing.contains(record.target)) {
        log.push(`typing:${typing.textContent}`);
        continue;
      }
      for (const li of record.addedNodes)
        log.push(`message:${li.dataset.user}:${li.querySelector('.text').textContent}`);
    }
  });
  observer.observe(typing, { childList: true, characterData: true, subtree: true });
  observer.observe(messages, { childList: true });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
