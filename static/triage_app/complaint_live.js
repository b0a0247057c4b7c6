// The staff complaint page follows its complaint live: when the queue socket pushes a
// new state of it (the customer wrote again, someone claimed or resolved it, the stream
// re-scored it), the page reloads, or, while the reader is typing a reply or a note,
// says so and waits for them.
(function () {
  "use strict";
  const page = document.getElementById("complaint-live");
  if (!page) return;
  const id = page.dataset.id;
  const shown = { status: page.dataset.status, priority: page.dataset.priority };
  const notice = document.getElementById("complaint-changed");

  function typing() {
    return Array.from(document.querySelectorAll("textarea")).some((t) => t.value.trim() !== "");
  }

  function changed(item) {
    if (item.status !== shown.status) return true;
    if (!item.score) return false;
    // Compared as numbers: the page wrote "30.0" where JSON says 30.
    return shown.priority === "" || Number(item.score.priority) !== Number(shown.priority);
  }

  function connect(retryMs) {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + "/ws/queue/");
    socket.addEventListener("open", () => { page.dataset.state = "live"; });
    socket.addEventListener("message", (event) => {
      const data = JSON.parse(event.data);
      if (data.type !== "items") return;
      const item = data.items.find((i) => i.id === id);
      if (!item || !changed(item)) return;
      if (typing()) {
        notice.hidden = false;
      } else {
        location.reload();
      }
    });
    socket.addEventListener("close", () => {
      page.dataset.state = "down";
      setTimeout(() => connect(Math.min(retryMs * 2, 10000)), retryMs);
    });
  }

  document.getElementById("complaint-reload").addEventListener("click", () => location.reload());
  connect(500);
})();
