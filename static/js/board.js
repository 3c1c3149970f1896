// The status board's "select every coalition shown" box; without JavaScript each row's
// box still works, so the box is hidden until this runs.
function boardSelectAll() {
  const wrapper = document.querySelector("[data-select-all]");
  if (wrapper) wrapper.hidden = false;
}
document.addEventListener("DOMContentLoaded", boardSelectAll);
document.addEventListener("htmx:afterSettle", boardSelectAll);
document.addEventListener("change", (event) => {
  const boxes = document.querySelectorAll('#results input[name="period"]');
  const all = document.getElementById("board-select-all");
  if (!all) return;
  if (event.target === all) {
    boxes.forEach((box) => { box.checked = all.checked; });
  } else if (event.target.name === "period") {
    const ticked = Array.from(boxes).filter((box) => box.checked).length;
    all.checked = ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
  }
});
