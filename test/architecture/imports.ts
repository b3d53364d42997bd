import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';

/**
 * The import graph of Joule's production code, read from the sources: every relative
 * `import ... from`, `export ... from`, `import '...'` and `import('...')` (type
 * positions included: a type import is a dependency of the design even when it erases).
 * A small lexer skips comments, strings and regular expressions, so an example in a
 * comment or a string is never taken for an import.
 */

export interface ImportSite {
  specifier: string;
  line: number;
  /** `export ... from`: the file passes the other module's names on as its own. */
  reexport: boolean;
}

/** One relative import between two files, paths relative to the repository root (posix). */
export interface ImportEdge {
  from: string;
  to: string;
  specifier: string;
  line: number;
  reexport: boolean;
}

type Token = { kind: 'name' | 'string' | 'punct' | 'other'; text: string; line: number };

/** Keywords after which a `/` starts a regular expression, not a division. */
const REGEX_AFTER_NAME = new Set(['return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await']);

function tokens(source: string): Token[] {
  const out: Token[] = [];
  const templateDepth: number[] = []; // brace depth at each `${` of an open template literal
  let braces = 0;
  let line = 1;
  let i = 0;
  const n = source.length;
  const regexAllowed = (): boolean => {
    const last = out[out.length - 1];
    if (last === undefined) return true;
    if (last.kind === 'name') return REGEX_AFTER_NAME.has(last.text);
    if (last.kind === 'string' || last.kind === 'other') return false;
    return !(last.text === ')' || last.text === ']' || last.text === '}');
  };
  // Reads a template literal body from i (just after ` or after the } closing a ${...}).
  const templateBody = (): void => {
    while (i < n) {
      const c = source[i];
      if (c === '\\') {
        i += 2;
        continue;
      }
      if (c === '\n') line++;
      if (c === '`') {
        i++;
        out.push({ kind: 'other', text: 'template', line });
        return;
      }
      if (c === '$' && source[i + 1] === '{') {
        i += 2;
        templateDepth.push(braces);
        braces++;
        out.push({ kind: 'punct', text: '${', line });
        return;
      }
      i++;
    }
  };
  while (i < n) {
    const c = source[i] as string;
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '/' && source[i + 1] === '/') {
      while (i < n && source[i] !== '\n') i++;
    } else if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      for (let k = i; k < stop; k++) if (source[k] === '\n') line++;
      i = stop;
    } else if (c === "'" || c === '"') {
      const start = line;
      let text = '';
      i++;
      while (i < n && source[i] !== c && source[i] !== '\n') {
        if (source[i] === '\\') {
          text += source[i + 1] ?? '';
          i += 2;
        } else {
          text += source[i];
          i++;
        }
      }
      i++;
      out.push({ kind: 'string', text, line: start });
    } else if (c === '`') {
      i++;
      templateBody();
    } else if (c === '/' && regexAllowed()) {
      let inClass = false;
      i++;
      while (i < n && source[i] !== '\n') {
        const r = source[i];
        if (r === '\\') i++;
        else if (r === '[') inClass = true;
        else if (r === ']') inClass = false;
        else if (r === '/' && !inClass) break;
        i++;
      }
      i++;
      while (i < n && /[a-z]/i.test(source[i] as string)) i++;
      out.push({ kind: 'other', text: 'regex', line });
    } else if (/[A-Za-z_$]/.test(c)) {
      let j = i + 1;
      while (j < n && /[\w$]/.test(source[j] as string)) j++;
      out.push({ kind: 'name', text: source.slice(i, j), line });
      i = j;
    } else if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (j < n && /[\w.]/.test(source[j] as string)) j++;
      out.push({ kind: 'other', text: source.slice(i, j), line });
      i = j;
    } else if (c === '{') {
      braces++;
      out.push({ kind: 'punct', text: c, line });
      i++;
    } else if (c === '}') {
      braces--;
      i++;
      if (templateDepth.length > 0 && templateDepth[templateDepth.length - 1] === braces) {
        templateDepth.pop();
        templateBody();
      } else {
        out.push({ kind: 'punct', text: c, line });
      }
    } else {
      out.push({ kind: 'punct', text: c, line });
      i++;
    }
  }
  return out;
}

/** `import` or `export`: the keyword that opens the declaration whose `from` is at index k. */
function statementKeyword(toks: readonly Token[], k: number): string | undefined {
  for (let j = k - 1; j >= 0; j--) {
    const t = toks[j] as Token;
    if (t.kind === 'name' && (t.text === 'import' || t.text === 'export')) return t.text;
  }
  return undefined;
}

