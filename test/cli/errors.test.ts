import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { errorLine, ExitCode, exitCodeForError } from '../../cli/io.js';
import { InputError, ToolError } from '../../lib/errors.js';

const t = suite('cli/io');

t('input and tool errors map to exit 2 with one line naming the input', () => {
  const err = new InputError('clip.wav', 'not a RIFF/WAVE file');
  assert.is(exitCodeForError(err), ExitCode.usage);
  assert.is(errorLine(err), 'earmark: clip.wav: not a RIFF/WAVE file');
  assert.is(exitCodeForError(new ToolError('no ffmpeg')), ExitCode.usage);
});

t('other errors are internal (exit 3) and print one line', () => {
  const err = new Error('boom\nsecond line');
  assert.is(exitCodeForError(err), ExitCode.internal);
  assert.not.ok(errorLine(err).includes('\n'));
  assert.ok(errorLine(err).includes('internal error: boom'));
});

t.run();
