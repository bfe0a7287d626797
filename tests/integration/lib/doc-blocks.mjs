// Code blocks of README.md and docs/*.md, for tests that run them as the documents show them: a
// block is found by what it contains, and must be the only one that does, so that a test cannot
// silently run a copy while the document changes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = new URL('../../../', import.meta.url);

// Every ```language block of `doc` (a path from the repository's root): {doc, line, code}.
export function codeBlocks(doc, language = 'ruby') {
  const text = readFileSync(fileURLToPath(new URL(doc, ROOT)), 'utf8');
  const blocks = [];
  for (const m of text.matchAll(new RegExp('```' + language + '\\n([^]*?)```', 'g'))) {
    blocks.push({ doc, line: text.slice(0, m.index).split('\n').length, code: m[1] });
  }
  return blocks;
}

// The one ```language block of `doc` whose code matches `pattern`.
export function codeBlock(doc, pattern, language = 'ruby') {
  const found = codeBlocks(doc, language).filter((b) => pattern.test(b.code));
  assert.equal(found.length, 1, `${doc}: one ${language} block matching ${pattern}, found ${found.length}`);
  return found[0].code;
}
