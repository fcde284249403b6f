// The reason picker (the action dialog): inline in the card, no second page. Number keys or arrows
// pick a reason, Enter confirms, Esc cancels and the focus returns to the card. What a confirmed
// choice does is the caller's (onConfirm), so this module sends nothing itself.
import { actionsByKind, pickerTemplate } from "./page.js";
import { focusCard } from "./focus.js";
import { elements, state } from "./state.js";

export function openPicker(streamId, kind, onConfirm) {
  closePicker(false);
  const element = elements.get(streamId);
  if (!element) return;
  focusCard(streamId, false);
  const form = pickerTemplate.content.firstElementChild.cloneNode(true);
  form.querySelector(".picker-title").textContent = actionsByKind[kind].label;
  form.querySelector(".picker-minutes").hidden = kind !== "suspend";
  const options = form.querySelectorAll("[role=option]");
  options.forEach(function (option, index) {
    option.id = "reason-" + streamId + "-" + index;
    option.addEventListener("click", function () { choose(index); submitPicker(); });
  });
  state.picker = { form: form, streamId: streamId, kind: kind, index: 0, options: options, onConfirm: onConfirm };
  form.addEventListener("submit", function (event) { event.preventDefault(); submitPicker(); });
  form.querySelector("[data-cancel]").addEventListener("click", function () { closePicker(true); });
  form.addEventListener("keydown", pickerKey);
  element.classList.add("has-picker");
  element.querySelector(".card-body").appendChild(form);
  choose(0);
  form.querySelector(".picker-reasons").focus();
}

function choose(index) {
  const picker = state.picker;
  if (!picker) return;
  const options = picker.options;
  index = Math.max(0, Math.min(options.length - 1, index));
  options[picker.index].setAttribute("aria-selected", "false");
  options[index].setAttribute("aria-selected", "true");
  picker.index = index;
  const list = picker.form.querySelector(".picker-reasons");
  list.setAttribute("aria-activedescendant", options[index].id);
  options[index].scrollIntoView({ block: "nearest" });
}

function pickerKey(event) {
  const picker = state.picker;
  if (!picker) return;
  const inList = event.target.classList.contains("picker-reasons");
  if (event.key === "Escape") {
    event.preventDefault();
    event.stopPropagation();
    closePicker(true);
  } else if (inList && (event.key === "ArrowDown" || event.key === "j")) {
    event.preventDefault(); choose(picker.index + 1);
  } else if (inList && (event.key === "ArrowUp" || event.key === "k")) {
    event.preventDefault(); choose(picker.index - 1);
  } else if (inList && /^[0-9]$/.test(event.key)) {
    event.preventDefault();
    choose(event.key === "0" ? 9 : Number(event.key) - 1);
  } else if (inList && event.key === "Enter") {
    event.preventDefault(); submitPicker();
  }
  event.stopPropagation(); // the wall's keys do not fire inside the picker
}

function submitPicker() {
  const picker = state.picker;
  if (!picker) return;
  const form = picker.form;
  const reason = picker.options[picker.index].dataset.reason;
  const note = form.elements.note.value.trim();
  const minutes = parseInt(form.elements.minutes.value, 10);
  if (picker.kind === "suspend" && !(minutes > 0)) { form.elements.minutes.focus(); return; }
  closePicker(true);
  picker.onConfirm(picker.streamId, picker.kind, reason, note, minutes);
}

export function closePicker(returnFocus) {
  const picker = state.picker;
  if (!picker) return;
  const element = elements.get(picker.streamId);
  picker.form.remove();
  if (element) element.classList.remove("has-picker");
  state.picker = null;
  if (returnFocus) focusCard(picker.streamId);
}
