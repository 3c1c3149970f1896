// Upload progress for the htmx file forms; everything else works without JavaScript.
document.addEventListener("htmx:xhr:progress", (event) => {
  const form = event.target.closest("form.hub-upload");
  if (!form || !event.detail.lengthComputable) return;
  const bar = form.querySelector(".hub-upload__progress");
  bar.hidden = false;
  bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
});
document.addEventListener("htmx:beforeRequest", (event) => {
  const form = event.target.closest("form.hub-upload");
  if (form) form.setAttribute("aria-busy", "true");
});

// A failed upload (server error, too large for the proxy, network down) must say so.
function uploadFailed(event, text) {
  const form = event.target.closest("form.hub-upload");
  if (!form) return;
  form.removeAttribute("aria-busy");
  let alert = form.querySelector(".hub-upload__error");
  if (!alert) {
    alert = document.createElement("div");
    alert.className = "usa-alert usa-alert--error usa-alert--slim hub-upload__error";
    alert.setAttribute("role", "alert");
    alert.innerHTML = '<div class="usa-alert__body"><p class="usa-alert__text"></p></div>';
    form.prepend(alert);
  }
  alert.querySelector("p").textContent = text;
}
document.addEventListener("htmx:responseError", (event) => {
  const status = event.detail.xhr ? event.detail.xhr.status : 0;
  uploadFailed(event, status === 413
    ? "The file is too large to send: files may be at most 50 MB."
    : `The upload failed (error ${status}). Your file was not lost: choose it again, and if it fails twice, write to your JFF coach.`);
});
document.addEventListener("htmx:sendError", (event) => {
  uploadFailed(event, "The upload could not reach the hub: check your connection and choose the file again.");
});
