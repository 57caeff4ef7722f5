// Renders the portal's own spec with the bundled Swagger UI (swagger-ui-dist 5.35.0, Apache-2.0):
// no CDN, so the reference works offline and behind strict firewalls.
window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "../openapi.yaml",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: false,
  });
};