/** Every module specifier the source imports or re-exports, in source order. */
export function importSites(source: string): ImportSite[] {
  const toks = tokens(source);
  const sites: ImportSite[] = [];
  for (let k = 0; k < toks.length; k++) {
    const t = toks[k] as Token;
    const next = toks[k + 1];
    const prev = toks[k - 1];
    if (t.kind !== 'name' || next === undefined) continue;
    const memberAccess = prev !== undefined && prev.kind === 'punct' && prev.text === '.';
    if (t.text === 'from' && next.kind === 'string' && !memberAccess) {
      sites.push({ specifier: next.text, line: next.line, reexport: statementKeyword(toks, k) === 'export' });
    } else if (t.text === 'import' && !memberAccess && next.kind === 'string') {
      sites.push({ specifier: next.text, line: next.line, reexport: false });
    } else if (t.text === 'import' && !memberAccess && next.text === '(' && toks[k + 2]?.kind === 'string') {
      const spec = toks[k + 2] as Token;
      sites.push({ specifier: spec.text, line: spec.line, reexport: false });
    }
  }
  return sites;
}

/** Folders that hold no production code: tests, their fixtures, and what is not ours. */
const SKIPPED_FOLDERS = new Set(['node_modules', 'test', 'tests', 'testing', 'benchmarks']);

/** Test code: where production code must never reach. */
export function isTestPath(path: string): boolean {
  const parts = path.split('/');
  return parts[0] === 'test' || parts[0] === 'benchmarks' || parts.includes('testing') || path.endsWith('.test.ts');
}

/** The production .ts files under root (repository-relative posix paths, sorted); root-level files are configuration. */
export function productionFiles(root: string): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_FOLDERS.has(entry.name)) walk(full);
      } else if (dir !== root && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts')) {
        files.push(relative(root, full).split(sep).join('/'));
      }
    }
  };
  walk(root);
  return files.sort();
}

/** Relative imports of the given files; a specifier that leaves the repository resolves to a path starting with `../`. */
export function importEdges(sources: ReadonlyMap<string, string>): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const [from, source] of sources) {
    for (const site of importSites(source)) {
      if (!site.specifier.startsWith('./') && !site.specifier.startsWith('../')) continue;
      const to = posix.normalize(posix.join(posix.dirname(from), site.specifier));
      edges.push({ from, to, specifier: site.specifier, line: site.line, reexport: site.reexport });
    }
  }
  return edges;
}

/** Reads the production files under root. */
export function readProduction(root: string): Map<string, string> {
  const sources = new Map<string, string>();
  for (const file of productionFiles(root)) sources.set(file, readFileSync(join(root, ...file.split('/')), 'utf8'));
  return sources;
}

/**
 * Import cycles: one per strongly connected component of more than one file (or a file
 * importing itself), given as a closed path `a -> b -> ... -> a` through that component.
 */
export function findCycles(edges: readonly ImportEdge[]): string[][] {
  const graph = new Map<string, string[]>();
  for (const e of edges) {
    const list = graph.get(e.from) ?? [];
    if (!list.includes(e.to)) list.push(e.to);
    graph.set(e.from, list);
    if (!graph.has(e.to)) graph.set(e.to, []);
  }
  for (const list of graph.values()) list.sort();
  // Tarjan's strongly connected components, iterative (no recursion limit on deep chains).
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  for (const start of [...graph.keys()].sort()) {
    if (index.has(start)) continue;
    const work: { node: string; next: number }[] = [{ node: start, next: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { node: string; next: number };
      const succ = graph.get(frame.node) as string[];
      if (frame.next < succ.length) {
        const w = succ[frame.next++] as string;
        if (!index.has(w)) {
          index.set(w, counter);
          low.set(w, counter++);
          stack.push(w);
          onStack.add(w);
          work.push({ node: w, next: 0 });
        } else if (onStack.has(w)) {
          low.set(frame.node, Math.min(low.get(frame.node) as number, index.get(w) as number));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low.set(parent.node, Math.min(low.get(parent.node) as number, low.get(frame.node) as number));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let w: string;
        do {
          w = stack.pop() as string;
          onStack.delete(w);
          component.push(w);
        } while (w !== frame.node);
        const selfLoop = component.length === 1 && succ.includes(frame.node);
        if (component.length > 1 || selfLoop) components.push(component.sort());
      }
    }
  }
  return components.map((component) => cyclePath(component, graph)).sort((a, b) => (a[0] as string).localeCompare(b[0] as string));
}

/** A shortest closed path from the component's first file back to itself, inside the component. */
function cyclePath(component: string[], graph: ReadonlyMap<string, readonly string[]>): string[] {
  const members = new Set(component);
  const start = component[0] as string;
  const previous = new Map<string, string>();
  const queue = [start];
  for (let q = 0; q < queue.length; q++) {
    const v = queue[q] as string;
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let x: string | undefined = v; x !== undefined && x !== start; x = previous.get(x)) path.splice(1, 0, x);
        path.push(start);
        return path;
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}
