// `npm run e2e`: rebuilds the widgets if their sources are newer than the embedded build, builds
// the portal and keycloaktestd once, then runs every *.e2e.mjs file with node's test runner.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { E2E_DIR, FRONTEND, REPO, buildBinaries, chromiumSkip } from './harness.mjs';

const started = Date.now();

function newest(path) {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  let m = 0;
  for (const e of readdirSync(path)) if (e !== 'test') m = Math.max(m, newest(join(path, e)));
  return m;
}

// The binary embeds internal/webui/dist. CI runs `make check` (which builds it) first, so there it
// is never stale; locally this saves testing yesterday's widgets by mistake.
function ensureWidgetBuild() {
  const built = newest(join(REPO, 'internal/webui/dist/ui/widgets.js'));
  const sources = Math.max(
    newest(join(FRONTEND, 'src')),
    newest(join(FRONTEND, 'public')),
    newest(join(FRONTEND, 'index.html')),
    newest(join(FRONTEND, 'vite.config.ts')),
    newest(join(FRONTEND, 'package-lock.json')),
  );
  if (built >= sources) return;
  console.log('e2e: the widget sources are newer than internal/webui/dist: npm run build');
  const r = spawnSync('npm', ['run', 'build'], { cwd: FRONTEND, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build failed');
}

const files = readdirSync(E2E_DIR)
  .filter((f) => f.endsWith('.e2e.mjs'))
  .sort()
  .map((f) => join(E2E_DIR, f));

let binDir;
let status = 1;
try {
  const env = { ...process.env };
  if (!chromiumSkip()) {
    ensureWidgetBuild();
    binDir = await mkdtemp(join(tmpdir(), 'cp-e2e-bin-'));
    buildBinaries(binDir);
    env.E2E_BIN_DIR = binDir;
    console.log(`e2e: built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  // The scenarios use separate servers, ports and browsers, so they run side by side.
  const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...process.argv.slice(2), ...files], { cwd: FRONTEND, env, stdio: 'inherit' });
  status = r.status ?? 1;
} catch (err) {
  console.error(`e2e: ${err.message}`);
} finally {
  if (binDir) await rm(binDir, { recursive: true, force: true });
}
console.log(`e2e: ${status === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${join(E2E_DIR, 'artifacts')}`);
process.exit(status);
