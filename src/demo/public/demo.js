// Demo chat page: the official SignalR browser client (window.signalR) against the hub, the REST API for posting.
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const TYPING_IDLE_MS = 1000;
  const TYPING_SHOWN_MS = 5000;

  let config = { hubUrl: '/hubs/chat', devTokens: false };
  let connection;
  let token;
  let me;
  let room;
  // The last message shown with none missing below it ({ id, seq }), and those shown above a hole (seq -> id): a gap
  // fill starts there, so a message that came before an older one cannot hide the older one.
  let resumeAt;
  const aboveHole = new Map();
  // While a gap fill runs, live messages wait here so the page shows them after the older ones it fetches.
  let filling = false;
  const held = [];
  const PAGE = 500;
  const seen = new Set();
  const typingUsers = new Map();
  const latencies = [];
  let typingIdleTimer;
  const typingRequests = new Set();

  async function api(path, options = {}) {
    const response = await fetch(path, {
      ...options,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...(options.headers || {}) },
    });
    if (!response.ok)
      throw new Error(`${options.method || 'GET'} ${path}: ${response.status} ${await response.text()}`);
    return response.status === 204 || response.status === 202 ? undefined : response.json();
  }

  function setStatus(state) {
    $('status').dataset.state = state;
    $('status').textContent = state;
  }

  function showMessage(message) {
    if (seen.has(message.id)) return;
    seen.add(message.id);
    advanceResume(message);
    const item = document.createElement('li');
    item.dataset.id = message.id;
    item.dataset.user = message.userId;
    if (message.userId === me) item.classList.add('mine');
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = message.userId;
    const text = document.createElement('span');
    text.className = 'text';
    text.textContent = message.text;
    item.append(who, text);
    $('messages').append(item);
    $('messages').scrollTop = $('messages').scrollHeight;
    typingUsers.delete(message.userId);
    renderTyping();
  }

  function advanceResume(message) {
    if (resumeAt !== undefined && message.seq !== resumeAt.seq + 1) {
      if (message.seq > resumeAt.seq) aboveHole.set(message.seq, message.id);
      return;
    }
    resumeAt = { id: message.id, seq: message.seq };
    for (let id; (id = aboveHole.get(resumeAt.seq + 1)) !== undefined;) {
      aboveHole.delete(resumeAt.seq + 1);
      resumeAt = { id, seq: resumeAt.seq + 1 };
    }
  }

  function recordLatency(message) {
    // acceptedAt: when the API accepted the message, with sub-millisecond precision (same machine clock here).
    const accepted = typeof message.acceptedAt === 'number' ? message.acceptedAt : Date.parse(message.createdAt);
    const ms = Math.round((performance.timeOrigin + performance.now() - accepted) * 10) / 10;
    latencies.push(Math.max(0, ms));
    if (latencies.length > 30) latencies.shift();
    const sorted = [...latencies].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    $('latency').textContent =
      `last ${ms} ms · median ${median} ms · max ${sorted[sorted.length - 1]} ms (${sorted.length} message${sorted.length === 1 ? '' : 's'})`;
    const max = Math.max(...latencies, 1);
    const points = latencies.map((v, i) => `${(i / 29) * 200},${60 - (v / max) * 55}`).join(' ');
    $('sparkline').innerHTML = `<polyline points="${points}" />`;
  }

  function renderTyping() {
    const now = Date.now();
    const names = [...typingUsers].filter(([, at]) => now - at < TYPING_SHOWN_MS).map(([user]) => user);
    $('typing').textContent =
      names.length === 0 ? '' : names.length === 1 ? `${names[0]} is typing…` : `${names.join(', ')} are typing…`;
  }

  /**
   * Fetches every message after `from` (the last one shown with none missing below it when the connection dropped),
   * page by page, while live messages are held back; ids already shown are skipped. Taking it after the re-join
   * would be too late: live messages arriving meanwhile move it past the ones missed.
   */
  async function fillGap(from) {
    filling = true;
    try {
      let after = from;
      for (;;) {
        const query = new URLSearchParams({ limit: String(PAGE) });
        if (after) query.set('after', after);
        const page = await api(`/rooms/${room}/messages?${query}`);
        page.forEach(showMessage);
        if (page.length < PAGE) break;
        after = page[page.length - 1].id;
      }
    } finally {
      filling = false;
      held.splice(0).forEach(showMessage);
    }
  }

  async function join(event) {
    event.preventDefault();
    // A click before the settings arrive would miss the development token and the hub URL.
    await configLoaded;
    me = $('user').value.trim();
    room = $('room').value.trim();
    token = $('token').value.trim();
    if (!token && config.devTokens) {
      const response = await fetch('/dev/token', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId: me }),
      });
      token = (await response.json()).token;
    }
    if (!token) {
      setStatus('a token is needed: npm run token -- ' + me);
      return;
    }
    if (connection) await connection.stop();
    $('messages').replaceChildren();
    seen.clear();
    resumeAt = undefined;
    aboveHole.clear();
    let lastIdAtDisconnect;
    const protocol = $('protocol').value;
    const transport = $('transport-choice').value;
    let builder = new signalR.HubConnectionBuilder()
      .withUrl(config.hubUrl, {
        accessTokenFactory: () => token,
        ...(transport ? { transport: signalR.HttpTransportType[transport] } : {}),
      })
      // A dropped socket resumes the same connection (on any gateway) with what was missed, numbered: no re-fetch.
      .withStatefulReconnect()
      // When a resume is refused (too long away, buffer full, gateway crash it cannot replay), a new connection
      // follows: keep trying (a deploy takes seconds; the stock policy gives up after four tries).
      .withAutomaticReconnect({
        nextRetryDelayInMilliseconds: (retry) => [0, 1000, 2000][retry.previousRetryCount] ?? 5000,
      })
      .configureLogging(transportReporter);
    if (protocol === 'messagepack')
      builder = builder.withHubProtocol(new signalR.protocols.msgpack.MessagePackHubProtocol());
    connection = builder.build();
    connection.on('ReceiveMessage', (message) => {
      if (message.roomId !== room) return;
      recordLatency(message);
      if (filling) held.push(message);
      else showMessage(message);
    });
    connection.on('UserTyping', (state) => {
      if (state.roomId !== room || state.userId === me) return;
      if (state.isTyping) typingUsers.set(state.userId, Date.now());
      else typingUsers.delete(state.userId);
      renderTyping();
    });
    connection.onreconnecting(() => {
      lastIdAtDisconnect = resumeAt && resumeAt.id;
      filling = true;
      setStatus('reconnecting');
    });
    connection.onreconnected(async () => {
      // Groups do not survive a reconnect (a new connection): join again, then fetch what was missed.
      await connection.invoke('JoinRoom', room);
      await fillGap(lastIdAtDisconnect);
      setStatus('connected');
    });
    connection.onclose(() => setStatus('disconnected'));
    setStatus('connecting');
    await connection.start();
    filling = true;
    await connection.invoke('JoinRoom', room);
    await fillGap(undefined);
    setStatus('connected');
    $('text').disabled = false;
    $('send').disabled = false;
    $('text').focus();
  }

  function typing(isTyping) {
    const body = JSON.stringify({ isTyping });
    const request = api(`/rooms/${room}/typing`, { method: 'POST', body }).catch(() => undefined);
    typingRequests.add(request);
    request.then(() => typingRequests.delete(request));
  }

  function onKey() {
    // One "typing" per keystroke, as the clients of the plan send; the server coalesces them.
    typing(true);
    clearTimeout(typingIdleTimer);
    typingIdleTimer = setTimeout(() => typing(false), TYPING_IDLE_MS);
  }

  async function send(event) {
    event.preventDefault();
    const text = $('text').value;
    if (!text.trim()) return;
    clearTimeout(typingIdleTimer);
    $('text').value = '';
    // Requests can overtake each other: a "typing" reaching the server after the message would show after it.
    await Promise.all(typingRequests);
    try {
      await api(`/rooms/${room}/messages`, { method: 'POST', body: JSON.stringify({ text }) });
    } catch (error) {
      // Give the text back rather than lose it; the status line says what went wrong.
      if (!$('text').value) $('text').value = text;
      throw error;
    }
  }

  // The stock client says which transport it picked only in its log: a logger that shows it, and passes warnings
  // and errors on to the console as the stock logger would.
  const transportReporter = {
    log(level, message) {
      const picked = /^Selecting transport '(\w+)'/.exec(message);
      if (picked) $('transport').textContent = `${$('protocol').value} over ${picked[1]}`;
      if (level >= signalR.LogLevel.Warning) console[level >= signalR.LogLevel.Error ? 'error' : 'warn'](message);
    },
  };

  setInterval(renderTyping, 1000);
  const configLoaded = fetch('/demo/config.json')
    .then((response) => response.json())
    .then((loaded) => {
      config = loaded;
      if (!config.devTokens) document.querySelector('.token').style.fontWeight = 'bold';
    })
    .catch(() => undefined);
  $('login').addEventListener('submit', (event) => join(event).catch((error) => setStatus(String(error.message))));
  $('composer').addEventListener('submit', (event) => send(event).catch((error) => setStatus(String(error.message))));
  $('text').addEventListener('input', onKey);
})();
