/* The recovery email rule of api/rules.py (EMAIL_PATTERN, MAX_EMAIL_LENGTH, no control characters), its
 * pattern and limit filled in by build.py from the definition's export.
 *
 * emailAddress is a pure function, no DOM: tests/unit/test_site_email_rule.py runs this file in V8 against
 * rules.normalize_email.
 * emailAddress(raw) -> the address as the API keeps it (trimmed, lower case), or null when the API refuses it.
 * showEmailVerdict(input, error, value) shows emailAddress's verdict on a field and returns `value` (the issue
 * page's two forms, issue.js and resend.js). */
"use strict";

var EMAIL_PATTERN = new RegExp("{rule:email_pattern}");

function emailAddress(raw) {
  var value = String(raw == null ? "" : raw).trim().toLowerCase();
  var ok = value.length > 0 && value.length <= Number("{rule:max_email_length}") && EMAIL_PATTERN.test(value) &&
    !/[\u0000-\u001f\u007f]/.test(value);
  return ok ? value : null;
}

function showEmailVerdict(input, error, value) {
  var ok = value !== null;
  input.setAttribute("aria-invalid", ok ? "false" : "true");
  GS.text(error, ok ? "" : "Enter a valid email address, for example name@example.com.");
  error.hidden = ok;
  return value;
}
