import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as api from '../lib/index.js';

const t = suite('public API');
const root = fileURLToPath(new URL('..', import.meta.url));

// The package root's runtime exports, pinned: user-facing entry points only (embed, detect, scan,
// keys, payload, reports and renderers, decode and probe). Adding one is a deliberate edit here;
// removing or renaming one breaks users and must never happen silently. Everything else lives
// behind the subpath exports below.
const EXPECTED = [
  'ContentRefError',
  'ContentReferenceWriter',
  'DetectorCache',
  'Embedder',
  'InputError',
  'LEG_KINDS',
  'PROFILE_V1',
  'PROFILE_V2',
  'REPORT_SCHEMA',
  'TOOL_NAME',
  'ToolError',
  'VERSION',
  'checkToken',
  'contentReference',
  'contentReferenceDigest',
  'decodeFile',
  'decodePayload',
  'decodeStream',
  'detect',
  'embedAudio',
  'generateKey',
  'isUserFacingError',
  'keyFromBytes',
  'parseContentReference',
  'parseKey',
  'payloadId',
  'probeFile',
  'renderReportHtml',
  'renderReportJson',
  'renderReportText',
  'scanFile',
  'serializeContentReference',
  'serializeKey',
];

const SUBPATHS = ['audio', 'channel', 'registry', 'mark', 'trace', 'edits', 'report', 'dsp'];

t('lib/index.ts exports exactly the pinned names', () => {
  assert.equal(Object.keys(api).sort(), [...EXPECTED].sort());
});

t('package.json exports: the root and every subpath, each with its types, from a source that exists and loads', async () => {
  const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { exports: Record<string, string | { types: string; default: string }> };
  const keys = Object.keys(pkg.exports).filter((k) => k !== './package.json');
  assert.equal(keys.sort(), ['.', ...SUBPATHS.map((s) => `./${s}`)].sort());
  for (const k of keys) {
    const e = pkg.exports[k] as { types: string; default: string };
    assert.ok(e.default.startsWith('./dist/lib/') && e.default.endsWith('.js'), `${k}: ${e.default}`);
    assert.is(e.types, e.default.replace(/\.js$/, '.d.ts'), `${k}: types`);
    const source = `${root}/${e.default.replace('./dist/', '').replace(/\.js$/, '.ts')}`;
    assert.ok(existsSync(source), `${k}: ${source} exists`);
    const mod = (await import(pathToFileURL(source).href)) as Record<string, unknown>;
    assert.ok(Object.keys(mod).length > 0, `${k} exports something`);
  }
});

/** Whether importing `entry` (a TS source) in a fresh process loads the pg driver. */
function loadsPg(entry: string): boolean {
  const code = `await import(${JSON.stringify(pathToFileURL(`${root}/${entry}`).href)});
const { createRequire } = await import('node:module');
const cache = createRequire(import.meta.url).cache;
console.log(Object.keys(cache).some((p) => /[\\\\/]node_modules[\\\\/]pg[\\\\/]/.test(p)) ? 'pg' : 'no-pg');`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`import of ${entry} failed: ${r.stderr}`);
  return r.stdout.trim() === 'pg';
}

t("import 'earmark' does not load the PostgreSQL driver; earmark/registry does", () => {
  assert.is(loadsPg('lib/index.ts'), false, 'the root loads pg');
  assert.is(loadsPg('lib/registry/index.ts'), true, 'the check sees pg when it is loaded');
});

t.run();
