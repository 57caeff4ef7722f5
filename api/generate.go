// Package api is generated from openapi.yaml by oapi-codegen: the request and response types,
// the Echo strict-server interface and the embedded spec; the widgets' TypeScript client
// (frontend/src/api/schema.d.ts, which needs `npm ci` in frontend/) is generated with it. Run
// `go generate ./...` after changing the spec; never edit api.gen.go or openapi.yaml in this
// folder by hand.
package api

import _ "embed"

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../openapi.yaml
//go:generate cp ../openapi.yaml openapi.yaml
//go:generate sh -c "cd ../frontend && npm run --silent gen"

// SpecYAML is openapi.yaml as written, served at /api/v1/openapi.yaml.
//
//go:embed openapi.yaml
var SpecYAML []byte
