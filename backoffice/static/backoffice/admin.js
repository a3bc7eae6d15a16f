/* paysvc back office: the "Copy" buttons beside long values (backoffice.display.long_value).
   The value is the button's data-copy attribute. No external assets. */
(function () {
  "use strict";

  function copied(button, label) {
    button.textContent = label;
    setTimeout(function () { button.textContent = "Copy"; }, 1500);
  }

  function copyBySelection(button) {
    // Plain HTTP has no clipboard API: select the value and copy the selection.
    var text = button.parentNode.querySelector(".bo-long-text");
    if (!text) return;
    var range = document.createRange();
    range.selectNodeContents(text);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    copied(button, ok ? "Copied" : "Press Ctrl+C");
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.bo-copy");
    if (!button) return;
    event.preventDefault();
    var value = button.getAttribute("data-copy");
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(value).then(
        function () { copied(button, "Copied"); },
        function () { copyBySelection(button); }
      );
    } else {
      copyBySelection(button);
    }
  });
})();
