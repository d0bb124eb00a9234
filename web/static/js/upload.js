// Drag and drop onto the hand-in form: the dropped files go into the plain file input,
// so the form submits the same way with or without this script.
(function () {
  "use strict";
  var zone = document.getElementById("dropzone");
  var input = document.getElementById("files");
  var list = document.getElementById("chosen");
  if (!zone || !input) { return; }

  function show() {
    var refusal = document.getElementById("refusal");
    if (refusal) { refusal.hidden = true; }  // about an earlier upload, not this one
    list.textContent = "";
    for (var i = 0; i < input.files.length; i++) {
      var li = document.createElement("li");
      li.textContent = input.files[i].name + " (" + input.files[i].size + " bytes)";
      list.appendChild(li);
    }
  }

  ["dragenter", "dragover"].forEach(function (type) {
    zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (type) {
    zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.remove("over"); });
  });
  zone.addEventListener("drop", function (e) {
    if (e.dataTransfer && e.dataTransfer.files.length) {
      input.files = e.dataTransfer.files;
      show();
    }
  });
  input.addEventListener("change", show);
})();
