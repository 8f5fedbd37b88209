// The web form (/report): checks photos before a long upload, counts characters, keeps a
// double click from sending twice, and prints the confirmation. The form works without it;
// the server checks everything again.
(function () {
  "use strict";

  function format(template, name) {
    return template.replace("{name}", name);
  }

  function checkPhotos(form, input, live) {
    var files = input.files ? Array.prototype.slice.call(input.files) : [];
    var maxPhotos = parseInt(form.dataset.maxPhotos, 10);
    var maxBytes = parseInt(form.dataset.photoMaxBytes, 10);
    var maxRequest = parseInt(form.dataset.requestMaxBytes, 10);
    var problems = [];
    var total = 0;
    if (files.length > maxPhotos) {
      problems.push(form.dataset.msgTooMany);
    }
    files.forEach(function (file) {
      total += file.size;
      if (file.size > maxBytes) {
        problems.push(format(form.dataset.msgTooBig, "«" + file.name + "»"));
      } else if (file.type && !/^image\/(jpeg|png|webp)$/.test(file.type)) {
        problems.push(format(form.dataset.msgType, "«" + file.name + "»"));
      }
    });
    if (!problems.length && total > maxRequest - 65536) {
      problems.push(form.dataset.msgTotal);
    }
    var message = problems.join(" ");
    input.setCustomValidity(message);
    live.textContent = message;
    live.hidden = !message;
    if (message) {
      input.setAttribute("aria-invalid", "true");
    } else if (!document.getElementById("rf-photos-error")) {
      input.removeAttribute("aria-invalid");
    }
  }

  function counter(form, textarea, output) {
    var update = function () {
      var max = parseInt(textarea.getAttribute("maxlength"), 10);
      output.textContent = (max - textarea.value.length) + " " + form.dataset.msgLeft;
    };
    textarea.addEventListener("input", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-focus-on-load]");
    if (summary) {
      summary.focus();
    }
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });

    var form = document.querySelector("form.rf-form");
    if (!form) {
      return;
    }
    var photos = form.querySelector("#rf-photos");
    var live = form.querySelector("#rf-photos-live");
    if (photos && live) {
      photos.addEventListener("change", function () { checkPhotos(form, photos, live); });
    }
    var description = form.querySelector("#rf-description");
    var output = form.querySelector("[data-counter-for=rf-description]");
    if (description && output) {
      counter(form, description, output);
    }
    var submit = form.querySelector("button[type=submit]");
    var label = submit ? submit.textContent : "";
    form.addEventListener("submit", function (event) {
      if (form.dataset.sending === "1") {
        event.preventDefault();  // a second click while the first send is under way
        return;
      }
      form.dataset.sending = "1";
      if (submit) {
        submit.disabled = true;
        submit.textContent = form.dataset.msgSending;
      }
    });
    // Back from the confirmation (the page restored from the cache): the form can be sent again.
    window.addEventListener("pageshow", function () {
      form.dataset.sending = "";
      if (submit) {
        submit.disabled = false;
        submit.textContent = label;
      }
    });
  });
}());
