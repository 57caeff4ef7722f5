// keycloak-js's third-party cookie check, step 2: report to the embedding page.
(function () {
  var supported = document.cookie.indexOf('PORTAL_3P_COOKIE_CHECK=supported') !== -1;
  if (supported) {
    var secure = window.location.protocol === 'https:' ? '; Secure' : '';
    document.cookie = 'PORTAL_3P_COOKIE_CHECK=; Max-Age=0; SameSite=Lax' + secure;
  }
  // keycloak-js accepts the message from its iframe only; the answer is no secret.
  window.parent.postMessage(supported ? 'supported' : 'unsupported', '*');
})();
