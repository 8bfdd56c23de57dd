// Init script of the signaling checks: keeps what the page sends to RoomService
// (window.__sent: each fetch's URL and body, each WebSocket frame), without
// touching the npm package.
(() => {
  const sent = { http: [], ws: [] };
  window.__sent = sent;
  const fetch = window.fetch;
  window.fetch = function (input, init) {
    const entry = { url: String(input instanceof Request ? input.url : input), body: null };
    sent.http.push(entry);
    if (init && typeof init.body === 'string') entry.body = init.body;
    else if (input instanceof Request) input.clone().text().then((t) => { entry.body = t; });
    return fetch.apply(this, arguments);
  };
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    sent.ws.push(String(data));
    return send.apply(this, arguments);
  };
})();
