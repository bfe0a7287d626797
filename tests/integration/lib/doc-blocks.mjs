// Code blocks of README.md and docs/*.md, for tests that run them as the documents show them: a
// block is found by what it contains, and must be the only one that does, so that a test cannot
// silently run a copy while the document changes.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
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

// README.md and every docs/*.md, as paths from the repository's root.
export function documents() {
  const docs = readdirSync(fileURLToPath(new URL('docs/', ROOT))).filter((f) => f.endsWith('.md')).sort();
  return ['README.md', ...docs.map((f) => `docs/${f}`)];
}

// Every fenced block of `doc`, in any language or none, indented (in a list) or not:
// {doc, line, language, code, marker}. `marker` is the HTML comment on the line just before the
// fence, `<!-- KIND: TEXT -->`, as {kind, text}, or null (docs-blocks.test.mjs reads it).
export function fencedBlocks(doc) {
  const lines = readFileSync(fileURLToPath(new URL(doc, ROOT)), 'utf8').split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i].match(/^(\s*)```(\S*)\s*$/);
    if (!open) continue;
    const [, indent, language] = open;
    let end = i + 1;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end])) end++;
    const code = lines.slice(i + 1, end).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l)).join('\n') + '\n';
    const comment = i > 0 && lines[i - 1].match(/^\s*<!-- (\w+): (.*) -->\s*$/);
    blocks.push({ doc, line: i + 1, language, code, marker: comment ? { kind: comment[1], text: comment[2] } : null });
    i = end;
  }
  return blocks;
}
