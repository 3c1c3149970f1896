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
