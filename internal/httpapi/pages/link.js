// Redeems an invitation or password-reset link. The secret travels in the URL fragment, which
// browsers never send to servers or proxies, and is only ever used by this explicit POST: a mail
// scanner that opens the link changes nothing.
(function () {
  // The page speaks the language the browser prefers of English and German (German as the
  // widgets write it: formal "Sie"), English when it prefers neither. link.html holds the
  // English texts for the moment before this runs.
  var texts = {
    en: {
      documentTitle: "Customer Portal: choose your password",
      title: "Choose your password",
      intro: "Set the password you will use to sign in to the customer portal.",
      resetDocumentTitle: "Customer Portal: choose a new password",
      resetTitle: "Choose a new password",
      resetIntro: "Set a new password for your customer portal account.",
      password: "New password (at least 8 characters)",
      confirm: "Repeat the password",
      save: "Save password",
      signIn: "Sign in to the portal",
      incomplete: "This link is incomplete. Open the link from your mail again, or ask for a new one.",
      tooShort: "The password must be at least 8 characters long.",
      differ: "The two passwords differ.",
      saved: "Your password is saved. You can now sign in to the portal.",
      failed: "Something went wrong.",
      failedStatus: function (status) { return "Something went wrong (HTTP " + status + ")."; },
      unreachable: "The portal cannot be reached. Try again."
    },
    de: {
      documentTitle: "Kundenportal: Passwort wählen",
      title: "Wählen Sie Ihr Passwort",
      intro: "Legen Sie das Passwort fest, mit dem Sie sich am Kundenportal anmelden.",
      resetDocumentTitle: "Kundenportal: neues Passwort wählen",
      resetTitle: "Wählen Sie ein neues Passwort",
      resetIntro: "Legen Sie ein neues Passwort für Ihr Konto im Kundenportal fest.",
      password: "Neues Passwort (mindestens 8 Zeichen)",
      confirm: "Passwort wiederholen",
      save: "Passwort speichern",
      signIn: "Am Portal anmelden",
      incomplete: "Dieser Link ist unvollständig. Öffnen Sie den Link aus Ihrer E-Mail erneut oder fordern Sie einen neuen an.",
      tooShort: "Das Passwort muss mindestens 8 Zeichen lang sein.",
      differ: "Die beiden Passwörter stimmen nicht überein.",
      saved: "Ihr Passwort ist gespeichert. Sie können sich jetzt am Portal anmelden.",
      failed: "Etwas ist schiefgelaufen.",
      failedStatus: function (status) { return "Etwas ist schiefgelaufen (HTTP " + status + ")."; },
      unreachable: "Das Portal ist nicht erreichbar. Versuchen Sie es erneut."
    }
  };
  // pickLanguage is the first of the browser's languages, most preferred first, that the page
  // speaks: "de-AT" is German, ["fr", "de"] German, ["en-GB", "de"] English, ["fr"] English.
  function pickLanguage(langs) {
    for (var i = 0; i < langs.length; i++) {
      var primary = String(langs[i]).toLowerCase().split("-")[0];
      if (Object.prototype.hasOwnProperty.call(texts, primary)) return primary;
    }
    return "en";
  }
  var lang = pickLanguage(navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "en"]);
  var t = texts[lang];
  var reset = location.pathname.indexOf("password-reset") >= 0;
  var token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
  var form = document.getElementById("form");
  var message = document.getElementById("message");
  var button = form.querySelector("button");

  document.documentElement.lang = lang;
  document.title = reset ? t.resetDocumentTitle : t.documentTitle;
  document.getElementById("title").textContent = reset ? t.resetTitle : t.title;
  document.getElementById("intro").textContent = reset ? t.resetIntro : t.intro;
  form.querySelector('label[for="password"]').textContent = t.password;
  form.querySelector('label[for="confirm"]').textContent = t.confirm;
  button.textContent = t.save;
  document.getElementById("signin").textContent = t.signIn;

  function say(text, ok) {
    message.textContent = text;
    message.className = ok ? "ok" : "error";
  }
  if (!token) {
    say(t.incomplete);
    button.disabled = true;
    return;
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var pw = form.password.value, again = form.confirm.value;
    if (pw.length < 8) { say(t.tooShort); form.password.focus(); return; }
    if (pw !== again) { say(t.differ); form.confirm.focus(); return; }
    button.disabled = true;
    var path = (reset ? "/api/v1/password-resets/" : "/api/v1/invitations/") + encodeURIComponent(token);
    fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ password: pw }) })
      .then(function (res) {
        if (res.status === 204) {
          history.replaceState(null, "", location.pathname);
          form.password.value = form.confirm.value = "";
          // The form has done its work: hide it and offer the way on, where keyboard focus goes too.
          form.hidden = true;
          say(t.saved, true);
          document.getElementById("next").hidden = false;
          document.getElementById("signin").focus();
          return;
        }
        button.disabled = false;
        // The API's problem details are in English; they are shown as they come.
        return res.json().then(function (p) { say(p.detail || p.title || t.failed); },
          function () { say(t.failedStatus(res.status)); });
      }, function () { button.disabled = false; say(t.unreachable); });
  });
})();
