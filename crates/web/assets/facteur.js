// Facteur portal: small enhancements only. Every page works without this file; it exists so the
// templates carry no inline script or handler (the Content-Security-Policy allows 'self' only).
(function () {
  'use strict';

  // The error summary of a refused form takes focus (autofocus does it too; this covers browsers
  // that ignore autofocus on a non-form element).
  function focusSummary() {
    var summary = document.getElementById('error-summary');
    if (summary && document.activeElement !== summary) summary.focus();
  }

  // Copy buttons are hidden until this script shows them: without it there is nothing to click.
  function showCopyButtons(root) {
    var buttons = root.querySelectorAll('button[data-copy]');
    for (var i = 0; i < buttons.length; i++) buttons[i].hidden = false;
  }

  function copy(button) {
    var source = document.getElementById(button.getAttribute('data-copy'));
    if (!source) return;
    var text = 'value' in source ? source.value : source.textContent;
    var done = function () {
      var status = document.getElementById(button.getAttribute('data-status') || '');
      if (status) status.textContent = button.getAttribute('data-copied') || '';
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () {
        source.select && source.select();
      });
    } else if (source.select) {
      source.select();
      try {
        if (document.execCommand('copy')) done();
      } catch (e) {
        /* the text stays selected: the user copies it by hand */
      }
    }
  }

  // A pick in the recipient autocomplete fills the field and says what was chosen.
  function pick(button) {
    var input = document.getElementById(button.getAttribute('data-target') || 'f-recipient');
    var chosen = document.getElementById('recipient-chosen');
    if (input) input.value = button.getAttribute('data-id') || '';
    if (chosen) chosen.textContent = button.getAttribute('data-label') || '';
    var list = button.closest('ul');
    if (list) list.innerHTML = '';
    if (input) {
      input.setAttribute('aria-expanded', 'false');
      input.focus();
    }
  }

  document.addEventListener('click', function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    var copyButton = target.closest('button[data-copy]');
    if (copyButton) {
      event.preventDefault();
      copy(copyButton);
      return;
    }
    var pickButton = target.closest('button[data-pick]');
    if (pickButton) {
      event.preventDefault();
      pick(pickButton);
    }
  });

  // htmx swapped suggestions in: tell assistive technology whether the list is open.
  document.addEventListener('htmx:afterSwap', function (event) {
    var list = event.target;
    if (!list || list.id !== 'recipient-suggestions') return;
    var input = document.querySelector('[aria-controls="recipient-suggestions"]');
    if (input) input.setAttribute('aria-expanded', list.children.length > 0 ? 'true' : 'false');
  });

  function ready() {
    showCopyButtons(document);
    focusSummary();
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', ready);
  } else {
    ready();
  }
})();
