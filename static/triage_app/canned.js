// Canned replies on the complaint page: the chosen one, already filled in for this
// complaint by the server, goes into the reply box at the cursor (as text, never HTML).
(function () {
  "use strict";
  const replies = JSON.parse(document.getElementById("canned-replies").textContent);
  const choice = document.getElementById("canned-reply");
  const box = document.getElementById("reply-body");
  document.getElementById("canned-insert").addEventListener("click", () => {
    const reply = replies[Number(choice.value)];
    if (choice.value === "" || !reply) return;
    const start = box.selectionStart ?? box.value.length;
    const end = box.selectionEnd ?? box.value.length;
    box.value = box.value.slice(0, start) + reply.text + box.value.slice(end);
    box.focus();
    box.selectionStart = box.selectionEnd = start + reply.text.length;
  });
})();
