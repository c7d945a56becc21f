import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { resolveFfmpeg, runFfmpeg } from '../../lib/audio/ffmpeg.js';
import { ToolError } from '../../lib/errors.js';

const t = suite('audio/ffmpeg');

t('resolution order: EARMARK_FFMPEG wins, then packaged binaries, then PATH', () => {
  const packaged = resolveFfmpeg({ PATH: '' });
  assert.ok(['ffmpeg-static', '@ffmpeg-installer/ffmpeg'].includes(packaged.source), packaged.source);
  const explicit = resolveFfmpeg({ EARMARK_FFMPEG: packaged.path, PATH: '' });
  assert.is(explicit.source, 'EARMARK_FFMPEG');
  assert.throws(() => resolveFfmpeg({ EARMARK_FFMPEG: '/no/such/ffmpeg' }), (e: unknown) => e instanceof ToolError && /EARMARK_FFMPEG/.test((e as Error).message));
});

t('the packaged binary has the codecs the channel simulator needs', async () => {
  const { stdout } = await runFfmpeg(['-loglevel', 'quiet', '-encoders']);
  const text = stdout.toString('utf8');
  for (const enc of ['libopencore_amrnb', 'pcm_mulaw', 'pcm_alaw', 'libopus', 'aac', 'libmp3lame', 'g722', 'flac']) {
    assert.ok(new RegExp(`\\b${enc}\\b`).test(text), `missing encoder ${enc}`);
  }
});

t('a failing run rejects with one line naming the input', async () => {
  try {
    await runFfmpeg(['-i', '/no/such/input.mp3', '-f', 'null', '-'], { inputName: 'input.mp3' });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ToolError);
    assert.match((err as Error).message, /^input\.mp3: ffmpeg failed: /);
    assert.not.match((err as Error).message, /\n/);
  }
});

t.run();
