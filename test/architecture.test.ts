/**
 * The house rules of lib/ (issue 12), checked on the source itself:
 *  - no import circle anywhere in lib/ (static imports, type-only imports, re-exports and dynamic
 *    import() of a literal path all count);
 *  - no module-level mutable state in lib/mark: no top-level `let`/`var`, no top-level mutable
 *    container (Map, Set, WeakMap, array or object literal that is not frozen or readonly), so
 *    every scan's state lives in objects the caller can see (Workspace, DetectorCache, ...).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const t = suite('architecture');
const root = fileURLToPath(new URL('..', import.meta.url));

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
}

/** Local modules a file imports (resolved .js → .ts paths). */
function importsOf(file: string): string[] {
  const sf = parse(file);
  const specs: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) specs.push(node.moduleSpecifier.text);
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) specs.push(node.arguments[0].text);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return specs.filter((s) => s.startsWith('.')).map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts')));
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function circles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const strong = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(comp);
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) strong(v);
  return out;
}

t('no import circle in lib/', () => {
  const files = sources(join(root, 'lib'));
  const graph = new Map(files.map((f) => [f, importsOf(f)]));
  const found = circles(graph).map((c) => c.map((f) => relative(root, f)).sort().join(' <-> '));
  assert.equal(found, []);
});

t('the circle check finds a circle when there is one', () => {
  assert.equal(circles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]])).map((c) => c.sort()), [['a', 'b', 'c']]);
  assert.equal(circles(new Map([['a', ['b']], ['b', []]])), []);
});

/** Top-level declarations of a file that hold mutable state: `let`/`var`, and `const` bound to a mutable container. */
function mutableState(file: string, text = readFileSync(file, 'utf8')): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const found: string[] = [];
  const mutableInit = (e: ts.Expression | undefined): boolean => {
    if (!e) return false;
    while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e)) {
      // `[...] as const` / `{...} as const` are read-only to the type checker.
      if (ts.isAsExpression(e) && ts.isTypeReferenceNode(e.type) && e.type.typeName.getText(sf) === 'const') return false;
      e = e.expression;
    }
    if (ts.isArrayLiteralExpression(e) || ts.isObjectLiteralExpression(e)) return true;
    if (ts.isNewExpression(e)) return /^(Map|Set|WeakMap|WeakSet|Array)$/.test(e.expression.getText(sf));
    return false;
  };
  for (const st of sf.statements) {
    if (!ts.isVariableStatement(st)) continue;
    const flags = st.declarationList.flags;
    for (const d of st.declarationList.declarations) {
      const name = d.name.getText(sf);
      if (!(flags & ts.NodeFlags.Const)) found.push(`${relative(root, file)}: ${flags & ts.NodeFlags.Let ? 'let' : 'var'} ${name}`);
      else if (mutableInit(d.initializer) && !(d.type && /^readonly |^Readonly</.test(d.type.getText(sf)))) found.push(`${relative(root, file)}: const ${name} (mutable container)`);
    }
  }
  return found;
}

t('no module-level mutable state in lib/mark', () => {
  assert.equal(sources(join(root, 'lib', 'mark')).flatMap((f) => mutableState(f)), []);
});

t('the state check finds module-level state', () => {
  const text = 'let a = 1;\nconst b = new Map();\nconst c = [1];\nconst d = Object.freeze([1]);\nconst e = [1] as const;\nconst f: readonly number[] = [1];\nconst g = new Float64Array(3);\n';
  assert.equal(
    mutableState(join(root, 'x.ts'), text).map((x) => x.split(': ')[1]),
    ['let a', 'const b (mutable container)', 'const c (mutable container)'],
  );
});

t.run();
