// Progressive enhancement of the enrolment wizard. Without JavaScript every field is shown and
// the server decides what is required; with it, blocks that do not apply are hidden.
(function () {
  "use strict";
  var form = document.getElementById("wizard-form");
  if (!form) { return; }

  function currentValue(name) {
    var checked = form.querySelector('input[name="' + name + '"]:checked');
    if (checked) { return checked.value; }
    var select = form.querySelector('select[name="' + name + '"]');
    return select ? select.value : "";
  }

  function refresh() {
    var blocks = form.querySelectorAll("[data-show-when]");
    Array.prototype.forEach.call(blocks, function (block) {
      var rule = block.getAttribute("data-show-when").split("=");
      var visible = currentValue(rule[0]) === rule[1];
      block.hidden = !visible;
    });
  }

  // The kbis is only asked for when the dénomination sociale differs from the registry's.
  function refreshChanged() {
    var blocks = form.querySelectorAll("[data-show-when-changed]");
    Array.prototype.forEach.call(blocks, function (block) {
      var input = document.getElementById(block.getAttribute("data-show-when-changed"));
      if (!input) { return; }
      var original = (block.getAttribute("data-original") || "").trim().toUpperCase();
      block.hidden = input.value.trim().replace(/\s+/g, " ").toUpperCase() === original && !block.querySelector(".fr-error-text");
    });
  }

  form.addEventListener("change", refresh);
  form.addEventListener("input", refreshChanged);
  refreshChanged();
  refresh();

  // « Terminer » sends the request once, even on a double click (the server is idempotent too).
  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (button && button.hasAttribute("data-submit-once")) {
      if (form.getAttribute("data-submitted") === "true") {
        event.preventDefault();
        return;
      }
      form.setAttribute("data-submitted", "true");
      button.setAttribute("aria-disabled", "true");
    }
  });
})();
