// The reply composer: canned texts, live preview with placeholders, a counter per network,
// and the copy button of answers posted by hand. Text is set with textContent only.
(function () {
  "use strict";
  function render(template, values) {
    return template.replace(/\{(name|ticket|department|status_link)\}/g, function (_, key) {
      return values[key] || "";
    }).trim();
  }
  document.querySelectorAll("form[data-test=composer]").forEach(function (form) {
    var values = JSON.parse(form.dataset.values || "{}");
    var area = form.querySelector("textarea[name=text]");
    var preview = form.querySelector("[data-test=preview]");
    var canned = form.querySelector("[data-test=canned]");
    function update() {
      var text = render(area.value, values);
      preview.textContent = text;
      form.querySelectorAll("[data-counter]").forEach(function (counter) {
        var length = Array.from(text).length;
        counter.querySelector(".count").textContent = String(length);
        counter.classList.toggle("overdue", length > Number(counter.dataset.limit));
      });
    }
    area.addEventListener("input", update);
    if (canned) {
      canned.addEventListener("change", function () {
        if (canned.value) { area.value = canned.value; update(); }
      });
    }
    update();
  });
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = button.parentElement.querySelector("[data-copy-source]");
      source.select();
      if (navigator.clipboard) { navigator.clipboard.writeText(source.value).catch(function () {}); }
      else { document.execCommand("copy"); }
    });
  });
})();
