import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { commandModules } from '../../cli/commands/index.js';
import { encodeWav } from '../../lib/audio/wav.js';
import { VERSION } from '../../lib/version.js';
import { cli, cliProcess } from '../helpers/cli.js';
import { tempDir, tone } from '../helpers/tmp.js';

const t = suite('cli');
const tmp = tempDir();
t.after(() => tmp.cleanup());

t('--help lists the commands and exits 0; --version matches package.json', () => {
  const help = cliProcess(['--help']);
  assert.is(help.code, 0);
  assert.match(help.stdout, /earmark info <file>/);
  const version = cliProcess(['--version']);
  assert.is(version.code, 0);
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.is(version.stdout.trim(), pkg.version);
  assert.is(VERSION, pkg.version);
});

t('every command file is registered', () => {
  const dir = new URL('../../cli/commands/', import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'index.ts');
  assert.is(commandModules.length, files.length, `files: ${files.join(', ')}`);
});

t('unknown command and missing arguments: exit 2, one line on stderr', async () => {
  for (const argv of [['bogus'], [], ['info']]) {
    const r = await cli(argv);
    assert.is(r.code, 2, argv.join(' '));
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^earmark: /);
  }
});

t('info prints text and JSON; bad file exits 2 naming it', async () => {
  const path = tmp.path('a.wav');
  writeFileSync(path, encodeWav({ channels: [tone(440, 8000, 1)], sampleRate: 8000 }));
  const text = await cli(['info', path]);
  assert.is(text.code, 0, text.stderr);
  assert.match(text.stdout, /Sample rate\s+8000 Hz/);
  const json = await cli(['info', path, '--json']);
  const parsed = JSON.parse(json.stdout) as { durationSec: number; sha256: string };
  assert.is(parsed.durationSec, 1);
  const bad = await cli(['info', tmp.path('nope.wav')]);
  assert.is(bad.code, 2);
  assert.is(bad.stderr, `earmark: ${tmp.path('nope.wav')}: no such file\n`);
});

t('a missing ffmpeg is a one-line error with a fix, exit 2', () => {
  const r = cliProcess(['info', '/usr/share/doc'], { ...process.env, EARMARK_FFMPEG: '/nonexistent/ffmpeg' });
  // A directory fails before ffmpeg is needed; use a real non-WAV file to reach ffmpeg.
  assert.is(r.code, 2);
  const path = tmp.path('x.mp3');
  writeFileSync(path, 'ID3 not really an mp3 but ffmpeg would be asked');
  const r2 = cliProcess(['info', path], { ...process.env, EARMARK_FFMPEG: '/nonexistent/ffmpeg' });
  assert.is(r2.code, 2);
  assert.is(r2.stderr.trim().split('\n').length, 1, r2.stderr);
  assert.match(r2.stderr, /EARMARK_FFMPEG=\/nonexistent\/ffmpeg is not an executable file/);
});

t.run();
