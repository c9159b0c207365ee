// orgguard: progressive enhancement. An element with data-live (the URL
// of an HTML fragment), data-events (the URL of an event stream),
// data-event (the event's name) and data-version (the version it shows)
// reloads its content from data-live whenever the stream sends an event
// whose data differs from its version. Without JavaScript the page is
// complete; it just does not update itself.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const el of document.querySelectorAll("[data-live][data-events]")) {
    const source = new EventSource(el.dataset.events);
    source.addEventListener(el.dataset.event || "message", async (ev) => {
      if (ev.data === el.dataset.version) {
        return;
      }
      const res = await fetch(el.dataset.live, { headers: { Accept: "text/html" }, credentials: "same-origin" });
      if (!res.ok) {
        return;
      }
      const doc = new DOMParser().parseFromString(await res.text(), "text/html");
      el.replaceChildren(...doc.body.childNodes);
      el.dataset.version = ev.data;
    });
  }
});
