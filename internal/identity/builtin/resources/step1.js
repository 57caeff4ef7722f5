// keycloak-js's third-party cookie check, step 1: set a test cookie the way the session
// cookie is set (SameSite=Lax), then let step 2 see whether this framed page can read it.
// When the page is framed cross-site it cannot, keycloak-js learns "unsupported" and checks
// the SSO session by a top-level redirect instead of a hidden iframe.
(function () {
  var secure = window.location.protocol === 'https:' ? '; Secure' : '';
  document.cookie = 'PORTAL_3P_COOKIE_CHECK=supported; Max-Age=60; SameSite=Lax' + secure;
  window.location.replace('step2.html');
})();
