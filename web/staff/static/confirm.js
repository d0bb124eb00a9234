// Forms whose action cannot be taken back ask first: data-confirm holds the question,
// with the count of what it will change. Without scripts the form posts as it is.
(function () {
  "use strict";
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
})();
