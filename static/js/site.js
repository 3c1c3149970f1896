// Behaviour every page shares. The Content-Security-Policy allows no inline script, so
// what would have been onclick="…" lives here (docs/security.md).

// A button with data-confirm="…" asks before it acts.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
});

// The session timer. The server ends an idle session whatever the browser does
// (bpij.security.SessionTimeoutMiddleware); this warns a minute before, lets the person
// stay signed in without leaving the page, and goes to the sign-in page once it is over.
// The server says how long is left (on the page, and in a header on every htmx answer),
// so several tabs and the polls that do not count as activity are all taken into account.
(() => {
  const body = document.body;
  const url = body.dataset.sessionUrl;
  if (!url) return;
  const WARN_MS = 60 * 1000;
  const csrf = JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
  let timer = null;
  let returnFocus = null;

  const wrapper = () => document.getElementById("session-warning")?.closest(".usa-modal-wrapper");
  const isOpen = () => Boolean(wrapper()?.classList.contains("is-visible"));

  function open(deadline) {
    const time = new Date(deadline).toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
    document.querySelector("[data-session-deadline]").textContent = time;
    if (isOpen()) return;
    returnFocus = document.activeElement;
    document.querySelector("[data-session-open]").click();
  }

  function close() {
    if (!isOpen()) return;
    document.querySelector("[data-session-close]").click();
    restoreFocus();
  }

  function restoreFocus() {
    // USWDS sends focus back to the (hidden) opener; the person goes back to where they were.
    const target = returnFocus;
    returnFocus = null;
    if (target && target !== document.body) window.setTimeout(() => target.focus(), 0);
  }

  function signIn() {
    const here = window.location.pathname + window.location.search;
    window.location.assign(`${body.dataset.signInUrl}?next=${encodeURIComponent(here)}`);
  }

  function schedule(seconds) {
    window.clearTimeout(timer);
    const left = seconds * 1000;
    if (left > WARN_MS) {
      close();
      timer = window.setTimeout(ask, left - WARN_MS);
    } else if (left > 0) {
      open(Date.now() + left);
      timer = window.setTimeout(ask, left + 1000);
    } else {
      signIn();
    }
  }

  async function ask(method = "GET") {
    let response;
    try {
      response = await fetch(url, {
        method,
        headers: { Accept: "application/json", "X-CSRFToken": csrf },
        credentials: "same-origin",
      });
    } catch {
      timer = window.setTimeout(ask, 10 * 1000); // offline for a moment: ask again soon
      return;
    }
    if (!response.ok || response.redirected) {
      signIn();
      return;
    }
    schedule((await response.json()).expires_in);
  }

  document.addEventListener("click", (event) => {
    if (!event.target.closest("[data-session-stay]")) return;
    restoreFocus();
    ask("POST");
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    const left = event.detail.xhr?.getResponseHeader("X-Session-Expires-In");
    if (left !== null && left !== undefined && left !== "") schedule(Number(left));
  });

  // Started once USWDS has set up its modal (on DOMContentLoaded, listening before us).
  function start() {
    const left = body.dataset.sessionExpiresIn;
    if (left === "") ask();
    else schedule(Number(left));
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

// Decisions that ask first (Accept and Return on the review page): their button is a
// real submit button, so without JavaScript the server's confirm page asks instead. With
// it, USWDS opens the modal named by aria-controls and the button does not post; the
// modal's own button posts "confirmed". The modals stay hidden until this shows them.
document.querySelectorAll(".hub-confirm-modal[hidden], .hub-js-modal[hidden]").forEach((modal) => {
  modal.hidden = false; // USWDS keeps it in its hidden wrapper until it is opened
});
document.addEventListener("click", (event) => {
  if (event.target.closest("button[type=submit][data-open-modal]")) event.preventDefault();
});
// Return with no reason ticked has nothing to confirm: the form goes straight to the
// server, which says a reason is needed (stopped here, USWDS does not open the modal).
document.addEventListener(
  "click",
  (event) => {
    const form = event.target.closest("button[type=submit][data-open-modal]")?.form;
    if (form?.querySelector("input[name=reasons]") && !form.querySelector("input[name=reasons]:checked")) {
      event.stopPropagation();
    }
  },
  true,
);
