// Redeems an invitation or password-reset link. The secret travels in the URL fragment, which
// browsers never send to servers or proxies, and is only ever used by this explicit POST: a mail
// scanner that opens the link changes nothing.
(function () {
  var reset = location.pathname.indexOf("password-reset") >= 0;
  var token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
  var form = document.getElementById("form");
  var message = document.getElementById("message");
  if (reset) {
    document.getElementById("title").textContent = "Choose a new password";
    document.getElementById("intro").textContent = "Set a new password for your customer portal account.";
  }
  function say(text, ok) {
    message.textContent = text;
    message.className = ok ? "ok" : "error";
  }
  if (!token) {
    say("This link is incomplete. Open the link from your mail again, or ask for a new one.");
    form.querySelector("button").disabled = true;
    return;
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var pw = form.password.value, again = form.confirm.value;
    if (pw.length < 8) { say("The password must be at least 8 characters long."); form.password.focus(); return; }
    if (pw !== again) { say("The two passwords differ."); form.confirm.focus(); return; }
    var button = form.querySelector("button");
    button.disabled = true;
    var path = (reset ? "/api/v1/password-resets/" : "/api/v1/invitations/") + encodeURIComponent(token);
    fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ password: pw }) })
      .then(function (res) {
        if (res.status === 204) {
          history.replaceState(null, "", location.pathname);
          form.password.value = form.confirm.value = "";
          // The form has done its work: hide it and offer the way on, where keyboard focus goes too.
          form.hidden = true;
          say("Your password is saved. You can now sign in to the portal.", true);
          document.getElementById("next").hidden = false;
          document.getElementById("signin").focus();
          return;
        }
        button.disabled = false;
        return res.json().then(function (p) { say(p.detail || p.title || "Something went wrong."); },
          function () { say("Something went wrong (HTTP " + res.status + ")."); });
      }, function () { button.disabled = false; say("The portal cannot be reached. Try again."); });
  });
})();
