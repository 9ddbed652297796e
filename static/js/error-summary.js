// Moves the keyboard and screen-reader focus to the summary of a form's errors, so that the
// user hears what is wrong and can follow each link to the field concerned.
(function () {
  "use strict";

  function focusSummary() {
    var summary = document.getElementById("error-summary");
    if (!summary) {
      return;
    }
    summary.focus();
    if (summary.scrollIntoView) {
      summary.scrollIntoView({ block: "start" });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusSummary);
  } else {
    focusSummary();
  }
})();
